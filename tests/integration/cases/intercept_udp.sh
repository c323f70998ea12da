#!/bin/bash
# Default mode with UDP: a DNS-style server binds 53/udp itself; a tcp-only rule does not
# cover it.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 53 proto udp"
bg_start pb_alice dns "$PB" -- "$PY" "$APPS/selfbind.py" udp,0.0.0.0,53 udp,::1,53
assert_true "53/udp is bound" wait_listen 53 udp "$BG_LAST"
assert_fetch "a datagram to 127.0.0.1:53 is answered" --udp 127.0.0.1 53
assert_eq "OK" "$(rget "$REPORT" bind.0)" "bind of 0.0.0.0:53/udp performed"
assert_eq "OK" "$(rget "$REPORT" bind.1)" "bind of [::1]:53/udp performed"
assert_fetch "a datagram to [::1]:53 is answered" --udp ::1 53
assert_dropped "$REPORT" pb_alice
ns_kill_all

run ns_user pb_alice "$PB" -- "$PY" "$APPS/selfbind.py" --try tcp,0.0.0.0,53
assert_contains "$RUN_OUT" "bind.0=EACCES" "a udp-only rule does not let the app bind 53/tcp"

write_policy "permit pb_alice port 53 proto tcp"
run ns_user pb_alice "$PB" -- "$PY" "$APPS/selfbind.py" --try udp,0.0.0.0,53
assert_contains "$RUN_OUT" "bind.0=EACCES" "a tcp-only rule does not let the app bind 53/udp"
