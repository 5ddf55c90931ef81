"""Raw network probes; exit 0 only when the far end answered as expected.

Usage:
  net_probe.py dns-udp SERVER NAME   an A answer came back over UDP 53
  net_probe.py dns-tcp SERVER NAME   an A answer came back over TCP 53
  net_probe.py greet HOST PORT TEXT  a TCP peer sent TEXT
  net_probe.py udp-echo HOST PORT    a UDP datagram came back
  net_probe.py local-server          a server bound on 127.0.0.1 by another
                                     process answers a client
"""
import socket
import struct
import subprocess
import sys

TIMEOUT = 3


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def dns_query(name):
    header = struct.pack(">HHHHHH", 0x5AFE, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return header + labels + b"\0" + struct.pack(">HH", 1, 1)


def has_answer(reply):
    # Answer count > 0 and no error code: the server resolved the name.
    return len(reply) >= 12 and reply[3] & 0x0F == 0 and reply[7] > 0


def dns_udp(server, name):
    with socket.socket(family(server), socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        s.sendto(dns_query(name), (server, 53))
        return has_answer(s.recvfrom(4096)[0])


def dns_tcp(server, name):
    with socket.create_connection((server, 53), TIMEOUT) as s:
        query = dns_query(name)
        s.sendall(struct.pack(">H", len(query)) + query)
        return has_answer(s.recv(4096)[2:])


def greet(host, port, text):
    with socket.create_connection((host, int(port)), TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        return s.recv(256).decode(errors="replace").strip() == text


def udp_echo(host, port):
    with socket.socket(family(host), socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        s.sendto(b"fsbxt-echo", (host, int(port)))
        return s.recvfrom(256)[0] == b"fsbxt-echo"


SERVER = """
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(5)
c, _ = s.accept()
c.sendall(b"fsbxt-local")
c.close()
"""


def local_server():
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        return greet("127.0.0.1", port, "fsbxt-local")
    finally:
        server.kill()
        server.wait()


def main():
    probes = {
        "dns-udp": dns_udp,
        "dns-tcp": dns_tcp,
        "greet": greet,
        "udp-echo": udp_echo,
        "local-server": local_server,
    }
    try:
        ok = probes[sys.argv[1]](*sys.argv[2:])
    except Exception as error:  # any failure is a refusal, with its reason
        print(f"{sys.argv[1]}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"{sys.argv[1]}: {'answered' if ok else 'wrong answer'}", file=sys.stderr)
    return 0 if ok else 1


sys.exit(main())
