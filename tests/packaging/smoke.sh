#!/bin/bash
# Smoke test of an installed portbind and its starter policy, as root:
#
#   bash tests/packaging/smoke.sh [PORTBIND]        (default /usr/bin/portbind)
#
# Expects the Debian package's state: the system group "portbind" exists and the policy
# in effect lets its members bind 80 and 443 (the shipped /etc/portbind.conf). Creates
# two throw-away users, pbpkg_member (in group portbind) and pbpkg_other (not), and in a
# fresh network namespace each, with net.ipv4.ip_unprivileged_port_start pinned to 1024
# and read back, checks that
#   * without portbind the member cannot bind 443 (so the rest is not vacuous);
#   * the member serves 443 through "portbind --activate" (launcher/examples/
#     hello-activate.py), on a socket the member owns, and the server runs as the member;
#   * the member serves 443 through the default mode (python3 -m http.server binding
#     443 itself);
#   * the same works with the capability bounding set reduced to CAP_NET_BIND_SERVICE,
#     as CapabilityBoundingSet= in launcher/systemd/app-portbind.service leaves it;
#   * the non-member is refused with exit 125 and one line on stderr, and nothing is bound.
# TAP output; exit 0 when every check passed, 1 otherwise, 77 (skipped) when not root.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
self=$here/$(basename "${BASH_SOURCE[0]}")
member=pbpkg_member
other=pbpkg_other
port=443
user_path=/usr/local/bin:/usr/bin:/bin

# ---------------------------------------------------------------- inside a namespace
# bash smoke.sh --scenario NAME PORTBIND SCRATCH: runs one scenario in the current
# (fresh) network namespace; prints "ok - ..." / "not ok - ..." / "# ..." lines.

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
# shellcheck disable=SC2001 # every line of a multi-line text
diag() { sed 's/^/#   /' <<<"$*"; }

check() {
  local desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

as_user() {
  local u=$1
  shift
  setpriv --reuid="$u" --regid="$u" --init-groups -- \
    env -i PATH="$user_path" HOME=/ USER="$u" LOGNAME="$u" LANG=C.UTF-8 "$@"
}

listener() {
  ss -Hltne "sport = :$port"
}

wait_listening() {
  local job=$1 i
  for ((i = 0; i < 200; i++)); do
    [[ -n $(listener) ]] && return 0
    kill -0 "$job" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

fetch() {
  env -i PATH="$user_path" python3 - "$1" <<'EOF'
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
print(opener.open(sys.argv[1], timeout=5).read().decode().strip())
EOF
}

stop_job() {
  kill -TERM "$1" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

pin_port_boundary() {
  ip link set lo up &&
    sysctl -qw net.ipv4.ip_unprivileged_port_start=1024 &&
    [[ $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start) == 1024 ]]
}

# The member cannot bind the port on its own: the boundary holds in this namespace.
baseline() {
  local out
  out=$(as_user "$member" python3 -c '
import errno, socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
try:
    s.bind(("::", '"$port"'))
    print("BOUND")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' 2>&1)
  if [[ $out == EACCES ]]; then
    ok "without portbind, $member cannot bind $port (EACCES)"
  else
    not_ok "without portbind, $member cannot bind $port (EACCES)"
    diag "got: $out"
  fi
}

# serve DESC PREFIX... -- ARGS...: starts "PREFIX... portbind ARGS..." as the member in the
# background, waits until the port listens, checks the listener's owner, fetches URL_PATH
# and compares with WANT, then stops the server.
serve_and_fetch() {
  local desc=$1 url_path=$2 want=$3
  shift 3
  local job got owner uid
  "$@" >"$scratch/server.out" 2>"$scratch/server.err" </dev/null &
  job=$!
  if ! wait_listening "$job"; then
    not_ok "$desc: port $port listens"
    diag "server stdout: $(cat "$scratch/server.out")"
    diag "server stderr: $(cat "$scratch/server.err")"
    stop_job "$job"
    return
  fi
  ok "$desc: port $port listens"
  uid=$(id -u "$member")
  owner=$(listener | grep -o 'uid:[0-9]*' | head -n1)
  check "$desc: the listening socket belongs to $member (uid $uid)" [ "$owner" == "uid:$uid" ]
  got=$(fetch "http://127.0.0.1:$port$url_path" 2>&1)
  if [[ $got == "$want"* ]]; then
    ok "$desc: GET $url_path answers '$want...'"
  else
    not_ok "$desc: GET $url_path answers '$want...'"
    diag "got: $got"
    diag "server stderr: $(cat "$scratch/server.err")"
  fi
  stop_job "$job"
}

scenario() {
  local name=$1
  portbind=$2
  scratch=$3
  if ! pin_port_boundary; then
    not_ok "$name: cannot prepare the namespace (lo up, ip_unprivileged_port_start=1024)"
    return
  fi
  case $name in
    activate)
      baseline
      serve_and_fetch "--activate, hello-activate.py" / "hello from $member" \
        as_user "$member" "$portbind" --activate --port "$port" -- \
        /usr/bin/python3 "$scratch/www/hello-activate.py"
      ;;
    default)
      baseline
      serve_and_fetch "default mode, python3 -m http.server $port" /hello.txt \
        "hello from the default mode" \
        as_user "$member" "$portbind" -- /usr/bin/python3 -m http.server "$port" \
        --bind :: --directory "$scratch/www"
      ;;
    bounding)
      serve_and_fetch "--activate with the bounding set reduced to cap_net_bind_service" \
        / "hello from $member" \
        setpriv --bounding-set=-all,+net_bind_service --reuid="$member" \
        --regid="$member" --init-groups -- env -i PATH="$user_path" HOME=/ "$portbind" --activate --port "$port" -- \
        /usr/bin/python3 "$scratch/www/hello-activate.py"
      ;;
    refused)
      local rc=0 err lines
      as_user "$other" "$portbind" --activate --port "$port" -- \
        /usr/bin/python3 "$scratch/www/hello-activate.py" \
        >"$scratch/refused.out" 2>"$scratch/refused.err" </dev/null || rc=$?
      err=$(cat "$scratch/refused.err")
      lines=$(grep -c '' <<<"$err")
      check "$other (not in group portbind) is refused with exit 125" [ "$rc" == 125 ]
      check "the refusal is one line on stderr starting 'portbind: '" \
        [ "$lines" == 1 -a "${err#portbind: }" != "$err" ]
      [[ $rc == 125 ]] || diag "exit $rc, stderr: $err"
      check "nothing listens on $port after the refusal" [ -z "$(listener)" ]
      ;;
    *)
      not_ok "unknown scenario $name"
      ;;
  esac
}

if [[ ${1-} == --scenario ]]; then
  scenario "$2" "$3" "$4"
  exit 0
fi

# ------------------------------------------------------------------------- outside
portbind=${1:-/usr/bin/portbind}

if [[ $(id -u) != 0 ]]; then
  echo "1..0 # SKIP the smoke test needs root"
  exit 77
fi
for tool in setpriv unshare ip ss sysctl python3 useradd userdel getent pkill; do
  if ! command -v "$tool" >/dev/null; then
    echo "Bail out! missing tool: $tool"
    exit 1
  fi
done
if [[ ! -x $portbind ]]; then
  echo "Bail out! $portbind is not installed"
  exit 1
fi
if ! getent group portbind >/dev/null; then
  echo "Bail out! the group portbind does not exist (is the package installed?)"
  exit 1
fi

scratch=$(mktemp -d)
cleanup() {
  local u i
  for u in "$member" "$other"; do
    if getent passwd "$u" >/dev/null; then
      # userdel refuses while the user runs a process: kill them and wait until none is left.
      for ((i = 0; i < 100; i++)); do
        pkill -KILL -u "$u" || break
        sleep 0.1
      done
      userdel "$u" || echo "# userdel $u failed" >&2
    fi
    if getent group "$u" >/dev/null; then groupdel "$u" 2>/dev/null; fi
  done
  rm -rf -- "$scratch"
}
trap cleanup EXIT

for u in "$member" "$other"; do
  if getent passwd "$u" >/dev/null; then
    echo "Bail out! user $u already exists; remove it or run where it does not"
    exit 1
  fi
done
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --user-group \
  --groups portbind "$member"
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --user-group "$other"

chmod 0755 "$scratch"
mkdir -m 0755 "$scratch/www"
install -m 0644 "$src/launcher/examples/hello-activate.py" "$scratch/www/"
echo "hello from the default mode" >"$scratch/www/hello.txt"
chmod 0644 "$scratch/www/hello.txt"

echo "# portbind: $portbind ($(getcap "$portbind" 2>/dev/null | cut -d' ' -f2-)$(stat -c ' mode %a %U:%G' "$portbind"))"
{
  for name in activate default bounding refused; do
    timeout -k 5 60 unshare -n -- bash "$self" --scenario "$name" "$portbind" "$scratch" ||
      echo "not ok - scenario $name exited with status $?"
  done
} | awk '
    /^ok - / { n++; print "ok " n " " substr($0, 4); next }
    /^not ok - / { n++; failed++; print "not ok " n " " substr($0, 8); next }
    { print }
    END {
        print "1.." n
        if (n == 0) { print "# no checks ran"; exit 1 }
        if (failed) { print "# " failed " of " n " failed"; exit 1 }
    }'
