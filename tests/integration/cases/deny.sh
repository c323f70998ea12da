#!/bin/bash
# A user without a permitting rule is refused: exit 125, one "portbind: ..."
# line naming the port, nothing bound, and the command never runs.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

marker=$SCRATCH/shared/ran
write_policy "permit pb_alice port 443"

run ns_user pb_bob "$PB" --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal 443
assert_eq "" "$RUN_OUT" "nothing on stdout"
assert_true "the command did not run (no marker)" test ! -e "$marker"
assert_not_listening 443

# Positive control: the same command line works for the permitted user, so
# the refusal above is the policy's doing.
run ns_user pb_alice "$PB" --activate --port 443 -- /usr/bin/touch "$marker"
assert_eq 0 "$RUN_RC" "pb_alice (permitted) runs the same command"
assert_true "the command ran for pb_alice (marker exists)" test -e "$marker"
rm -f "$marker"

# Every port of a request must be permitted: one denied port refuses all, and
# the command still does not run.
run ns_user pb_alice "$PB" --activate --port 443 --port 444 -- /usr/bin/touch "$marker"
assert_refusal 444
assert_true "partially permitted request: the command did not run" test ! -e "$marker"
assert_not_listening 443

# The denial does not reveal whether someone else may use the port: bob's
# message for alice's port and for an unused privileged port are the same
# apart from the port number.
run ns_user pb_bob "$PB" --activate --port 443 -- /usr/bin/true
m443=${RUN_ERR//443/PORT}
run ns_user pb_bob "$PB" --activate --port 444 -- /usr/bin/true
m444=${RUN_ERR//444/PORT}
assert_eq "$m443" "$m444" "denial text identical for a port permitted to someone else and an unused one"

# No policy file at all denies everything.
reset_policy
run ns_user pb_alice "$PB" --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal 443
assert_true "missing policy: the command did not run" test ! -e "$marker"

# Empty policy denies everything.
write_policy "# nothing permitted"
run ns_user pb_alice "$PB" --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal 443
assert_true "empty policy: the command did not run" test ! -e "$marker"
