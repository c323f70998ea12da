#!/bin/bash
# Stale LISTEN_* in the caller's environment (including duplicate entries)
# are replaced: the app sees exactly one LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES
# with the right values.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443"

check_report() { # DESC NAMES
    local r=$REPORT pid
    pid=$(rget "$r" pid)
    assert_eq 1 "$(rget "$r" env.LISTEN_FDS)" "$1: LISTEN_FDS=1"
    assert_eq "$pid" "$(rget "$r" env.LISTEN_PID)" "$1: LISTEN_PID is the app's pid ($pid)"
    assert_eq "$2" "$(rget "$r" env.LISTEN_FDNAMES)" "$1: LISTEN_FDNAMES=$2"
    assert_eq 1 "$(rcount "$r" rawenv=LISTEN_FDS=)" "$1: exactly one LISTEN_FDS entry"
    assert_eq 1 "$(rcount "$r" rawenv=LISTEN_PID=)" "$1: exactly one LISTEN_PID entry"
    assert_eq 1 "$(rcount "$r" rawenv=LISTEN_FDNAMES=)" "$1: exactly one LISTEN_FDNAMES entry"
    assert_no_match "$r" '^rawenv=(LISTEN_FDS=(7|9)|LISTEN_PID=1|LISTEN_FDNAMES=(x:y|z)|LISTEN_PIDFDID=1)$' "$1: no stale value survived"
    assert_ne 1 "$(rget "$r" env.LISTEN_PIDFDID)" "$1: stale LISTEN_PIDFDID=1 did not survive"
    assert_no_match "$r" '^rawenv=LISTEN_FDS_FIRST_FD=' "$1: listenfd's LISTEN_FDS_FIRST_FD is removed"
}

bg_start pb_alice app env LISTEN_FDS=7 LISTEN_PID=1 LISTEN_FDNAMES=x:y LISTEN_PIDFDID=1 \
    "$PB" --activate --port 443 -- "$PY" "$APPS/report.py"
assert_fetch "app answers despite stale LISTEN_* in the caller's env" 127.0.0.1 443
check_report "stale env" unknown
ns_kill_all

# Duplicate entries that a shell cannot produce, via execve().
bg_start pb_alice app2 "$APPS/rawexec" \
    -e PATH=/usr/bin:/bin -e LISTEN_FDS=7 -e LISTEN_FDS=9 -e LISTEN_PID=1 -e LISTEN_PID=1 \
    -e LISTEN_FDNAMES=x:y -e LISTEN_FDNAMES=z -e LISTEN_FDS_FIRST_FD=7 -e LISTEN_ADDRESS=keep \
    -- "$PB" portbind --activate --port 443=web -- "$PY" "$APPS/report.py"
assert_fetch "app answers despite duplicate LISTEN_* entries" ::1 443
check_report "duplicate env" web
# Only the socket-activation protocol's variables are replaced: an app's own settings
# that happen to start with LISTEN_ (LISTEN_ADDRESS, LISTEN_PORT, ...) are not touched.
assert_match "$REPORT" '^rawenv=LISTEN_ADDRESS=keep$' "the app's own LISTEN_ADDRESS is passed through"
ns_kill_all

# The caller's ordinary environment is otherwise passed to the app.
# shellcheck disable=SC2016  # expanded by the launched shell
bg_start pb_alice app3 env PBTEST_KEEP=yes "$PB" --activate --port 443 -- \
    /bin/sh -c 'test "$PBTEST_KEEP" = yes && exec "$0" "$@"' "$PY" "$APPS/report.py"
assert_fetch "ordinary variables reach the app" 127.0.0.1 443
ns_kill_all
