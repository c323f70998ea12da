#!/bin/bash
# Caller with fds 0, 1 and 2 closed: the socket still lands at fd 3 (never
# 0-2), the app works, and nothing is written into the policy file.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443"
before=$(stat -c '%s %Y' "$POLICY")$(sha256sum <"$POLICY")

# shellcheck disable=SC2016  # expanded by the inner bash
CLOSE_AND_EXEC='exec "$@" <&- >&- 2>&-'

bg_start pb_alice app /bin/bash -c "$CLOSE_AND_EXEC" closed "$PB" --activate --port 443 -- "$PY" "$APPS/report.py"
assert_true "443 is listening" wait_listen 443 tcp "$BG_LAST"
assert_fetch "app started with closed stdio answers on 127.0.0.1" 127.0.0.1 443
r=$REPORT
assert_eq AF_INET6 "$(rget "$r" listen.3.family)" "fd 3 is the socket"
assert_eq "::,443" "$(rget "$r" listen.3.sockname)" "fd 3 bound to [::]:443"
assert_eq 1 "$(rget "$r" listen.3.acceptconn)" "fd 3 is listening"
assert_eq 1 "$(rget "$r" env.LISTEN_FDS)" "LISTEN_FDS=1"
for fd in 0 1 2; do
    assert_no_match "$(rget "$r" "startfd.$fd")" '^socket:|portbind-test/etc' "fd $fd is neither a socket nor the policy"
done
assert_dropped "$r" pb_alice
ns_kill_all

# A refusal with closed stdio: still exit 125, and the message is not written
# into the policy file (or any file that landed on fd 2).
run ns_user pb_bob /bin/bash -c "$CLOSE_AND_EXEC" closed "$PB" --activate --port 443 -- /usr/bin/true
assert_eq 125 "$RUN_RC" "pb_bob with closed stdio: refused with 125"
after=$(stat -c '%s %Y' "$POLICY")$(sha256sum <"$POLICY")
assert_eq "$before" "$after" "policy file unchanged (size, mtime, hash)"
assert_not_listening 443
