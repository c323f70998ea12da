#!/bin/bash
# Readiness notification, as portbind.service (Type=notify, NotifyAccess=main) relies on it:
# a broker started with NOTIFY_SOCKET sends "READY=1" and its STATUS once it serves,
# "RELOADING=1" and "READY=1" around a policy reload (SIGHUP) and "STOPPING=1" when it stops,
# each datagram from the broker's own pid; a path and an abstract-namespace address both
# work, also from a dedicated uid holding only CAP_NET_BIND_SERVICE; a malformed
# NOTIFY_SOCKET costs a warning, never the service.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/broker_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/broker_common.bash"

build_pbexample || bail "cannot build the C client: $(cat "$SCRATCH/cc.err")"
chmod 0755 "$SCRATCH/pbexample"
write_policy "permit pb_alice port 80"

# The service manager's end: a datagram socket that receives with the sender's credentials
# and prints one line per datagram, "PID MESSAGE" with newlines shown as '|'.
cat >"$SCRATCH/notify_receiver.py" <<'PYEOF'
import os, socket, struct, sys

address = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
if address.startswith("@"):
    s.bind("\0" + address[1:])
else:
    s.bind(address)
    os.chmod(address, 0o666)  # systemd's notify socket takes datagrams from every uid
print("bound", flush=True)
while True:
    data, ancillary, _, _ = s.recvmsg(8192, socket.CMSG_SPACE(12))
    pid = 0
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    print("%d %s" % (pid, data.decode(errors="replace").replace("\n", "|")), flush=True)
PYEOF
chmod 0644 "$SCRATCH/notify_receiver.py"

# start_receiver NAME ADDRESS: sets RECEIVER_OUT once the socket is bound.
start_receiver() {
    local i
    RECEIVER_OUT=$SCRATCH/$1.out
    bg_start root "$1" "$PY" "$SCRATCH/notify_receiver.py" "$2"
    for ((i = 0; i < 100; i++)); do
        grep -q '^bound$' "$RECEIVER_OUT" 2>/dev/null && return 0
        sleep 0.05
    done
    bail "the notification receiver did not start: $(cat "$SCRATCH/$1.err")"
}

# messages: every datagram received so far, one per line.
messages() { grep -v '^bound$' "$RECEIVER_OUT" || true; }

# wait_messages N: until N datagrams arrived (at most 5 s).
wait_messages() {
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(messages | wc -l)" -ge "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

# ---- a path, as systemd gives it (/run/systemd/notify)
mkdir -m 0755 "$SCRATCH/notify"
start_receiver notify_path "$SCRATCH/notify/socket"
start_broker env NOTIFY_SOCKET="$SCRATCH/notify/socket" -- --socket "$BROKER_SOCK" ||
    bail "broker did not start"
wait_messages 1 || diag "broker: $(cat "$BROKER_ERR")"
assert_eq "$BROKER_PID READY=1|STATUS=serving on $BROKER_SOCK" "$(messages | sed -n 1p)" \
    "once serving, the broker sends READY=1 and its status, from its own pid"
assert_broker_serves "after READY=1"
kill -HUP "$BROKER_PID"
wait_messages 3 || diag "broker: $(cat "$BROKER_ERR")"
assert_eq "$BROKER_PID RELOADING=1" "$(messages | sed -n 2p)" "a reload (SIGHUP) starts with RELOADING=1"
assert_eq "$BROKER_PID READY=1" "$(messages | sed -n 3p)" "and ends with READY=1"
assert_broker_serves "after the reload"
assert_eq "1" "$(tr '\0' '\n' <"/proc/$BROKER_PID/environ" | grep -c '^NOTIFY_SOCKET=')" \
    "NOTIFY_SOCKET stays in the broker's environment (it notifies again later)"
broker_pid=$BROKER_PID
stop_broker
wait_messages 4 || true
assert_eq "$broker_pid STOPPING=1" "$(messages | sed -n 4p)" "stopping (SIGTERM) sends STOPPING=1"
assert_eq "4" "$(messages | wc -l)" "and nothing else was sent"
assert_not_contains "$(cat "$BROKER_ERR")" "cannot notify" "no notification failed"

# ---- the abstract namespace, from a dedicated uid holding only the capability (as the
# shipped unit runs it: DynamicUser=, AmbientCapabilities=CAP_NET_BIND_SERVICE)
svc=64321
while getent passwd "$svc" >/dev/null || getent group "$svc" >/dev/null; do svc=$((svc + 1)); done
chown "root:$svc" "$BROKER_DIR"
chmod 0775 "$BROKER_DIR"
abstract="@portbind-notify-test-$$"
start_receiver notify_abstract "$abstract"
start_broker env NOTIFY_SOCKET="$abstract" setpriv --reuid="$svc" --regid="$svc" --clear-groups \
    --inh-caps +net_bind_service --ambient-caps +net_bind_service -- \
    --socket "$BROKER_SOCK" || bail "broker did not start as uid $svc"
wait_messages 1 || diag "broker: $(cat "$BROKER_ERR")"
assert_eq "$BROKER_PID READY=1|STATUS=serving on $BROKER_SOCK" "$(messages | sed -n 1p)" \
    "an abstract-namespace NOTIFY_SOCKET gets READY=1 from the broker running as uid $svc"
assert_eq "$svc" "$(awk '/^Uid:/ { print $2 }' "/proc/$BROKER_PID/status")" "which is the broker's uid"
assert_broker_serves "the least-privileged broker"
stop_broker
chown root:root "$BROKER_DIR"
chmod 0755 "$BROKER_DIR"
rm -f "$BROKER_SOCK"

# ---- a malformed NOTIFY_SOCKET: a warning, and the broker serves all the same
start_broker env NOTIFY_SOCKET=relative/notify -- --socket "$BROKER_SOCK" ||
    bail "broker did not start with a malformed NOTIFY_SOCKET"
for _ in $(seq 100); do grep -q 'cannot notify' "$BROKER_ERR" && break; sleep 0.05; done
assert_contains "$(cat "$BROKER_ERR")" "cannot notify the service manager: NOTIFY_SOCKET 'relative/notify'" \
    "a malformed NOTIFY_SOCKET is reported"
assert_broker_serves "with a malformed NOTIFY_SOCKET"
stop_broker
rm -f "$BROKER_SOCK"
