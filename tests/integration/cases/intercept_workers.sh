#!/bin/bash
# Default mode serves binds from forked workers, from threads, and repeated binds over the
# app's lifetime (a server restarting its listener).
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 440-449"
bg_start pb_alice forked "$PB" -- "$PY" "$APPS/selfbind.py" --fork tcp,0.0.0.0,441 tcp,0.0.0.0,442
assert_true "worker 1 listens on 441" wait_listen 441 tcp "$BG_LAST"
assert_true "worker 2 listens on 442" wait_listen 442 tcp "$BG_LAST"
assert_fetch "worker on 441 answers" 127.0.0.1 441
w1=$(rget "$REPORT" pid)
assert_eq "1" "$(rget "$REPORT" worker)" "441 is served by a forked worker"
assert_fetch "worker on 442 answers" 127.0.0.1 442
assert_ne "$w1" "$(rget "$REPORT" pid)" "the two ports are held by two different workers"
ns_kill_all

run ns_user pb_alice "$PB" -- "$PY" "$APPS/selfbind.py" --thread --try tcp,0.0.0.0,443
assert_contains "$RUN_OUT" "bind.0=OK" "a bind from a second thread is served"
run ns_user pb_alice "$PB" -- "$PY" "$APPS/selfbind.py" --rebind --try tcp,0.0.0.0,443 udp,0.0.0.0,443
assert_contains "$RUN_OUT" "bind.0=OK" "bind, close, bind again (tcp) is served both times"
assert_contains "$RUN_OUT" "bind.1=OK" "bind, close, bind again (udp) is served both times"

# node's many threads (libuv pool, V8) do not get in the way.
node_app='const s = require("net").createServer(c => c.end("ok\n"));
s.listen(443, () => { s.close(() => s.listen(443, () => { console.log("relisten"); process.exit(0); })); });'
run ns_user pb_alice "$PB" -- "$NODE" -e "$node_app"
assert_eq "relisten" "$RUN_OUT" "node closes and re-listens on 443"
