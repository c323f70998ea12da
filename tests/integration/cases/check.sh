#!/bin/bash
# `portbind check`: exit 0 when every spec is permitted, 1 when any is
# denied, 125 on errors; names the deciding rule as file:line or says
# "no rule matched"; --user is root-only.
# It makes the policy file world-writable for a moment: in package mode, where that is the
# machine's /etc/portbind.conf, it runs in a private root (lib.sh).
PB_WANTS_PRIVATE_ROOT=1
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "# check test policy
permit pb_alice port 443
deny pb_alice port 22
permit pb_alice port 25 proto udp
permit :pbports port 993"

chk() { # USER ARGS...: runs portbind check as USER in the namespace
    local u=$1
    shift
    run ns_as "$u" "$PB" check "$@"
}
lines() { if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | grep -c ''; fi; }

chk pb_alice 443
assert_eq 0 "$RUN_RC" "check 443 as pb_alice: permitted (exit 0)"
assert_contains "$RUN_OUT" "$POLICY:2" "check 443 names the deciding rule $POLICY:2"
assert_eq 1 "$(lines "$RUN_OUT")" "one line for one spec"

chk pb_alice 22
assert_eq 1 "$RUN_RC" "check 22: denied by a rule (exit 1)"
assert_contains "$RUN_OUT" "$POLICY:3" "check 22 names the deny rule $POLICY:3"

chk pb_alice 444
assert_eq 1 "$RUN_RC" "check 444: denied (exit 1)"
assert_contains "$RUN_OUT" "no rule matched" "check 444 says 'no rule matched'"

chk pb_alice 443 444
assert_eq 1 "$RUN_RC" "check 443 444: any denied -> exit 1"
assert_eq 2 "$(lines "$RUN_OUT")" "one line per spec"
assert_contains "$RUN_OUT" "$POLICY:2" "443 line still names its rule"
assert_contains "$RUN_OUT" "no rule matched" "444 line says no rule matched"

chk pb_alice 25/udp
assert_eq 0 "$RUN_RC" "check 25/udp permitted by the proto udp rule"
assert_contains "$RUN_OUT" "$POLICY:4" "check 25/udp names $POLICY:4"
chk pb_alice 25
assert_eq 1 "$RUN_RC" "check 25 (tcp) denied: the rule is udp-only"

chk pb_alice 993
assert_eq 0 "$RUN_RC" "check 993: permitted through group pbports"
assert_contains "$RUN_OUT" "$POLICY:5" "check 993 names $POLICY:5"
chk pb_bob 993
assert_eq 1 "$RUN_RC" "check 993 as pb_bob: denied"

chk pb_bob 8080
assert_eq 0 "$RUN_RC" "check 8080 (unprivileged port): permitted without a rule"

for bad in 0 65536 0443 +443 0x1bb 443/sctp '[::1]' 1.2.3:443 '[::1%lo]:443' '[::ffff:127.0.0.1]:443' 443=a:b; do
    chk pb_alice "$bad"
    assert_eq 125 "$RUN_RC" "check '$bad': invalid spec -> 125"
done

# --user is for root only.
chk pb_alice --user pb_bob 443
assert_eq 125 "$RUN_RC" "check --user as pb_alice -> 125"
assert_match "$RUN_ERR" '^portbind: ' "check --user refusal is a 'portbind:' message"
chk pb_bob --user pb_alice 443
assert_eq 125 "$RUN_RC" "check --user pb_alice as pb_bob -> 125 (no borrowing rights)"
chk pb_alice --user pb_alice 443
assert_eq 125 "$RUN_RC" "check --user even for oneself -> 125 when not root"

chk root --user pb_alice 443
assert_eq 0 "$RUN_RC" "root: check --user pb_alice 443 -> 0"
assert_contains "$RUN_OUT" "$POLICY:2" "root: names $POLICY:2"
chk root --user pb_bob 443
assert_eq 1 "$RUN_RC" "root: check --user pb_bob 443 -> 1"
assert_contains "$RUN_OUT" "no rule matched" "root: pb_bob 443 no rule matched"
chk root --user pb_carol 993
assert_eq 0 "$RUN_RC" "root: check --user pb_carol 993 -> 0 (group rule)"

# Unsafe policy -> 125.
chmod 0666 "$POLICY"
chk pb_alice 443
assert_eq 125 "$RUN_RC" "check with a world-writable policy -> 125"
assert_contains "$RUN_OUT$RUN_ERR" "$POLICY" "check names the unsafe file"
chmod 0644 "$POLICY"

# Syntax error: file:line:col, and nothing is permitted.
write_policy "permit pb_alice port 443
permit pb_alice port 80 proto sctp"
chk pb_alice 443
assert_ne 0 "$RUN_RC" "check 443 with a syntax error in the policy is not permitted"
assert_match "$RUN_OUT$RUN_ERR" "portbind\\.conf:2:[0-9]+" "syntax error reported as $POLICY:2:col"
