#!/bin/bash
# The broker logs every grant and denial to syslog (facility authpriv) with the peer's
# identity and the socket, and a syslog daemon that starts after the broker is used from
# then on (the broker looks for /dev/log again at most a second after it last found none).
# The broker runs in a private mount namespace whose /dev is a directory of the case's; its
# log socket is a listener of the case's, created only once the broker serves. The host's
# /dev is untouched.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/broker_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/broker_common.bash"

SINK=$(cd "$(dirname "${BASH_SOURCE[0]}")/../apps" && pwd)/logsink.py
DEV=$SCRATCH/dev
LOG=$SCRATCH/syslog.txt
mkdir -m 0755 "$DEV"
for n in null zero full random urandom tty; do
    touch "$DEV/$n"
done

write_policy "permit pb_alice port 80"
# shellcheck disable=SC2016  # expanded by the inner shell
start_broker unshare -m --propagation private bash -c '
set -e
D=$1
shift
for n in null zero full random urandom tty; do mount --bind "/dev/$n" "$D/$n"; done
mount --rbind "$D" /dev
exec "$@"
' broker-dev "$DEV" -- --socket "$BROKER_SOCK" || bail "broker did not start"

# No syslog yet: the grant is on stderr only, and the broker does not try to reach a syslog
# (glibc's syslog() would connect to /dev/log for every line). strace watches the broker's
# connects and its reply; the reply it sees shows the grant was watched.
trace_broker "$SCRATCH/strace.out" -f -e trace=connect,sendmsg || bail "cannot trace the broker"
run pbclient pb_alice request 80
assert_eq "0" "$(rget "$RUN_OUT" status)" "without a syslog: pb_alice granted port 80"
assert_match "$(cat "$BROKER_ERR")" "granted: user pb_alice .* socket 80/tcp" \
    "without a syslog: the grant is on stderr"
untrace_broker
traced=$(cat "$SCRATCH/strace.out" 2>/dev/null || true)
assert_match "$traced" 'sendmsg\(.*SCM_RIGHTS' "strace saw the broker send the granted socket"
assert_no_match "$traced" 'connect\(.*/dev/log' "without a syslog: no attempt to connect to /dev/log"

# A syslog appears; within about a second the broker's log lines reach it.
python3 "$SINK" "$DEV/log" "$LOG" "$SCRATCH/sink.ready" 30 &
BG_PIDS+=("$!")
for _ in $(seq 100); do
    [ -e "$SCRATCH/sink.ready" ] && break
    sleep 0.05
done
assert_true "the log listener is ready" test -S "$DEV/log"
logged=
for _ in $(seq 30); do
    run pbclient pb_alice request 80
    if grep -q "granted: user pb_alice" "$LOG" 2>/dev/null; then
        logged=yes
        break
    fi
    sleep 0.2
done
assert_eq yes "$logged" "a syslog started after the broker receives its grants"
run pbclient pb_bob request 80
assert_eq "-13" "$(rget "$RUN_OUT" status)" "pb_bob denied port 80"
sleep 0.3
touch "$SCRATCH/sink.ready.stop"

log=$(tr -d '\0' <"$LOG")
alice_uid=$(id -u pb_alice)
bob_uid=$(id -u pb_bob)
assert_match "$log" "^<86>.*portbind\\[$BROKER_PID\\]: granted: user pb_alice \\(uid $alice_uid\\) pid [0-9]+ exe unknown socket 80/tcp on .*: permitted by $POLICY:1\$" \
    "the grant is logged to authpriv.info with the peer's user, uid, pid and socket"
assert_match "$log" "^<85>.*portbind\\[$BROKER_PID\\]: denied: user pb_bob \\(uid $bob_uid\\) pid [0-9]+ exe unknown socket 80/tcp on .*: no rule permits it\$" \
    "the denial is logged to authpriv.notice"
stop_broker
