#!/bin/bash
# portbind.d/*.conf are read after portbind.conf, in lexical order; the last
# matching rule across all files decides.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

try() { # USER PORT
    run ns_user "$1" "$PB" --activate --port "$2" -- /usr/bin/true
}

write_policy "# nothing here"
write_dropin 10-alice.conf "permit pb_alice port 443"
try pb_alice 443
assert_eq 0 "$RUN_RC" "a drop-in alone can permit"
try pb_bob 443
assert_eq 125 "$RUN_RC" "the drop-in permits only pb_alice"

write_dropin 20-deny.conf "deny pb_alice port 443"
try pb_alice 443
assert_refusal 443

# Lexical order, not creation order: 05- sorts before 10- and 20-.
write_policy "deny pb_alice port 443"
write_dropin 30-permit.conf "permit pb_alice port 443"
write_dropin 05-deny.conf "deny pb_alice port 443"
try pb_alice 443
assert_eq 0 "$RUN_RC" "30-permit.conf (last in lexical order) decides over portbind.conf and 05-deny.conf"

# portbind.conf is read first: a drop-in overrides it.
write_policy "permit pb_alice port 443"
write_dropin 10-deny.conf "deny pb_alice port 443"
try pb_alice 443
assert_eq 125 "$RUN_RC" "a drop-in deny overrides a portbind.conf permit"
run ns_user pb_alice "$PB" check 443
assert_eq 1 "$RUN_RC" "check: denied"
assert_contains "$RUN_OUT$RUN_ERR" "portbind.d/10-deny.conf:1" "check names the deciding drop-in rule"
