#!/bin/bash
# A permitted user socket-activates a Python server on 443 (dual-stack):
# identity, groups, capabilities, LISTEN_* values, the passed fd's state and
# the socket's owner are checked over IPv4 and IPv6.  Negative control: the
# same user cannot bind 443 without portbind.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

alice_uid=$(uid_of pb_alice)
zero=0000000000000000

write_policy "# test policy
permit pb_alice port 443"

# Negative control: the privileged-port boundary really holds for pb_alice.
run in_netns_as pb_alice "$PY" -c "$PY_BIND_PROBE" 443
assert_eq EACCES "$RUN_OUT" "without portbind pb_alice cannot bind 443 in a fresh netns"
run ns_user pb_alice "$PY" -c "$PY_BIND_PROBE" 443
assert_eq EACCES "$RUN_OUT" "without portbind pb_alice cannot bind 443 in the case netns"
run ns_user pb_alice "$PY" -c "$PY_BIND_PROBE" 1024
assert_eq BOUND "$RUN_OUT" "pb_alice can bind 1024 (the probe itself works)"

bg_start pb_alice app "$PB" --activate --port 443 -- "$PY" "$APPS/report.py"
app=$BG_LAST
assert_true "port 443 is listening" wait_listen 443 tcp "$app"

assert_fetch "report over 127.0.0.1:443" 127.0.0.1 443
r4=$REPORT
assert_fetch "report over [::1]:443" ::1 443
r6=$REPORT

assert_eq "::ffff:127.0.0.1" "$(rget "$r4" peer)" "IPv4 client reached the dual-stack socket as v4-mapped"
assert_eq "::1" "$(rget "$r6" peer)" "IPv6 client reached the socket over ::1"

for r in "$r4" "$r6"; do
    assert_dropped "$r" pb_alice
    assert_eq "0" "$(rget "$r" status.NoNewPrivs)" "NoNewPrivs is not set in --activate mode"
done

pid=$(rget "$r4" pid)
assert_eq "$pid" "$(rget "$r6" pid)" "both connections served by the same process"
assert_app_pid "$pid" pb_alice "$PY"
assert_eq "$pid" "$(rget "$r4" env.LISTEN_PID)" "LISTEN_PID is the app's pid"
assert_eq "1" "$(rget "$r4" env.LISTEN_FDS)" "LISTEN_FDS=1"
assert_eq "unknown" "$(rget "$r4" env.LISTEN_FDNAMES)" "LISTEN_FDNAMES=unknown"
for v in LISTEN_FDS LISTEN_PID LISTEN_FDNAMES; do
    assert_eq 1 "$(rcount "$r4" "rawenv=$v=")" "exactly one $v entry in the environment"
done
ino=$(pidfd_ino "$pid")
if [ -n "$ino" ]; then
    assert_eq "$ino" "$(rget "$r4" env.LISTEN_PIDFDID)" "LISTEN_PIDFDID is the app's pidfd inode (kernel has pidfs)"
else
    ok "LISTEN_PIDFDID # SKIP kernel has no pidfs"
fi

assert_eq "AF_INET6" "$(rget "$r4" listen.3.family)" "fd 3 is AF_INET6"
assert_eq "SOCK_STREAM" "$(rget "$r4" listen.3.type)" "fd 3 is SOCK_STREAM"
assert_eq "::,443" "$(rget "$r4" listen.3.sockname)" "fd 3 is bound to [::]:443"
assert_eq "1" "$(rget "$r4" listen.3.acceptconn)" "fd 3 is listening (SO_ACCEPTCONN)"
assert_eq "0" "$(rget "$r4" listen.3.v6only)" "fd 3 is dual-stack (IPV6_V6ONLY=0)"
assert_eq "0" "$(rget "$r4" listen.3.cloexec)" "fd 3 is not FD_CLOEXEC"
assert_eq "0" "$(rget "$r4" listen.3.nonblock)" "fd 3 is blocking (no O_NONBLOCK)"
assert_eq "0,1,2,3" "$(rget "$r4" startfds)" "the app started with exactly fds 0-3"
assert_match "$(rget "$r4" startfd.3)" '^socket:\[[0-9]+\]$' "fd 3 is a socket"
assert_no_match "$r4" '^startfd\.[0-9]+=.*portbind-test/etc' "no policy file or directory leaked to the app"

assert_eq "$alice_uid" "$(sock_uid 443 tcp6)" "/proc/net/tcp6: the listener on :01BB is owned by pb_alice"
assert_eq "" "$(sock_uid 443 tcp)" "no separate IPv4 listener on 443"

# The running app has no way back to privilege.
assert_eq "EPERM" "$(rget "$r4" regain.setuid0)" "app: setuid(0) fails with EPERM"
assert_eq "EACCES" "$(rget "$r4" regain.bind444)" "app: binding another privileged port fails with EACCES"
assert_eq "$zero" "$(rget "$r6" status.CapEff)" "CapEff empty over IPv6 report too"

ns_kill_all
assert_not_listening 443
