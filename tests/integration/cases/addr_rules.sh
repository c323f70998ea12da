#!/bin/bash
# addr restrictions: a permit for a dual-stack request must cover both 0.0.0.0
# and ::, a deny matches if it covers either; explicit addresses bind exactly.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# try SPEC: alice activates SPEC with a command that only checks it got fd 3.
try() {
    # shellcheck disable=SC2016  # expanded by the launched shell
    run ns_user pb_alice "$PB" --activate --port "$1" -- /bin/sh -c 'test "$LISTEN_FDS" = 1 && test -S /proc/self/fd/3'
}

# serve SPEC HOST FAMILY SOCKNAME: the app gets the socket it asked for.
serve() {
    local spec=$1 host=$2 family=$3 sockname=$4
    bg_start pb_alice app "$PB" --activate --port "$spec" -- "$PY" "$APPS/report.py"
    assert_fetch "$spec: app answers on $host" "$host" 443
    assert_eq "$family" "$(rget "$REPORT" listen.3.family)" "$spec: fd 3 is $family"
    assert_eq "$sockname" "$(rget "$REPORT" listen.3.sockname)" "$spec: fd 3 bound to $sockname"
    ns_kill_all
}

write_policy "permit pb_alice port 443 addr 127.0.0.1"
try 127.0.0.1:443
assert_eq 0 "$RUN_RC" "addr 127.0.0.1 permits 127.0.0.1:443"
serve 127.0.0.1:443 127.0.0.1 AF_INET 127.0.0.1,443
try 443
assert_refusal 443
try 127.0.0.2:443
assert_eq 125 "$RUN_RC" "addr 127.0.0.1 does not permit 127.0.0.2:443"
try '[::1]:443'
assert_eq 125 "$RUN_RC" "addr 127.0.0.1 does not permit [::1]:443"

write_policy "permit pb_alice port 443 addr 0.0.0.0/0,::/0"
try 443
assert_eq 0 "$RUN_RC" "addr 0.0.0.0/0,::/0 permits a dual-stack request"
serve 443 ::1 AF_INET6 ::,443

write_policy "permit pb_alice port 443 addr 0.0.0.0/0"
try 443
assert_eq 125 "$RUN_RC" "addr 0.0.0.0/0 alone does not cover a dual-stack request"
try 127.0.0.1:443
assert_eq 0 "$RUN_RC" "addr 0.0.0.0/0 permits 127.0.0.1:443"

write_policy "permit pb_alice port 443 addr ::1"
try '[::1]:443'
assert_eq 0 "$RUN_RC" "addr ::1 permits [::1]:443"
serve '[::1]:443' ::1 AF_INET6 ::1,443
try 127.0.0.1:443
assert_eq 125 "$RUN_RC" "addr ::1 does not permit 127.0.0.1:443"
try 443
assert_eq 125 "$RUN_RC" "addr ::1 does not permit a dual-stack request"

write_policy "permit pb_alice port 443 addr *"
try 443
assert_eq 0 "$RUN_RC" "addr * permits a dual-stack request"

# A deny covering either family refuses the dual-stack request, but not a
# request for an address outside it.
write_policy "permit pb_alice port 443
deny pb_alice port 443 addr ::/0"
try 443
assert_refusal 443
try 127.0.0.1:443
assert_eq 0 "$RUN_RC" "deny addr ::/0 leaves 127.0.0.1:443 permitted"
try '[::1]:443'
assert_eq 125 "$RUN_RC" "deny addr ::/0 refuses [::1]:443"

write_policy "permit pb_alice port 443
deny pb_alice port 443 addr 0.0.0.0"
try 443
assert_eq 125 "$RUN_RC" "deny addr 0.0.0.0 refuses the dual-stack wildcard (it covers 0.0.0.0)"
try 127.0.0.1:443
assert_eq 0 "$RUN_RC" "deny addr 0.0.0.0 leaves 127.0.0.1:443 permitted"

assert_not_listening 443
