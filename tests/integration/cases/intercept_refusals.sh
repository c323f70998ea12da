#!/bin/bash
# Default mode refusals: a bind the policy does not permit gets EACCES inside the app (which
# keeps running); unprivileged ports are the app's own business; a --port that is denied
# fails before the app starts; binds not covered by the given --port are not served; cmd
# rules match the program that binds.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443,444"
run ns_user pb_bob "$PB" -- "$PY" "$APPS/selfbind.py" --try tcp,0.0.0.0,443 tcp,0.0.0.0,8080
assert_eq 0 "$RUN_RC" "the app ran for pb_bob (no --port given)"
assert_contains "$RUN_OUT" "bind.0=EACCES" "pb_bob's own bind of 443 gets EACCES"
assert_contains "$RUN_OUT" "bind.1=OK" "an unprivileged port binds as usual"

marker=$SCRATCH/shared/ran
run ns_user pb_bob "$PB" --port 443 -- /usr/bin/touch "$marker"
assert_refusal "443" "pb_bob"
assert_true "a denied --port fails before the command runs" test ! -e "$marker"

run ns_user pb_alice "$PB" --port 443 -- "$PY" "$APPS/selfbind.py" --try tcp,0.0.0.0,444 tcp,0.0.0.0,443
assert_contains "$RUN_OUT" "bind.0=EACCES" "444 is permitted by the policy but not covered by --port 443"
assert_contains "$RUN_OUT" "bind.1=OK" "443 is covered and permitted"

run ns_user pb_alice "$PB" --port 127.0.0.1:443 -- "$PY" "$APPS/selfbind.py" --try tcp,0.0.0.0,443
assert_contains "$RUN_OUT" "bind.0=EACCES" "--port 127.0.0.1:443 does not cover 0.0.0.0:443"

python=$(readlink -f "$PY")
write_policy "permit pb_alice port 443 cmd $python"
run ns_user pb_alice "$PB" -- "$PY" "$APPS/selfbind.py" --try tcp,0.0.0.0,443
assert_contains "$RUN_OUT" "bind.0=OK" "a cmd rule for $python lets python bind"
run ns_user pb_alice "$PB" -- /bin/sh -c "exec $PY $APPS/selfbind.py --try tcp,0.0.0.0,443"
assert_contains "$RUN_OUT" "bind.0=OK" "cmd matches the program that binds, even after an exec"
write_policy "permit pb_alice port 443 cmd /usr/bin/node"
run ns_user pb_alice "$PB" -- "$PY" "$APPS/selfbind.py" --try tcp,0.0.0.0,443
assert_contains "$RUN_OUT" "bind.0=EACCES" "a cmd rule for node does not let python bind"

# A policy with an error denies every bind.
write_policy "permit pb_alice port 443
bogus line"
run ns_user pb_alice "$PB" -- "$PY" "$APPS/selfbind.py" --try tcp,0.0.0.0,443
assert_contains "$RUN_OUT" "bind.0=EACCES" "a broken policy denies the app's bind"
