#!/bin/bash
# Group subjects (:group) match primary and supplementary groups; the last
# matching rule decides.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

try() { # USER: activate 443 with a command that proves it got the socket
    # shellcheck disable=SC2016  # expanded by the launched shell
    run ns_user "$1" "$PB" --activate --port 443 -- /bin/sh -c 'test "$LISTEN_FDS" = 1 && test -S /proc/self/fd/3'
}

write_policy "permit :pbports port 443"
try pb_alice
assert_eq 0 "$RUN_RC" "pb_alice (supplementary group pbports) permitted"
try pb_carol
assert_eq 0 "$RUN_RC" "pb_carol (pbports) permitted"
try pb_bob
assert_refusal 443
assert_not_listening 443

write_policy "permit :pbports port 443
deny :pbextra port 443"
try pb_alice
assert_eq 0 "$RUN_RC" "pb_alice still permitted (not in pbextra)"
try pb_carol
assert_refusal 443
try pb_bob
assert_eq 125 "$RUN_RC" "pb_bob still refused"

# Order matters: the same rules the other way round permit carol.
write_policy "deny :pbextra port 443
permit :pbports port 443"
try pb_carol
assert_eq 0 "$RUN_RC" "last match wins: later permit :pbports overrides earlier deny :pbextra"

# Primary group (user-private group pb_bob).
write_policy "permit :pb_bob port 443"
try pb_bob
assert_eq 0 "$RUN_RC" "pb_bob permitted through his primary group"
try pb_alice
assert_eq 125 "$RUN_RC" "pb_alice is not in group pb_bob"

# '*' matches everyone; a later user rule can still deny.
write_policy "permit * port 443
deny pb_bob port 443"
try pb_alice
assert_eq 0 "$RUN_RC" "permit * lets pb_alice in"
try pb_bob
assert_eq 125 "$RUN_RC" "deny pb_bob after permit * refuses pb_bob"
