#!/bin/bash
# The broker under abuse: random bytes, truncated and oversized frames, descriptors and
# credentials attached, clients that never speak or never read, a connection flood, 1,000
# sequential and 100 concurrent requests. After each, the broker still serves, and its fd
# count and memory are back where they started.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/broker_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/broker_common.bash"

build_pbexample || bail "cannot build the C client: $(cat "$SCRATCH/cc.err")"
chmod 0755 "$SCRATCH/pbexample"
write_policy "permit pb_alice port 1-1023"
start_broker -- --socket "$BROKER_SOCK" || bail "broker did not start"

# Warm up (name cache, allocator), then take the baseline.
run pbclient pb_alice sequential 50 80
assert_eq "granted=50" "$RUN_OUT" "warm-up: 50 requests granted"
BROKER_FD_BASELINE=$(broker_fds)
rss_baseline=$(broker_rss)
diag "baseline: $BROKER_FD_BASELINE fds, ${rss_baseline} kB resident"

assert_rss_bounded() {
    local rss
    rss=$(broker_rss)
    if [ "$rss" -le $((rss_baseline + 2048)) ]; then
        ok "$1: resident memory ${rss} kB stays within 2 MB of ${rss_baseline} kB"
    else
        not_ok "$1: resident memory ${rss} kB stays within 2 MB of ${rss_baseline} kB"
    fi
}

after() {
    assert_true "$1: the broker is alive" kill -0 "$BROKER_PID"
    assert_broker_serves "$1"
    assert_broker_settled "$1"
    assert_rss_bounded "$1"
}

# Random bytes, half of them behind a valid magic and version.
run pbclient pb_alice random 300 7
assert_match "$RUN_OUT" '^answered=[0-9]+ closed=[0-9]+$' "300 random frames: each answered or closed"
after "random frames"

# Every truncation of a valid request is refused with -EPROTO (71).
run pbclient pb_alice truncated
assert_eq "statuses=-71" "$RUN_OUT" "every truncated request: -EPROTO"
after "truncated frames"

# Oversized frames, and frames of another version.
big=$(head -c 5000 /dev/zero | od -An -v -tx1 | tr -d ' \n')
run pbclient pb_alice raw "50425251${big:8}"
assert_eq "-71" "$(rget "$RUN_OUT" status)" "a 5000-byte frame: -EPROTO"
assert_contains "$(rget "$RUN_OUT" text)" "larger than 4096" "the reply says it is too large"
run pbclient pb_alice raw "5042525102000100000000001000000006005000""00000000000000000000000000000000"
assert_eq "-93" "$(rget "$RUN_OUT" status)" "protocol version 2: -EPROTONOSUPPORT"
after "oversized and foreign frames"

# Descriptors attached to requests: refused, and none stays in the broker.
run pbclient pb_alice fds 250 20 80
# The kernel refuses the send where it can (SO_PASSRIGHTS, Linux 6.16), else the broker -EPROTO.
expected_fds=statuses=-71
if [ "$(printf '%s\n' "$(uname -r)" 6.16 | sort -V | head -1)" == 6.16 ]; then
    expected_fds=statuses=send-EPERM
fi
assert_eq "$expected_fds" "$RUN_OUT" "20 requests with 250 fds each are refused"
after "attached descriptors"

# Credentials attached (naming the sender itself): ignored; the kernel's decide.
run pbclient pb_alice creds 80
assert_eq "0" "$(rget "$RUN_OUT" status)" "a request with SCM_CREDENTIALS is judged by SO_PEERCRED"
after "attached credentials"

# Clients that connect and never speak are answered -ETIMEDOUT (110) and closed.
bg_start pb_bob idlers "$PY" "$SCRATCH/pbclient.py" "$BROKER_SOCK" idle 50 3.5
idlers=$BG_LAST
sleep 0.5
t0=$(date +%s%N)
assert_broker_serves "while 50 clients sit idle"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
if [ "$ms" -lt 1000 ]; then ok "served in ${ms} ms despite idle clients"; else not_ok "served in ${ms} ms despite idle clients"; fi
bg_wait "$idlers" 10
assert_eq "-110=50" "$(cat "$SCRATCH/idlers.out")" "all 50 idle clients timed out after 2 s"
after "idle clients"

# Clients that send a request and never read the reply: their sockets wait in their own
# queues, their connections stay counted, and everything is released when they close.
bg_start pb_alice noreaders "$PY" "$SCRATCH/pbclient.py" "$BROKER_SOCK" noread 20 20000 4
noreaders=$BG_LAST
sleep 3
assert_broker_serves "while 20 clients do not read"
held=$(broker_fds)
assert_eq "$((BROKER_FD_BASELINE + 20))" "$held" "the unread connections are held (one fd each)"
bg_wait "$noreaders" 10
after "clients that never read"

# A flood from one user: beyond 128 connections it is told -EAGAIN; others are served.
bg_start pb_bob flood "$PY" "$SCRATCH/pbclient.py" "$BROKER_SOCK" flood 140 3
flood=$BG_LAST
sleep 1
assert_broker_serves "while pb_bob floods"
bg_wait "$flood" 10
assert_eq "refused=12" "$(head -n 1 "$SCRATCH/flood.out")" "pb_bob's connections beyond 128 are refused with -EAGAIN"
after "a connection flood"

# 1,000 sequential requests.
run pbclient pb_alice sequential 1000 80
assert_eq "granted=1000" "$RUN_OUT" "1000 sequential requests granted"
after "1000 sequential requests"

# 100 concurrent requests (ports 100-199 held at once).
run pbclient pb_alice concurrent 100 100
assert_eq "granted=100" "$RUN_OUT" "100 concurrent requests granted"
after "100 concurrent requests"

log=$(cat "$BROKER_ERR")
assert_contains "$log" "denied: uid $(uid_of pb_alice) pid" "malformed requests are logged"
assert_no_match "$log" $'\x1b' "log lines carry no raw control characters"
