"""Services on the runner that no sandbox may reach (escape suite).

Usage: runner-services.py PORT SOCKETS ABSTRACT MARKER
Serves, until stdin closes (or 15 minutes pass):
  HTTP on every address of the runner's namespace, PORT (IPv4 and IPv6,
    loopback included): "fsbxt-host=runner-service";
  a Unix socket at each path of SOCKETS (comma-separated) and an abstract
    one named ABSTRACT:
    "fsbxt-unix runner-service".
MARKER only names the process, so probes can find it in /proc.
Prints "ready" once everything listens.
"""
import os
import selectors
import signal
import socket
import sys

BODY = b"fsbxt-host=runner-service\n"


def listeners(port, paths, abstract):
    tcp = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    tcp.bind(("::", port))
    found = [(tcp, "http")]
    for address in paths.split(",") + ["\0" + abstract]:
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(address)
        found.append((unix, "unix"))
    for sock, _ in found:
        sock.listen(16)
    return found


def answer(conn, kind):
    conn.settimeout(2)
    try:
        if kind == "http":
            conn.recv(4096)
            conn.sendall(
                b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
                + BODY
            )
        else:
            conn.sendall(b"fsbxt-unix runner-service\n")
    except OSError:
        pass
    finally:
        conn.close()


def main():
    port, paths, abstract, _marker = sys.argv[1:5]
    signal.alarm(900)
    selector = selectors.DefaultSelector()
    for sock, kind in listeners(int(port), paths, abstract):
        selector.register(sock, selectors.EVENT_READ, kind)
    selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            if key.data == "stdin":
                if not os.read(sys.stdin.fileno(), 4096):
                    return 0
                continue
            conn, _ = key.fileobj.accept()
            answer(conn, key.data)


sys.exit(main())
