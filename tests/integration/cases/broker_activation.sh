#!/bin/bash
# Socket activation: the broker serves on the socket passed in LISTEN_FDS, here by
# systemd-socket-activate running as root (as systemd does for portbind.socket) while the
# broker itself runs as a dedicated uid with only CAP_NET_BIND_SERVICE. A passed socket
# of the wrong type or in the abstract namespace is refused.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/broker_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/broker_common.bash"

command -v systemd-socket-activate >/dev/null || {
    echo "1..0 # SKIP systemd-socket-activate is not installed"
    exit 77
}
build_pbexample || bail "cannot build the C client: $(cat "$SCRATCH/cc.err")"
chmod 0755 "$SCRATCH/pbexample"
write_policy "permit pb_alice port 80"

svc=64321
while getent passwd "$svc" >/dev/null || getent group "$svc" >/dev/null; do svc=$((svc + 1)); done
as_service=(setpriv --reuid="$svc" --regid="$svc" --clear-groups
    --inh-caps +net_bind_service --ambient-caps +net_bind_service)

# systemd-socket-activate creates the socket as root (0644; systemd's SocketMode=0666 is
# set here by hand), then starts the broker on the first connection.
activate() {
    local name=$1 i
    shift
    bg_start root "$name" systemd-socket-activate "$@"
    for ((i = 0; i < 100; i++)); do
        if [ -S "$BROKER_SOCK" ]; then
            chmod 0666 "$BROKER_SOCK"
            return 0
        fi
        sleep 0.05
    done
}

activate broker_act --seqpacket -l "$BROKER_SOCK" -- "${as_service[@]}" -- "$PB" serve
assert_eq "0" "$(stat -c %u "$BROKER_SOCK")" "the socket was created by root"

# The first request starts the broker, which serves it.
run pbexample pb_alice --check 80
assert_eq "listening=1" "$(kv "$RUN_OUT" listening)" "the first request (which starts the broker) is served"
if [ "$RUN_RC" != 0 ]; then diag "client: $RUN_ERR"; diag "broker: $(cat "$SCRATCH/broker_act.err")"; fi
pid=
for p in $(ip netns pids "$NS"); do
    if [ "$(readlink "/proc/$p/exe")" == "$PB" ]; then pid=$p; fi
done
assert_ne "" "$pid" "the broker is running"
if [ -n "$pid" ]; then
    assert_eq "$svc $svc $svc $svc" "$(grep '^Uid:' "/proc/$pid/status" | cut -f2- | tr '\t' ' ')" \
        "the activated broker runs as uid $svc"
    assert_eq "0000000000000400" "$(grep '^CapPrm:' "/proc/$pid/status" | cut -f2)" \
        "the activated broker holds only cap_net_bind_service"
fi
assert_contains "$(cat "$SCRATCH/broker_act.err")" "serving on $BROKER_SOCK" "it serves on the passed socket"
run pbexample pb_bob --check 80
assert_eq "error=13" "$(kv "$RUN_OUT" error)" "pb_bob is denied by the activated broker"
run pbexample pb_alice --check 80
assert_eq "listening=1" "$(kv "$RUN_OUT" listening)" "and pb_alice served again"
ns_kill_all
rm -f "$BROKER_SOCK"

# --socket conflicts with a passed socket.
activate broker_conflict --seqpacket -l "$BROKER_SOCK" -- "$PB" serve --socket "$BROKER_SOCK"
run pbexample pb_alice --check 80
assert_contains "$(cat "$SCRATCH/broker_conflict.err")" "--socket cannot be used with socket activation" \
    "--socket with socket activation is refused"
ns_kill_all
rm -f "$BROKER_SOCK"

# A stream socket is not the broker's protocol.
activate broker_stream -l "$BROKER_SOCK" -- "$PB" serve
ns_root "$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[1])' "$BROKER_SOCK" || true
for _ in $(seq 100); do grep -q 'SOCK_SEQPACKET' "$SCRATCH/broker_stream.err" 2>/dev/null && break; sleep 0.05; done
assert_contains "$(cat "$SCRATCH/broker_stream.err")" "not a listening unix SOCK_SEQPACKET socket" \
    "a passed stream socket is refused"
ns_kill_all
rm -f "$BROKER_SOCK"

# The abstract namespace is refused.
bg_start root broker_abstract systemd-socket-activate --seqpacket -l "@portbind-test-$$" -- "$PB" serve
sleep 0.3
ns_root "$PY" -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.connect("\0" + sys.argv[1])' \
    "portbind-test-$$" 2>/dev/null || true
for _ in $(seq 100); do grep -q 'abstract' "$SCRATCH/broker_abstract.err" 2>/dev/null && break; sleep 0.05; done
assert_contains "$(cat "$SCRATCH/broker_abstract.err")" "abstract namespace" \
    "a passed socket in the abstract namespace is refused"
