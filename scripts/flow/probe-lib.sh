# Helpers for the verdict cases (integration/cases.ts). POSIX sh.
# A case prints "allowed" when the probed action observably happened (the
# body names the host that was asked for, the secret was read, the file
# was written) and "refused" otherwise; it exits 3 when a tool is missing,
# so a missing tool can never pass for a refusal.

PROBES=${PROBES:-$(dirname "$0")/probes}

# need TOOL...: stop the case (status 3) when a tool is missing.
need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "missing tool: $tool" >&2
      exit 3
    }
  done
}

# verdict CMD...: "allowed" when CMD succeeds, "refused" otherwise.
verdict() {
  if "$@"; then echo allowed; else echo refused; fi
}

# direct CMD...: CMD without any proxy variable, as a proxy-ignoring client.
direct() {
  env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY \
    -u all_proxy -u ALL_PROXY -u no_proxy -u NO_PROXY "$@"
}

# host_label URL [CURL-ARGS...]: the label of the test host that answered.
host_label() {
  url=$1
  shift
  curl -sS --max-time 5 --connect-timeout 3 "$@" "$url" |
    sed -n 's/^fsbxt-host=//p'
}

# reaches LABEL URL [CURL-ARGS...]: the answer came from host LABEL.
reaches() {
  want=$1
  shift
  got=$(host_label "$@")
  echo "reached: ${got:-nothing}" >&2
  [ "$got" = "$want" ]
}

# reaches_any_way LABEL URL [CURL-ARGS...]: through the proxy the
# environment names, or directly: a refusal must hold for both.
reaches_any_way() {
  reaches "$@" || reaches "$@" --noproxy '*'
}

# wrote FILE: a file can be created there and read back.
wrote() {
  probe="fsbxt-probe-$$"
  { echo "$probe" >"$1"; } 2>/dev/null || return 1
  ok=1
  grep -qx "$probe" "$1" 2>/dev/null && ok=0
  rm -f "$1" 2>/dev/null
  return $ok
}

# scratch: a fresh directory under /tmp for one case.
scratch() {
  mktemp -d /tmp/fsbxt-case.XXXXXX
}
