#!/bin/bash
# Caller with extra fds open at 3, 4 and 50: the app's fd 3 is the bound
# socket (not the caller's file) and every other fd >= 4 is closed.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443"

# shellcheck disable=SC2016  # expanded by the inner bash
OPEN_AND_EXEC='exec "$@" 3</etc/hostname 4</etc/hostname 50</etc/hostname'

bg_start pb_alice app /bin/bash -c "$OPEN_AND_EXEC" stray "$PB" --activate --port 443 -- "$PY" "$APPS/report.py"
assert_true "443 is listening" wait_listen 443 tcp "$BG_LAST"
assert_fetch "app answers" 127.0.0.1 443
r=$REPORT
assert_match "$(rget "$r" startfd.3)" '^socket:\[[0-9]+\]$' "fd 3 is a socket, not the caller's /etc/hostname"
assert_eq AF_INET6 "$(rget "$r" listen.3.family)" "fd 3 is AF_INET6"
assert_eq "::,443" "$(rget "$r" listen.3.sockname)" "fd 3 bound to [::]:443"
assert_eq 1 "$(rget "$r" listen.3.acceptconn)" "fd 3 is listening"
assert_eq "" "$(rget "$r" startfd.4)" "fd 4 is not open in the app"
assert_eq "" "$(rget "$r" startfd.50)" "fd 50 is not open in the app"
assert_no_match "$r" '^startfd\.[0-9]+=/etc/hostname$' "no caller file reached the app"
assert_eq "0,1,2,3" "$(rget "$r" startfds)" "app started with exactly fds 0-3"
ns_kill_all

# Same with two sockets: 3 and 4 are the sockets, in --port order, 50 closed.
bg_start pb_alice app2 /bin/bash -c "$OPEN_AND_EXEC" stray "$PB" --activate --port 443 --port 8443 -- "$PY" "$APPS/report.py"
assert_fetch "two sockets: app answers on 8443" 127.0.0.1 8443
r=$REPORT
assert_eq "::,443" "$(rget "$r" listen.3.sockname)" "two sockets: fd 3 is 443"
assert_eq "::,8443" "$(rget "$r" listen.4.sockname)" "two sockets: fd 4 is 8443"
assert_eq "" "$(rget "$r" startfd.50)" "two sockets: fd 50 closed"
assert_eq "0,1,2,3,4" "$(rget "$r" startfds)" "two sockets: exactly fds 0-4"
assert_eq 2 "$(rget "$r" env.LISTEN_FDS)" "two sockets: LISTEN_FDS=2"
assert_eq "unknown:unknown" "$(rget "$r" env.LISTEN_FDNAMES)" "two sockets: LISTEN_FDNAMES=unknown:unknown"
ns_kill_all
