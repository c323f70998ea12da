#!/bin/bash
# File descriptor exhaustion: a broker with a small RLIMIT_NOFILE, flooded with idle
# connections, stops accepting instead of spinning on EMFILE and serves others once the
# idle ones time out; a request that runs out of descriptors half-way is answered -EMFILE
# and leaks nothing.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/broker_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/broker_common.bash"

build_pbexample || bail "cannot build the C client: $(cat "$SCRATCH/cc.err")"
chmod 0755 "$SCRATCH/pbexample"
write_policy "permit pb_alice port 1-1023
permit pb_bob port 80"
start_broker prlimit --nofile=48:48 -- --socket "$BROKER_SOCK" || bail "broker did not start"
assert_broker_serves "with 48 descriptors"
BROKER_FD_BASELINE=$(broker_fds)

# A request for more sockets than the broker has descriptors.
specs=$(seq 100 163 | paste -sd' ' -)
# shellcheck disable=SC2086  # one argument per spec
run pbclient pb_alice request $specs
assert_eq "-24" "$(rget "$RUN_OUT" status)" "64 sockets with 48 descriptors: -EMFILE"
assert_eq "0" "$(rget "$RUN_OUT" fds)" "and no socket at all (all or nothing)"
assert_broker_settled "after a request that ran out of descriptors"
assert_not_listening 100

# 100 idle connections: more than the broker can hold.
bg_start pb_alice flood "$PY" "$SCRATCH/pbclient.py" "$BROKER_SOCK" flood 100 8
flood=$BG_LAST
sleep 1
t0=$(broker_cpu_ticks)
sleep 2
t1=$(broker_cpu_ticks)
ticks=$((t1 - t0))
if [ "$ticks" -lt 50 ]; then
    ok "at the descriptor limit the broker does not spin (${ticks} ticks of CPU in 2 s)"
else
    not_ok "at the descriptor limit the broker does not spin (${ticks} ticks of CPU in 2 s)"
fi
assert_contains "$(cat "$BROKER_ERR")" "cannot accept connections for now" "it says it stopped accepting"

# pb_bob queues behind the flood and is served once the idle connections time out.
run pbexample pb_bob --check 80
assert_eq "listening=1" "$(kv "$RUN_OUT" listening)" "pb_bob is served despite the flood"
bg_wait "$flood" 15
assert_broker_serves "after the flood"
assert_broker_settled "after the flood"
