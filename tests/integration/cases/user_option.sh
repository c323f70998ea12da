#!/bin/bash
# --user USER (root only): bind, then run the command as USER with USER's
# groups, no capabilities, HOME/USER/LOGNAME set.  --user and --policy are
# refused for non-root callers.
# It writes another policy file next to the policy: in package mode, where that is the
# machine's /etc, it runs in a private root (lib.sh).
PB_WANTS_PRIVATE_ROOT=1
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

marker=$SCRATCH/shared/ran
write_policy "# nothing permitted"

bg_start root app "$PB" --user pb_alice --activate --port 443 -- "$PY" "$APPS/report.py"
assert_true "443 is listening" wait_listen 443 tcp "$BG_LAST"
assert_fetch "app started by root --user pb_alice answers on ::1" ::1 443
r=$REPORT
assert_dropped "$r" pb_alice "--user pb_alice"
assert_eq "pb_alice" "$(rget "$r" env.USER)" "USER=pb_alice"
assert_eq "pb_alice" "$(rget "$r" env.LOGNAME)" "LOGNAME=pb_alice"
assert_eq "$(home_of pb_alice)" "$(rget "$r" env.HOME)" "HOME is pb_alice's home"
assert_eq "EPERM" "$(rget "$r" regain.setuid0)" "the app cannot setuid(0)"
assert_eq "EPERM" "$(rget "$r" regain.setgroups0)" "the app cannot setgroups([0])"
assert_eq "$(rget "$r" pid)" "$(rget "$r" env.LISTEN_PID)" "LISTEN_PID is the app's pid"
assert_eq 1 "$(rget "$r" env.LISTEN_FDS)" "LISTEN_FDS=1"
assert_eq "::,443" "$(rget "$r" listen.3.sockname)" "fd 3 bound to [::]:443"
assert_app_pid "$(rget "$r" pid)" pb_alice "$PY"
ns_kill_all

bg_start root app2 "$PB" --user pb_carol --activate --port 443 -- "$PY" "$APPS/report.py"
assert_fetch "root --user pb_carol: app answers" 127.0.0.1 443
assert_dropped "$REPORT" pb_carol "--user pb_carol"
ns_kill_all

# Non-root callers.
run ns_user pb_alice "$PB" --user pb_alice --activate --port 8080 -- /usr/bin/touch "$marker"
assert_refusal "--user"
assert_true "non-root --user: the command did not run" test ! -e "$marker"
run ns_user pb_alice "$PB" --user pb_bob --activate --port 8080 -- /usr/bin/touch "$marker"
assert_refusal "--user"
run ns_user pb_bob "$PB" --user root --activate --port 8080 -- /usr/bin/touch "$marker"
assert_refusal "--user"
assert_true "non-root --user root: the command did not run" test ! -e "$marker"

# --policy: root only, even when the named file is safe and permissive.
write_file "$POLICY_DIR/alt.conf" "permit * port 1-65535"
run ns_user pb_alice "$PB" --policy "$POLICY_DIR/alt.conf" --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal "--policy"
assert_true "non-root --policy: the command did not run" test ! -e "$marker"
run ns_user pb_bob "$PB" check --policy "$POLICY_DIR/alt.conf" 443
assert_eq 125 "$RUN_RC" "check --policy is refused for non-root too (not an option of check, or root only)"
assert_not_listening 443

# root may use --policy (together with --user).
write_file "$POLICY_DIR/alt.conf" "permit pb_alice port 443"
run ns_root "$PB" --policy "$POLICY_DIR/alt.conf" --user pb_alice --activate --port 443 -- /usr/bin/id -u
assert_eq 0 "$RUN_RC" "root: --policy FILE --user pb_alice is accepted"
assert_eq "$(uid_of pb_alice)" "$RUN_OUT" "the command ran as pb_alice"
