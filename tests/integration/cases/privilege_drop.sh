#!/bin/bash
# Inside the launched app there is no way back to privilege: every attempt to
# regain uid 0, gid 0, group 0 or CAP_NET_BIND_SERVICE fails.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443"

check_regain() { # DESC USER
    local r=$REPORT what=$1 t
    assert_dropped "$r" "$2" "$what"
    for t in setuid0 seteuid0 setresuid_e0 setgid0 setegid0 setgroups0 capset_raise ambient_raise; do
        assert_eq EPERM "$(rget "$r" "regain.$t")" "$what: $t fails with EPERM"
    done
    assert_eq EACCES "$(rget "$r" regain.bind444)" "$what: binding port 444 fails with EACCES"
}

bg_start pb_alice app "$PB" --activate --port 443 -- "$PY" "$APPS/report.py"
assert_fetch "pb_alice's app answers" 127.0.0.1 443
check_regain "pb_alice via portbind" pb_alice
ns_kill_all

# Through a non-default socket (UDP, IPv4 address) the result is the same.
write_policy "permit pb_alice port 53 proto udp addr 127.0.0.1"
bg_start pb_alice app2 "$PB" --activate --port 127.0.0.1:53/udp -- "$PY" "$APPS/report.py"
assert_fetch "pb_alice's UDP app answers" --udp 127.0.0.1 53
check_regain "pb_alice via portbind (udp)" pb_alice
ns_kill_all

# root --user pb_alice.
bg_start root app3 "$PB" --user pb_alice --activate --port 443 -- "$PY" "$APPS/report.py"
assert_fetch "root --user pb_alice: app answers" 127.0.0.1 443
check_regain "root --user pb_alice" pb_alice
ns_kill_all

# Control: the probe reports success when privilege is there (root serving
# report.py directly, without portbind), so the EPERM/EACCES results above
# come from the dropped process, not from the probe.
bg_start root ctl "$PY" -c 'import os, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 443))
s.listen(8)
if s.fileno() != 3:
    os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="unknown")
os.execv(sys.argv[1], sys.argv[1:])' "$PY" "$APPS/report.py"
assert_fetch "control app (root, no portbind) answers" 127.0.0.1 443
assert_eq OK "$(rget "$REPORT" regain.setgroups0)" "control: root can setgroups([0])"
assert_eq OK "$(rget "$REPORT" regain.bind444)" "control: root can bind 444"
ns_kill_all
