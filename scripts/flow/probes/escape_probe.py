"""Escape-suite probes; exit 0 only when the attempt got through.

Usage:
  escape_probe.py icmp HOST            an ICMP echo reply (ping socket, else raw)
  escape_probe.py raw-icmp HOST        an ICMP echo reply through a SOCK_RAW socket
  escape_probe.py packet               an AF_PACKET socket bound to a real interface
  escape_probe.py unix PATH            a Unix socket server greeted us
  escape_probe.py abstract NAME        an abstract Unix socket server greeted us
  escape_probe.py dns-socks SERVER NAME  DNS over TCP through the SOCKS proxy
  escape_probe.py gateways PORT        HTTP from a gateway or on-link neighbour
  escape_probe.py tiocsti              a character pushed into a terminal's input
  escape_probe.py proc MODE MARKER [ARG]  act on processes whose argv has MARKER:
      environ NEEDLE   its environment shows NEEDLE
      root PATH NEEDLE its root directory shows PATH containing NEEDLE
      signal           signal 0 is delivered (it could be killed)
      ptrace           PTRACE_SEIZE succeeds (it could be controlled)
      pids             print their pids (always exits 1)
  escape_probe.py env-scan NEEDLE...   a visible process's environ or cmdline shows NEEDLE
"""
import ctypes
import os
import socket
import struct
import sys
import urllib.parse

TIMEOUT = 3


def checksum(data):
    data += b"\0" * (len(data) % 2)
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF


def echo_request(ident):
    body = b"fsbxt-icmp"
    head = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
    return struct.pack("!BBHHH", 8, 0, checksum(head + body), ident, 1) + body


def icmp(host, kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP) as s:
        s.settimeout(TIMEOUT)
        s.sendto(echo_request(os.getpid() & 0xFFFF), (host, 0))
        while True:
            reply, peer = s.recvfrom(2048)
            # A raw socket also sees the IP header; an echo reply is type 0.
            icmp_part = reply[(reply[0] & 0x0F) * 4 :] if kind == socket.SOCK_RAW else reply
            if peer[0] == host and icmp_part[:1] == b"\0":
                return True


def any_icmp(host):
    # An unprivileged ping socket where ping_group_range allows it, else raw.
    try:
        return icmp(host)
    except PermissionError as error:
        print(f"ping socket: {error}", file=sys.stderr)
        return icmp(host, socket.SOCK_RAW)


def packet():
    names = [n for _, n in socket.if_nameindex() if n != "lo"]
    if not names:
        raise OSError("no interface but lo")
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)) as s:
        s.bind((names[0], 0))
        print(f"packet socket bound to {names[0]}", file=sys.stderr)
        return True


def greeted(address, family=socket.AF_UNIX):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT)
        s.connect(address)
        return b"fsbxt-unix" in s.recv(256)


def socks_dns(server, name):
    url = urllib.parse.urlsplit(os.environ.get("FTP_PROXY") or os.environ["ALL_PROXY"])
    with socket.create_connection((url.hostname, url.port or 1080), TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        s.sendall(b"\x05\x02\x00\x02")
        if s.recv(2)[1:2] == b"\x02":
            user = urllib.parse.unquote(url.username or "").encode()
            word = urllib.parse.unquote(url.password or "").encode()
            s.sendall(b"\x01" + bytes([len(user)]) + user + bytes([len(word)]) + word)
            s.recv(2)
        s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(server) + struct.pack(">H", 53))
        if s.recv(10)[1:2] != b"\x00":
            return False
        labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
        query = struct.pack(">HHHHHH", 0x5AFE, 0x0100, 1, 0, 0, 0) + labels + b"\0\0\1\0\1"
        s.sendall(struct.pack(">H", len(query)) + query)
        reply = s.recv(4096)[2:]
        return len(reply) >= 12 and reply[7] > 0


def gateway_addresses():
    found = set()
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[2] != "00000000":
                found.add(socket.inet_ntoa(struct.pack("<I", int(fields[2], 16))))
    try:
        with open("/proc/net/ipv6_route") as f:
            for line in f:
                hop = line.split()[4]
                if hop != "0" * 32:
                    found.add(socket.inet_ntop(socket.AF_INET6, bytes.fromhex(hop)))
    except OSError:
        pass
    return sorted(found)


def gateways(port):
    reached = False
    for address in gateway_addresses():
        host = f"[{address}]" if ":" in address else address
        try:
            with socket.create_connection((address, int(port)), TIMEOUT) as s:
                s.settimeout(TIMEOUT)
                s.sendall(f"GET / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
                body = s.recv(4096).decode(errors="replace")
        except OSError as error:
            print(f"gateway {address}: {error}", file=sys.stderr)
            continue
        print(f"gateway {address}: {body.splitlines()[-2:]}", file=sys.stderr)
        reached = reached or "fsbxt-host=" in body
    return reached


def ancestors():
    pid, seen = os.getpid(), []
    while pid > 1 and len(seen) < 32:
        seen.append(pid)
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    return seen


def terminal_candidates():
    # Only the test's own terminal (FSBXT_TTY_RDEV, "major:minor" in hex, as
    # stat %t:%T prints it) may be pushed into: then every descriptor of
    # every visible process is a candidate. Without it, ancestors' only.
    want = os.environ.get("FSBXT_TTY_RDEV")
    if not want:
        return [f"/proc/{p}/fd/{fd}" for p in ancestors() for fd in (0, 1, 2)], None
    major, minor = (int(x, 16) for x in want.split(":"))
    paths = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            paths += [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
    return paths, os.makedev(major, minor)


def tiocsti():
    import fcntl
    import termios

    paths, rdev = terminal_candidates()
    for path in ["/dev/tty"] + paths:
        try:
            fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if not os.isatty(fd) or (rdev is not None and os.fstat(fd).st_rdev != rdev):
                continue
            fcntl.ioctl(fd, termios.TIOCSTI, b"#")
            print(f"{path}: TIOCSTI pushed a character", file=sys.stderr)
            return True
        except OSError as error:
            print(f"{path}: {error}", file=sys.stderr)
        finally:
            os.close(fd)
    return False


def pids_with(marker):
    mine = set(ancestors())
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in mine:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    yield int(entry)
        except OSError:
            continue


def proc(mode, marker, *args):
    libc = ctypes.CDLL(None, use_errno=True)
    pids = list(pids_with(marker))
    print(f"processes naming {marker}: {pids}", file=sys.stderr)
    for pid in pids:
        try:
            if mode == "pids":
                print(pid)
                continue
            if mode == "environ":
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if args[0].encode() in f.read():
                        return True
            elif mode == "root":
                with open(f"/proc/{pid}/root{args[0]}", "rb") as f:
                    if args[1].encode() in f.read():
                        return True
            elif mode == "signal":
                os.kill(pid, 0)
                return True
            elif mode == "ptrace":
                if libc.ptrace(0x4206, pid, 0, 0) == 0:  # PTRACE_SEIZE
                    libc.ptrace(17, pid, 0, 0)  # PTRACE_DETACH
                    return True
                print(f"ptrace {pid}: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
        except OSError as error:
            print(f"{mode} {pid}: {error}", file=sys.stderr)
    return False


def env_scan(*needles):
    # Our own command lines carry the needles as arguments: skip those.
    mine = {str(p) for p in ancestors()}
    for entry in os.listdir("/proc"):
        for part in ("environ", "cmdline"):
            if part == "cmdline" and entry in mine | {"self", "thread-self"}:
                continue
            try:
                with open(f"/proc/{entry}/{part}", "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for needle in needles:
                if needle.encode() in data:
                    print(f"/proc/{entry}/{part} shows {needle}", file=sys.stderr)
                    return True
    return False


def main():
    probes = {
        "icmp": lambda host: any_icmp(host),
        "raw-icmp": lambda host: icmp(host, socket.SOCK_RAW),
        "packet": packet,
        "unix": greeted,
        "abstract": lambda name: greeted("\0" + name),
        "dns-socks": socks_dns,
        "gateways": gateways,
        "tiocsti": tiocsti,
        "proc": proc,
        "env-scan": env_scan,
    }
    try:
        ok = probes[sys.argv[1]](*sys.argv[2:])
    except Exception as error:  # any failure is a refusal, with its reason
        print(f"{sys.argv[1]}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"{sys.argv[1]}: {'got through' if ok else 'nothing'}", file=sys.stderr)
    return 0 if ok else 1


sys.exit(main())
