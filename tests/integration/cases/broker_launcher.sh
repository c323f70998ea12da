#!/bin/bash
# The launcher through the broker: a copy of portbind with no capability and no setuid bit
# (an installation with no privileged binary) gets its privileged sockets from a running
# `portbind serve`, in both hand-over modes:
#   --activate: the broker's sockets at fd 3.. with LISTEN_*;
#   default mode: the app's own bind() is answered with a broker socket put in place of
#   the app's socket (same fd number, the app's blocking mode and close-on-exec flag).
# The broker decides by the launcher's credentials (the caller's): a denied user is refused
# with one line and exit 125 (--activate) or gets EACCES from bind() (default mode). Without
# --broker, a portbind holding no privilege uses the broker at the default path.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/broker_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/broker_common.bash"

write_policy "permit pb_alice port 443
permit pb_alice port 80
permit pb_alice port 53 proto udp"

# The unprivileged copy: same program, nothing granted by the file system.
PLAIN=$SCRATCH/bin/portbind
mkdir -m 0755 "$SCRATCH/bin"
install -o root -g root -m 0755 "$PB" "$PLAIN"
assert_eq "" "$(getcap "$PLAIN" 2>/dev/null)" "the copy has no file capability"
assert_eq "755" "$(stat -c %a "$PLAIN")" "the copy is not setuid"

# Negative control: no broker, no privilege.
run ns_user pb_alice "$PLAIN" --activate --port 443 -- "$PY" "$APPS/report.py"
assert_refusal "443/tcp"

start_broker -- --socket "$BROKER_SOCK" || bail "the broker did not start"

# --activate through the broker.
bg_start pb_alice act "$PLAIN" --broker="$BROKER_SOCK" --activate --port 443=web -- \
    "$PY" "$APPS/report.py"
assert_true "--activate: port 443 is listening" wait_listen 443 tcp "$BG_LAST"
assert_fetch "--activate: report over 127.0.0.1:443" 127.0.0.1 443
r=$REPORT
assert_eq "1" "$(rget "$r" env.LISTEN_FDS)" "--activate: LISTEN_FDS=1"
assert_eq "web" "$(rget "$r" env.LISTEN_FDNAMES)" "--activate: LISTEN_FDNAMES=web"
assert_eq "$(rget "$r" pid)" "$(rget "$r" env.LISTEN_PID)" "--activate: LISTEN_PID is the app's pid"
assert_eq "1" "$(rget "$r" listen.3.acceptconn)" "--activate: fd 3 is listening"
assert_dropped "$r" pb_alice
assert_contains "$(cat "$BROKER_ERR")" "granted" "the broker logged the grant"
ns_kill_all
start_broker -- --socket "$BROKER_SOCK" || bail "the broker did not restart"

# A denied user: one line, exit 125, naming the broker's refusal.
run ns_user pb_bob "$PLAIN" --broker="$BROKER_SOCK" --activate --port 443 -- "$PY" "$APPS/report.py"
assert_refusal "443/tcp" "broker"
assert_not_listening 443

# Default mode through the broker: unmodified servers binding themselves.
bg_start pb_alice dflt "$PLAIN" --broker="$BROKER_SOCK" -- "$PY" "$APPS/selfbind.py" tcp,::,443,dual
assert_true "default mode: port 443 is listening" wait_listen 443 tcp "$BG_LAST"
assert_fetch "default mode: report over 127.0.0.1:443" 127.0.0.1 443
r4=$REPORT
assert_fetch "default mode: report over [::1]:443" ::1 443
assert_eq "OK" "$(rget "$r4" bind.0)" "default mode: the app's own bind() returned success"
assert_eq "::,443" "$(rget "$r4" sockname.0)" "default mode: the app's socket is [::]:443"
assert_eq "::ffff:127.0.0.1" "$(rget "$r4" peer)" "default mode: dual-stack, as the app asked"
assert_dropped "$r4" pb_alice
assert_eq "2" "$(rget "$r4" status.Seccomp)" "default mode: the app runs under the bind() filter"
binder=$(rget "$r4" ppid)
assert_match "$(cat "/proc/$binder/status")" '^CapPrm:[[:space:]]+0000000000000000$' \
    "default mode: the binding process holds no capability at all"
ns_kill_all
start_broker -- --socket "$BROKER_SOCK" || bail "the broker did not restart"

# Default mode, UDP, IPv4, and the app's IPv6-only wish kept on an IPv6 socket.
bg_start pb_alice udp "$PLAIN" --broker="$BROKER_SOCK" -- "$PY" "$APPS/selfbind.py" \
    udp,127.0.0.1,53 tcp,::1,80,v6only
assert_true "default mode: 53/udp is bound" wait_listen 53 udp "$BG_LAST"
assert_true "default mode: [::1]:80 is listening" wait_listen 80 tcp "$BG_LAST"
assert_fetch "default mode: UDP answer from 127.0.0.1:53" --udp 127.0.0.1 53
assert_eq "OK" "$(rget "$REPORT" bind.0)" "default mode: UDP bind() succeeded"
assert_eq "127.0.0.1,53" "$(rget "$REPORT" sockname.0)" "default mode: UDP socket bound to 127.0.0.1:53"
assert_eq "OK" "$(rget "$REPORT" bind.1)" "default mode: the IPv6 bind() succeeded"
ns_kill_all
start_broker -- --socket "$BROKER_SOCK" || bail "the broker did not restart"

# Default mode, denied user: the app's bind() fails with EACCES and nothing is bound.
run ns_user pb_bob "$PLAIN" --broker="$BROKER_SOCK" -- "$PY" "$APPS/selfbind.py" --try tcp,::,443,dual
assert_eq "0" "$RUN_RC" "default mode, denied: the app ran and exited normally"
assert_eq "bind.0=EACCES" "$(grep '^bind.0=' <<<"$RUN_OUT")" "default mode, denied: bind() fails with EACCES"
assert_not_listening 443

# Default mode, port in use: the broker's EADDRINUSE reaches the app's bind().
bg_start root holder "$PY" -c 'import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past connections are in TIME_WAIT
s.bind(("::", 443)); s.listen(); time.sleep(60)'
assert_true "a root listener holds 443" wait_listen 443 tcp "$BG_LAST"
run ns_user pb_alice "$PLAIN" --broker="$BROKER_SOCK" -- "$PY" "$APPS/selfbind.py" --try tcp,::,443,dual
assert_eq "bind.0=EADDRINUSE" "$(grep '^bind.0=' <<<"$RUN_OUT")" "default mode, port in use: bind() fails with EADDRINUSE"
ns_kill_all
start_broker -- --socket "$BROKER_SOCK" || bail "the broker did not restart"

# A capability build asked for --broker uses the broker too (the broker's log shows it).
before=$(grep -c granted "$BROKER_ERR" || true)
bg_start pb_alice capbroker "$PB" --broker="$BROKER_SOCK" --activate --port 80 -- "$PY" "$APPS/report.py"
assert_true "--broker with an installed portbind: port 80 is listening" wait_listen 80 tcp "$BG_LAST"
after=$(grep -c granted "$BROKER_ERR" || true)
assert_ne "$before" "$after" "--broker with an installed portbind: the broker granted the socket"
ns_kill_all

# Automatic: no --broker, no privilege, a broker at the default path. /run is replaced by a
# scratch directory in a private mount namespace, so the machine's own /run is untouched.
AUTO=$SCRATCH/autorun
mkdir -m 0755 "$AUTO" "$AUTO/portbind"
user_prefix pb_alice
auto_script='set -e
mount --bind "$1" /run
shift
"$@" serve >/dev/null 2>"$AUTO_ERR" &
broker=$!
for i in $(seq 100); do [ -S /run/portbind/portbind.sock ] && break; sleep 0.05; done
'"$(printf '%q ' "${UP[@]}")"' "$PLAIN" --activate --port 443 -- "$PY" -c "import os; print(\"fds=\" + os.environ[\"LISTEN_FDS\"])" || echo "rc=$?"
kill $broker'
run env AUTO_ERR="$SCRATCH/auto.err" PLAIN="$PLAIN" PY="$PY" \
    ip netns exec "$NS" unshare -m --propagation private bash -c "$auto_script" auto "$AUTO" "$PB"
assert_eq "fds=1" "$RUN_OUT" "no privilege and no --broker: the broker at the default path is used"
if [ "$RUN_OUT" != "fds=1" ]; then diag "stderr: $RUN_ERR"; diag "broker: $(cat "$SCRATCH/auto.err")"; fi
