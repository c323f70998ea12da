#!/bin/bash
# Port already in use: exit 125, "in use" message naming the holder when the
# caller may see it; `portbind who` lists the holder.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

marker=$SCRATCH/shared/ran
write_policy "permit pb_alice port 443"

HOLD='import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 443))
s.listen(8)
time.sleep(60)'

# 1. root holds 443.
bg_start root holder "$PY" -c "$HOLD"
assert_true "root's listener holds 443" wait_listen 443 tcp "$BG_LAST"
holder_pid=$(ip netns pids "$NS" | head -n1)
assert_match "$(tr "\\0" " " <"/proc/$holder_pid/cmdline")" "python3 -c" "found the holder's pid ($holder_pid)"

run ns_user pb_alice "$PB" --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal 443 "in use"
assert_true "the command did not run" test ! -e "$marker"

run ns_root "$PB" who 443
assert_eq 0 "$RUN_RC" "root: portbind who 443 -> 0"
assert_contains "$RUN_OUT" "$holder_pid" "root: who 443 shows the holder's pid"
assert_contains "$RUN_OUT" "python3" "root: who 443 shows the holder's command"
assert_contains "$RUN_OUT" "root" "root: who 443 shows the holder's user"

run ns_user pb_alice "$PB" who 443
assert_eq 0 "$RUN_RC" "pb_alice: portbind who 443 -> 0 (held)"
assert_contains "$RUN_OUT" "443" "pb_alice: who 443 lists the socket"

run ns_user pb_alice "$PB" who 444
assert_eq 1 "$RUN_RC" "portbind who 444 (nobody holds it) -> 1"
ns_kill_all

# 2. pb_alice holds 443 herself (through portbind); a second request names
#    her process, which she may see.
bg_start pb_alice first "$PB" --activate --port 443 -- "$PY" "$APPS/report.py"
assert_true "pb_alice's first app listens on 443" wait_listen 443 tcp "$BG_LAST"
assert_fetch "first app answers" 127.0.0.1 443
first_pid=$(rget "$REPORT" pid)

run ns_user pb_alice "$PB" --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal 443 "in use" "$first_pid"
assert_match "$RUN_ERR" "python3|report\\.py" "the message names the holder's command"
assert_true "the command did not run" test ! -e "$marker"
assert_fetch "the first app is unaffected" 127.0.0.1 443
assert_eq "$first_pid" "$(rget "$REPORT" pid)" "still served by the first app"

run ns_user pb_alice "$PB" who 443
assert_eq 0 "$RUN_RC" "pb_alice: who 443 -> 0"
assert_contains "$RUN_OUT" "$first_pid" "pb_alice: who 443 shows her own process's pid"
assert_contains "$RUN_OUT" "pb_alice" "pb_alice: who 443 shows the user"

run ns_root "$PB" who
assert_eq 0 "$RUN_RC" "who without ports -> 0"
assert_contains "$RUN_OUT" "$first_pid" "who without ports lists the listener"
ns_kill_all

# 3. A UDP holder does not block TCP, but blocks UDP.  (The holder does not
#    set SO_REUSEADDR: for UDP that would let a second socket share the port.)
write_policy "permit pb_alice port 53"
bg_start root udpholder "$PY" -c 'import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 53))
time.sleep(60)'
assert_true "root's UDP socket holds 53/udp" wait_listen 53 udp "$BG_LAST"
run ns_user pb_alice "$PB" --activate --port 53/udp -- /usr/bin/true
assert_refusal 53 "in use"
run ns_user pb_alice "$PB" --activate --port 53/tcp -- /usr/bin/true
assert_eq 0 "$RUN_RC" "53/tcp is free while 53/udp is held"
ns_kill_all
