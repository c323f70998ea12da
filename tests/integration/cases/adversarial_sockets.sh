#!/bin/bash
# Socket semantics an attacker could lean on. Sockets belong to the caller, not root, so
# they cannot join a root service's SO_REUSEPORT group on the same port (TCP or UDP), in
# either mode, while root's own sockets can. A TCP socket handed over by --activate is
# listening, so it cannot connect out from the privileged port; a UDP socket is bound and
# can send (documented). Only systemd's socket options exist; nothing needing another
# capability is ever set. Port 0 is refused. A request that fails half-way leaves nothing
# bound and runs nothing; a refused one binds nothing at all. Families and protocols other
# than TCP and UDP over IP are never bound by portbind.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/adversarial_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/adversarial_common.bash"

write_policy "permit pb_alice port 443
permit pb_alice port 53 proto udp"
alice_uid=$(uid_of pb_alice)
marker=$SCRATCH/shared/ran

# A root service with an SO_REUSEPORT listener (or UDP socket) on PROTO PORT.
REUSEPORT_SERVICE='import socket, sys, time
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET6, kind)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("::", int(sys.argv[2])))
if kind == socket.SOCK_STREAM:
    s.listen(8)
time.sleep(100)'

# An app for the default mode that binds PROTO PORT itself with SO_REUSEPORT; prints the
# result of bind().
REUSEPORT_APP='import errno, socket, sys
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET6, kind)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
try:
    s.bind(("::", int(sys.argv[2])))
    print("bind=OK")
except OSError as e:
    print("bind=" + errno.errorcode[e.errno])'

# What a socket-activated app finds at fd 3: SO_REUSEPORT, listening, flags, and what
# happens when it connects out from the socket.
FD3_REPORT='import errno, fcntl, os, socket
s = socket.socket(fileno=3)
g = lambda level, opt: s.getsockopt(level, opt)
print("reuseport=%d" % g(socket.SOL_SOCKET, socket.SO_REUSEPORT))
print("acceptconn=%d" % g(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
print("cloexec=%d" % (fcntl.fcntl(3, fcntl.F_GETFD) & fcntl.FD_CLOEXEC))
print("nonblock=%d" % (1 if fcntl.fcntl(3, fcntl.F_GETFL) & os.O_NONBLOCK else 0))
print("mark=%d" % g(socket.SOL_SOCKET, socket.SO_MARK))
print("priority=%d" % g(socket.SOL_SOCKET, socket.SO_PRIORITY))
print("transparent=%d" % g(socket.IPPROTO_IPV6, 75))  # IPV6_TRANSPARENT
print("freebind=%d" % g(socket.IPPROTO_IPV6, 78))  # IPV6_FREEBIND
print("device=%r" % s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b"\0"))
s.settimeout(2)
try:
    if s.type == socket.SOCK_STREAM:
        s.connect(("::1", 9))
    else:
        s.sendto(b"x", ("::1", 9))
    print("out=OK")
except OSError as e:
    print("out=" + errno.errorcode.get(e.errno, str(e.errno)))'

# ------------------------------------------------------------ SO_REUSEPORT groups
scenario 36 refused
for proto in tcp udp; do
    port=443
    [ "$proto" == udp ] && port=53
    bg_start root "svc-$proto" "$PY" -c "$REUSEPORT_SERVICE" "$proto" "$port"
    assert_true "$proto: root's SO_REUSEPORT service holds $port" wait_listen "$port" "$proto" "$BG_LAST"

    run ns_user pb_alice "$PB" --activate --reuseport --port "$port/$proto" -- /usr/bin/touch "$marker"
    assert_refusal "$port" "in use"
    assert_true "$proto --activate: the command did not run" test ! -e "$marker"
    run ns_user pb_alice "$PB" --reuseport --port "$port/$proto" -- /usr/bin/touch "$marker"
    assert_refusal "$port" "in use"
    assert_true "$proto default mode --port: the command did not run" test ! -e "$marker"
    run ns_user pb_alice "$PB" -- "$PY" -c "$REUSEPORT_APP" "$proto" "$port"
    assert_eq "bind=EADDRINUSE" "$RUN_OUT" "$proto default mode: the app's own SO_REUSEPORT bind is refused (EADDRINUSE)"
    assert_eq 1 "$(listening "$port" "$proto" | grep -c '')" "$proto: root's socket is still alone on $port"
    assert_eq 0 "$(sock_uid "$port" "${proto}6")" "$proto: and it is root's"

    # Control: a socket that root owns does join the group, so the refusals above come from
    # the owner.
    run ns_root "$PB" --activate --reuseport --port "$port/$proto" -- "$PY" -c "$FD3_REPORT"
    assert_eq 0 "$RUN_RC" "$proto control: root's own portbind joins root's group"
    assert_eq 1 "$(rget "$RUN_OUT" reuseport)" "$proto control: with SO_REUSEPORT set"
    ns_kill_all
done

# Control: the caller's own group takes the caller's socket (an unprivileged port, so the
# caller can make the group herself), so SO_REUSEPORT does work for the owner.
bg_start pb_alice own-group "$PY" -c "$REUSEPORT_SERVICE" tcp 8443
assert_true "pb_alice's own SO_REUSEPORT listener on 8443" wait_listen 8443 tcp "$BG_LAST"
run ns_user pb_alice "$PB" --activate --reuseport --port 8443 -- "$PY" -c "$FD3_REPORT"
assert_eq 0 "$RUN_RC" "control: pb_alice's portbind socket joins her own group"
assert_eq "$alice_uid" "$(sock_uid 8443 tcp6)" "control: 8443 is pb_alice's"
ns_kill_all

# ---------------------------------------------------------------- what fd 3 is
scenario 17,34 documented
run ns_user pb_alice "$PB" --activate --port 443 -- "$PY" -c "$FD3_REPORT"
assert_eq 0 "$RUN_RC" "--activate tcp: the app ran"
assert_eq 1 "$(rget "$RUN_OUT" acceptconn)" "--activate tcp: the socket is listening"
assert_eq EISCONN "$(rget "$RUN_OUT" out)" "--activate tcp: connect() from the privileged port fails (EISCONN)"
assert_eq 0 "$(rget "$RUN_OUT" cloexec)" "--activate tcp: not close-on-exec"
assert_eq 0 "$(rget "$RUN_OUT" nonblock)" "--activate tcp: blocking"
assert_eq 0 "$(rget "$RUN_OUT" reuseport)" "--activate tcp: no SO_REUSEPORT unless asked"
run ns_user pb_alice "$PB" --activate --nonblock --port 443 -- "$PY" -c "$FD3_REPORT"
assert_eq 1 "$(rget "$RUN_OUT" nonblock)" "--nonblock: non-blocking"
run ns_user pb_alice "$PB" --activate --port 53/udp -- "$PY" -c "$FD3_REPORT"
assert_eq 0 "$(rget "$RUN_OUT" acceptconn)" "--activate udp: a bound datagram socket"
assert_eq OK "$(rget "$RUN_OUT" out)" "--activate udp: it can send from the granted port (documented)"
# Control: the same connect from an unbound socket works, so EISCONN is the listen state.
run ns_user pb_alice "$PY" -c 'import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
try:
    s.connect(("::1", 9)); print("OK")
except OSError as e:
    print(e.errno)'
assert_eq 111 "$RUN_OUT" "control: an unbound socket's connect() reaches the kernel (ECONNREFUSED)"

# ------------------------------------------------------- privileged socket options
scenario 35 refused
for opt in --mark=1 --priority=7 --transparent --bindtodevice=lo --rcvbufforce=1 --reuseaddr; do
    run ns_user pb_alice "$PB" --activate "$opt" --port 443 -- /usr/bin/touch "$marker"
    assert_refusal "unknown option"
done
assert_true "unknown socket options: the command never ran" test ! -e "$marker"
run ns_user pb_alice "$PB" --activate --reuseport --freebind --port 443 -- "$PY" -c "$FD3_REPORT"
r=$RUN_OUT
assert_eq 1 "$(rget "$r" reuseport)" "--reuseport sets SO_REUSEPORT"
assert_eq 1 "$(rget "$r" freebind)" "--freebind sets IPV6_FREEBIND"
for k in mark priority transparent; do
    assert_eq 0 "$(rget "$r" "$k")" "no $k on the passed socket"
done
assert_eq "b''" "$(rget "$r" device)" "no SO_BINDTODEVICE on the passed socket"

# ---------------------------------------------------------------------- port 0
scenario 37 refused
for mode in --activate ""; do
    # shellcheck disable=SC2086  # an empty mode selects the default mode
    run ns_user pb_alice "$PB" $mode --port 0 -- /usr/bin/touch "$marker"
    assert_refusal "0"
    assert_true "--port 0 ${mode:-(default mode)}: the command did not run" test ! -e "$marker"
done

# -------------------------------------------------------------------- partial failure
scenario 19 refused
bg_start root holder "$PY" -c "$REUSEPORT_SERVICE" tcp 444
assert_true "root holds 444" wait_listen 444 tcp "$BG_LAST"
write_policy "permit pb_alice port 443,444"
for mode in --activate ""; do
    label=${mode:-default mode}
    # shellcheck disable=SC2086  # an empty mode selects the default mode
    run ns_user pb_alice "$PB" $mode --port 443 --port 444 -- /usr/bin/touch "$marker"
    assert_refusal 444 "in use"
    assert_true "$label: the command did not run" test ! -e "$marker"
    assert_port_free 443
done
ns_kill_all
write_policy "permit pb_alice port 443"
# A refused request never reaches bind() at all (traced by root, so the privilege stays).
command -v strace >/dev/null || bail "strace is not installed (a test dependency)"
for mode in --activate ""; do
    label=${mode:-default mode}
    # shellcheck disable=SC2086  # an empty mode selects the default mode
    run ns_root strace -f -qq -e trace=socket,bind -o "$SCRATCH/strace.out" -u pb_alice \
        "$PB" $mode --port 443 --port 444 -- /usr/bin/touch "$marker"
    assert_eq 125 "$RUN_RC" "$label under strace: 443 and the denied 444 refused"
    assert_no_match "$(cat "$SCRATCH/strace.out")" 'bind\(' "$label: no bind() at all"
    assert_no_match "$(cat "$SCRATCH/strace.out")" 'socket\(AF_INET6?, SOCK_(STREAM|DGRAM)[^)]*IPPROTO_(TCP|UDP)' \
        "$label: not even a TCP or UDP socket"
done
run ns_root strace -f -qq -e trace=bind -o "$SCRATCH/strace.out" -u pb_alice \
    "$PB" --activate --port 443 -- /usr/bin/true
assert_eq 0 "$RUN_RC" "control: under strace a permitted request is served"
assert_match "$(cat "$SCRATCH/strace.out")" 'bind\(.*443.*= 0' "control: and its bind() is traced"

# ------------------------------------------------------- families and protocols
scenario 32 refused
# The default mode serves TCP and UDP over IP only. A UDP-Lite socket (a protocol of its
# own, which no rule names) on the same privileged port is left to the kernel; a unix
# socket is bound by the app with its own rights.
run ns_user pb_alice "$PB" -- "$PY" -c 'import errno, os, socket, sys
for label, fam, kind, proto, addr in (
        ("udplite", socket.AF_INET6, socket.SOCK_DGRAM, 136, ("::", 443)),
        ("unix", socket.AF_UNIX, socket.SOCK_STREAM, 0, sys.argv[1])):
    try:
        s = socket.socket(fam, kind, proto)
        s.bind(addr)
        print(label + "=OK")
    except OSError as e:
        print(label + "=" + errno.errorcode[e.errno])
print("unixowner=%d" % os.stat(sys.argv[1]).st_uid)' "$SCRATCH/shared/app.sock"
if [ "$(rget "$RUN_OUT" udplite)" == EPROTONOSUPPORT ]; then
    diag "this kernel has no UDP-Lite; only the unix socket is checked"
else
    assert_eq EACCES "$(rget "$RUN_OUT" udplite)" "a UDP-Lite bind of 443 is not served (EACCES from the kernel)"
fi
assert_eq OK "$(rget "$RUN_OUT" unix)" "a unix socket binds as usual"
assert_eq "$alice_uid" "$(rget "$RUN_OUT" unixowner)" "and its file is the caller's, not root's"
for spec in 443/sctp 443/raw unix:/x; do
    run ns_user pb_alice "$PB" --activate --port "$spec" -- /usr/bin/touch "$marker"
    assert_refusal "$spec"
done
assert_true "no other family or protocol: the command never ran" test ! -e "$marker"
