#!/bin/bash
# Ports >= ip_unprivileged_port_start (pinned to 1024) need no rule, even
# with an empty policy; 1023 still does.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "# empty: nothing permitted"

bg_start pb_bob app "$PB" --activate --port 8080 -- "$PY" "$APPS/report.py"
assert_true "8080 is listening" wait_listen 8080 tcp "$BG_LAST"
assert_fetch "pb_bob's app answers on 8080 with an empty policy" 127.0.0.1 8080
assert_dropped "$REPORT" pb_bob
assert_eq "::,8080" "$(rget "$REPORT" listen.3.sockname)" "fd 3 bound to [::]:8080"
assert_eq "$(uid_of pb_bob)" "$(sock_uid 8080 tcp6)" "socket on 8080 owned by pb_bob"
ns_kill_all

run ns_user pb_bob "$PB" --activate --port 1024 -- /usr/bin/true
assert_eq 0 "$RUN_RC" "1024 (the boundary) needs no rule"
run ns_user pb_bob "$PB" --activate --port 65535/udp -- /usr/bin/true
assert_eq 0 "$RUN_RC" "65535/udp needs no rule"
run ns_user pb_bob "$PB" --activate --port 1023 -- /usr/bin/true
assert_refusal 1023

# Also with no policy file at all.
reset_policy
run ns_user pb_bob "$PB" --activate --port 8080 -- /usr/bin/true
assert_eq 0 "$RUN_RC" "8080 needs no rule without any policy file"
