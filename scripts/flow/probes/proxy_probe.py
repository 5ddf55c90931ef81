"""Ask the sandbox's proxy for a raw, possibly malformed host name.

Usage: proxy_probe.py MODE HOST PORT LABEL
  MODE  http    GET http://HOST:PORT/ through the HTTP proxy (absolute URI)
        connect CONNECT HOST:PORT through the HTTP proxy, then GET /
        socks   SOCKS5 CONNECT to the domain HOST, then GET /
        keepalive  GET http://gitlab.test/ through the HTTP proxy, then on the
                same connection GET http://HOST:PORT/ (is every request judged?)
HOST is a Python string literal body, so tricks such as "\\x00" or "\\u0131"
reach the proxy byte for byte. Exit 0 only if the body names LABEL.
Without a proxy in the environment, HOST is resolved and dialled directly.
"""
import base64
import os
import socket
import struct
import sys
import urllib.parse

TIMEOUT = 5


def proxy_url(*names):
    for name in names:
        value = os.environ.get(name)
        if value:
            return urllib.parse.urlsplit(value)
    return None


def auth(url):
    user = urllib.parse.unquote(url.username or "")
    password = urllib.parse.unquote(url.password or "")
    return user, password


def read_all(s):
    data = b""
    try:
        while len(data) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data.decode("utf-8", "replace")


def request(host_header):
    return (
        f"GET / HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n"
    ).encode("utf-8", "surrogateescape")


def via_http(url, host, port):
    s = socket.create_connection((url.hostname, url.port or 80), TIMEOUT)
    s.settimeout(TIMEOUT)
    user, password = auth(url)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    line = f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
    s.sendall(
        (line + f"Proxy-Authorization: Basic {token}\r\nConnection: close\r\n\r\n")
        .encode("utf-8", "surrogateescape")
    )
    return read_all(s)


def via_connect(url, host, port):
    s = socket.create_connection((url.hostname, url.port or 80), TIMEOUT)
    s.settimeout(TIMEOUT)
    user, password = auth(url)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    s.sendall(
        (
            f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Proxy-Authorization: Basic {token}\r\n\r\n"
        ).encode("utf-8", "surrogateescape")
    )
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 8192:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    if not head.split(b"\r\n")[0].split(b" ")[1:2] == [b"200"]:
        return head.decode("utf-8", "replace")
    s.sendall(request(host))
    return read_all(s)


def via_keepalive(url, host, port):
    s = socket.create_connection((url.hostname, url.port or 80), TIMEOUT)
    s.settimeout(TIMEOUT)
    user, password = auth(url)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    first = (
        "GET http://gitlab.test/ HTTP/1.1\r\nHost: gitlab.test\r\n"
        f"Proxy-Authorization: Basic {token}\r\n\r\n"
    )
    second = (
        f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Proxy-Authorization: Basic {token}\r\nConnection: close\r\n\r\n"
    )
    s.sendall((first + second).encode("utf-8", "surrogateescape"))
    body = read_all(s)
    # Only what follows the first answer counts.
    return body.split("fsbxt-host=gitlab", 1)[-1]


def via_socks(url, host, port):
    s = socket.create_connection((url.hostname, url.port or 1080), TIMEOUT)
    s.settimeout(TIMEOUT)
    user, password = auth(url)
    s.sendall(b"\x05\x02\x00\x02")
    method = s.recv(2)
    if method[1:2] == b"\x02":
        u, p = user.encode(), password.encode()
        s.sendall(b"\x01" + bytes([len(u)]) + u + bytes([len(p)]) + p)
        if s.recv(2)[1:2] != b"\x00":
            return "socks: authentication refused"
    name = host.encode("utf-8", "surrogateescape")
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(">H", port))
    reply = s.recv(262)
    if reply[1:2] != b"\x00":
        return f"socks: refused with code {reply[1:2].hex()}"
    s.sendall(request(host))
    return read_all(s)


def direct(host, port):
    with socket.create_connection((host, port), TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        s.sendall(request(host))
        return read_all(s)


def main():
    mode, raw, port, label = sys.argv[1:5]
    host = raw.encode("ascii", "backslashreplace").decode("unicode_escape")
    port = int(port)
    http = proxy_url("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
    socks = proxy_url("FTP_PROXY", "ftp_proxy")
    try:
        if mode == "socks" and socks:
            body = via_socks(socks, host, port)
        elif mode in ("http", "connect", "keepalive") and http:
            via = {"http": via_http, "connect": via_connect}.get(mode, via_keepalive)
            body = via(http, host, port)
        else:
            body = direct(host, port)
    except Exception as error:  # any failure is a refusal, with its reason
        print(f"{mode} {raw!r}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    first = [l for l in body.splitlines() if l][:3]
    print(f"{mode} {raw!r}: {first}", file=sys.stderr)
    return 0 if f"fsbxt-host={label}" in body.splitlines() else 1


sys.exit(main())
