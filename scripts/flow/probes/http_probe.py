"""GET a URL with urllib; exit 0 only if the body names the expected host.

Usage: http_probe.py URL LABEL [--direct]
urllib honours http_proxy/no_proxy like most agent tooling; --direct
ignores them, as a proxy-unaware client would.
"""
import sys
import urllib.request


def main() -> int:
    url, label = sys.argv[1], sys.argv[2]
    handlers = [urllib.request.ProxyHandler({})] if "--direct" in sys.argv else []
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=5) as response:
            body = response.read(4096).decode("utf-8", "replace")
    except Exception as error:  # any failure is a refusal, with its reason
        print(f"python urllib: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"python urllib body: {body.splitlines()[:1]}", file=sys.stderr)
    return 0 if f"fsbxt-host={label}" in body.splitlines() else 1


sys.exit(main())
