#!/bin/bash
# UDP: --port 53/udp with a "proto udp" rule passes a bound datagram socket;
# protocols in rules are not interchangeable.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

alice_uid=$(uid_of pb_alice)

write_policy "permit pb_alice port 53 proto udp"

bg_start pb_alice dns "$PB" --activate --port 53/udp -- "$PY" "$APPS/report.py"
assert_true "53/udp is bound" wait_listen 53 udp "$BG_LAST"
assert_fetch "datagram to 127.0.0.1:53 answered" --udp 127.0.0.1 53
r4=$REPORT
assert_fetch "datagram to [::1]:53 answered" --udp ::1 53
r6=$REPORT
assert_eq "::ffff:127.0.0.1" "$(rget "$r4" peer)" "IPv4 datagram reached the dual-stack socket"
assert_eq "::1" "$(rget "$r6" peer)" "IPv6 datagram reached the socket"
assert_eq SOCK_DGRAM "$(rget "$r4" listen.3.type)" "fd 3 is SOCK_DGRAM"
assert_eq AF_INET6 "$(rget "$r4" listen.3.family)" "fd 3 is AF_INET6"
assert_eq "::,53" "$(rget "$r4" listen.3.sockname)" "fd 3 bound to [::]:53"
assert_eq 0 "$(rget "$r4" listen.3.v6only)" "fd 3 is dual-stack"
assert_eq 0 "$(rget "$r4" listen.3.acceptconn)" "datagram socket is not listening"
assert_eq 0 "$(rget "$r4" listen.3.cloexec)" "fd 3 not FD_CLOEXEC"
assert_eq 1 "$(rget "$r4" env.LISTEN_FDS)" "LISTEN_FDS=1"
assert_dropped "$r4" pb_alice
assert_eq "$alice_uid" "$(sock_uid 53 udp6)" "/proc/net/udp6: socket on :0035 owned by pb_alice"
assert_eq "" "$(listening 53 tcp)" "no TCP socket on 53"
ns_kill_all
assert_not_listening 53 udp

# UDP rule does not permit TCP.
run ns_user pb_alice "$PB" --activate --port 53 -- /usr/bin/true
assert_refusal 53

# TCP-only rule does not permit UDP.
write_policy "permit pb_alice port 53 proto tcp"
run ns_user pb_alice "$PB" --activate --port 53/udp -- /usr/bin/true
assert_refusal 53
run ns_user pb_alice "$PB" --activate --port 53/tcp -- /usr/bin/true
assert_eq 0 "$RUN_RC" "proto tcp rule permits 53/tcp"

# A rule without proto covers both.
write_policy "permit pb_alice port 53"
run ns_user pb_alice "$PB" --activate --port 53/udp -- /usr/bin/true
assert_eq 0 "$RUN_RC" "rule without proto permits 53/udp"

# Mixed request: TCP and UDP on the same port, passed in order.
write_policy "permit pb_alice port 53"
bg_start pb_alice mixed "$PB" --activate --port 53/tcp --port 53/udp -- "$PY" "$APPS/report.py"
assert_true "53/udp is bound (mixed)" wait_listen 53 udp "$BG_LAST"
assert_fetch "mixed: TCP 53 answers" 127.0.0.1 53
assert_eq SOCK_STREAM "$(rget "$REPORT" listen.3.type)" "mixed: fd 3 is the TCP socket"
assert_eq SOCK_DGRAM "$(rget "$REPORT" listen.4.type)" "mixed: fd 4 is the UDP socket"
assert_eq 2 "$(rget "$REPORT" env.LISTEN_FDS)" "mixed: LISTEN_FDS=2"
assert_fetch "mixed: UDP 53 answers" --udp ::1 53
ns_kill_all
