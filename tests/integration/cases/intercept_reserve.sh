#!/bin/bash
# Default mode with --port: the ports are checked and reserved before the app starts, so a
# port in use fails fast naming its holder, and nobody can take a reserved port before the
# app binds it.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443"
bind_plain='import errno, socket
s = socket.socket()
try:
    s.bind(("0.0.0.0", 443)); print("BOUND")
except OSError as e:
    print(errno.errorcode[e.errno])'

bg_start pb_alice reserved "$PB" --port 443 -- "$PY" "$APPS/selfbind.py" --delay 2 tcp,0.0.0.0,443
job=$BG_LAST
sleep 0.5
run ns_root "$PY" -c "$bind_plain"
assert_eq "EADDRINUSE" "$RUN_OUT" "while the app starts, port 443 is reserved for it"
assert_true "then the app binds it" wait_listen 443 tcp "$job"
assert_fetch "and serves" 127.0.0.1 443
assert_eq "OK" "$(rget "$REPORT" bind.0)" "the app's bind of the reserved port succeeded"
ns_kill_all

bg_start root holder "$PY" -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 443)); s.listen(); time.sleep(60)'
assert_true "root holds 443" wait_listen 443 tcp "$BG_LAST"
marker=$SCRATCH/shared/ran
run ns_user pb_alice "$PB" --port 0.0.0.0:443 -- /usr/bin/touch "$marker"
assert_refusal "in use"
assert_true "the command did not run" test ! -e "$marker"
ns_kill_all

# A reserved unprivileged port is released for the app's own (kernel-decided) bind, even
# when the app does not set SO_REUSEADDR.
plain_bind='import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("0.0.0.0", 8080)); print("BOUND")'
run ns_user pb_alice "$PB" --port 8080 -- "$PY" -c "$plain_bind" tcp
assert_eq "BOUND" "$RUN_OUT" "the app binds its reserved unprivileged tcp port"
run ns_user pb_alice "$PB" --port 8080/udp -- "$PY" -c "$plain_bind" udp
assert_eq "BOUND" "$RUN_OUT" "the app binds its reserved unprivileged udp port"
