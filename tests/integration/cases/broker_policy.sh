#!/bin/bash
# The broker decides like the launcher, by the peer's kernel-provided identity: user and
# group rules, root, unmapped (overflow) ids, rules naming a program when the program is
# unknown, all-or-nothing requests, SO_REUSEPORT refused, one socket per requester, and a
# SIGHUP reload that keeps the old policy when the new one is broken or untrusted.
# It makes the policy file world-writable for a moment: in package mode, where that is the
# machine's /etc/portbind.conf, it runs in a private root (lib.sh).
PB_WANTS_PRIVATE_ROOT=1
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/broker_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/broker_common.bash"

write_policy "permit pb_alice port 80
permit :pbports port 81
permit pb_alice port 82 cmd /usr/bin/python3
permit pb_alice port 83
deny pb_alice port 83 cmd /usr/bin/false
permit pb_alice port 443
permit pb_bob port 443"
start_broker -- --socket "$BROKER_SOCK" || bail "broker did not start"

run pbclient pb_alice request 80
assert_eq "0" "$(rget "$RUN_OUT" status)" "pb_alice: port 80 granted"
assert_eq "1" "$(rget "$RUN_OUT" fds)" "one descriptor attached"
run pbclient pb_bob request 80
assert_eq "-13" "$(rget "$RUN_OUT" status)" "pb_bob: port 80 denied with -EACCES"
assert_eq "0" "$(rget "$RUN_OUT" fds)" "no descriptor with a denial"
assert_contains "$(rget "$RUN_OUT" text)" "no rule permits it" "the reply says why"

# Groups come from SO_PEERGROUPS: pb_carol is in pbports only as a supplementary group.
run pbclient pb_carol request 81
assert_eq "0" "$(rget "$RUN_OUT" status)" "pb_carol (supplementary group pbports): port 81 granted"
run pbclient pb_bob request 81
assert_eq "-13" "$(rget "$RUN_OUT" status)" "pb_bob (not in pbports): port 81 denied"
# A process that dropped its supplementary groups is judged without them.
run ns_root setpriv --reuid=pb_carol --regid=pb_carol --clear-groups -- \
    "$PY" "$SCRATCH/pbclient.py" "$BROKER_SOCK" request 81
assert_eq "-13" "$(rget "$RUN_OUT" status)" "pb_carol without her groups: port 81 denied"

# The broker cannot know a peer's program: a permit naming a program never matches, a
# deny naming one applies.
run pbclient pb_alice request 82
assert_eq "-13" "$(rget "$RUN_OUT" status)" "permit ... cmd: denied, the program is unknown"
run pbclient pb_alice request 83
assert_eq "-13" "$(rget "$RUN_OUT" status)" "deny ... cmd after a permit: denied (fails closed)"
assert_contains "$(rget "$RUN_OUT" text)" "program is unknown" "the reply explains the cmd rule"

# All or nothing: one denied socket refuses the request and binds nothing.
run pbclient pb_alice request 80 84
assert_eq "-13" "$(rget "$RUN_OUT" status)" "80 (permitted) with 84 (not): denied"
assert_not_listening 80

# Root is not subject to the policy; unprivileged ports need no rule.
run pbclient root request 84 85/udp
assert_eq "0" "$(rget "$RUN_OUT" status)" "root: any privileged port"
assert_eq "2" "$(rget "$RUN_OUT" fds)" "root: two descriptors"
run pbclient pb_bob request 8080 8081/udp
assert_eq "0" "$(rget "$RUN_OUT" status)" "pb_bob: unprivileged ports without a rule"

# SO_REUSEPORT is refused (all broker sockets share one owner).
run pbclient pb_alice request --flags 2 80
assert_eq "-1" "$(rget "$RUN_OUT" status)" "SO_REUSEPORT: -EPERM"

# Duplicate sockets in one request.
run pbclient pb_alice request 80 80
assert_eq "-22" "$(rget "$RUN_OUT" status)" "the same socket twice: -EINVAL"

# Credentials the client attaches are ignored: SO_PEERCRED decides.
run pbclient pb_bob creds 80
assert_eq "-13" "$(rget "$RUN_OUT" status)" "pb_bob attaching SCM_CREDENTIALS is still pb_bob"

# One socket, one requester: pb_alice holds 443, pb_bob (also permitted) cannot take it;
# once she is gone he can.
bg_start pb_alice hold443 "$PY" "$SCRATCH/pbclient.py" "$BROKER_SOCK" hold 443 30
hold=$BG_LAST
wait_listen 443 tcp "$hold" || diag "holder: $(cat "$SCRATCH/hold443.out" "$SCRATCH/hold443.err")"
run pbclient pb_bob request 443
assert_eq "-98" "$(rget "$RUN_OUT" status)" "pb_bob cannot get 443 while pb_alice holds it (EADDRINUSE)"
# All or nothing at bind time too: with 443 in use, a request for 8081 and 443 fails whole,
# names the socket that failed, and leaves 8081 unbound.
run pbclient pb_bob request 8081 443
assert_eq "-98" "$(rget "$RUN_OUT" status)" "8081 with the held 443: the whole request fails (EADDRINUSE)"
assert_eq "0" "$(rget "$RUN_OUT" fds)" "and no socket is passed"
assert_contains "$(rget "$RUN_OUT" text)" "cannot bind 443/tcp" "the reply names the socket that failed"
run pbclient pb_bob request 8081
assert_eq "0" "$(rget "$RUN_OUT" status)" "8081 was not left bound by the failed request"
kill -KILL "$(ip netns pids "$NS" | while read -r p; do
    tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q 'hold 443' && echo "$p"; done)" 2>/dev/null || true
bg_wait "$hold" 5
run pbclient pb_bob request 443
assert_eq "0" "$(rget "$RUN_OUT" status)" "after pb_alice is killed, pb_bob gets 443"

# Peers in a user namespace without a mapping appear as the overflow uid: never granted.
# The broker runs in a user namespace that maps only root, so pb_alice is unmapped there.
# Supplementary groups are cleared first: such a namespace denies setgroups(), and the
# broker refuses to keep groups it cannot drop (root's own, when started through sudo).
stop_broker
write_policy "permit * port 80"
rm -f "$BROKER_SOCK"
start_broker setpriv --clear-groups unshare -U --map-root-user -- --socket "$BROKER_SOCK" ||
    bail "userns broker did not start"
run pbclient pb_alice request 80
assert_eq "-13" "$(rget "$RUN_OUT" status)" "an unmapped peer (overflow uid) is refused"
assert_contains "$(rget "$RUN_OUT" text)" "overflow" "the reply names the overflow id"
run pbclient pb_alice request 8080
assert_eq "-13" "$(rget "$RUN_OUT" status)" "an unmapped peer gets not even an unprivileged port"
stop_broker

# ---- SIGHUP reload
write_policy "permit pb_alice port 80"
rm -f "$BROKER_SOCK"
start_broker -- --socket "$BROKER_SOCK" || bail "broker did not start"
run pbclient pb_alice request 80
assert_eq "0" "$(rget "$RUN_OUT" status)" "before reload: pb_alice granted"

reload_and_wait() {
    local before
    before=$(grep -c 'policy' "$BROKER_ERR")
    kill -HUP "$BROKER_PID"
    for _ in $(seq 100); do
        [ "$(grep -c 'policy' "$BROKER_ERR")" -gt "$before" ] && return 0
        sleep 0.05
    done
    return 1
}

# A syntax error: the old policy stays, and the broker says so.
write_file "$POLICY" "permit pb_bob port 80
alow pb_bob port 81"
assert_true "SIGHUP with a broken policy is answered" reload_and_wait
assert_contains "$(tail -n 1 "$BROKER_ERR")" "policy reload failed, keeping the previous policy" \
    "the broker says it keeps the previous policy"
assert_contains "$(tail -n 1 "$BROKER_ERR")" "$POLICY:2" "and names the error"
run pbclient pb_alice request 80
assert_eq "0" "$(rget "$RUN_OUT" status)" "broken reload: pb_alice still granted (old policy)"
run pbclient pb_bob request 80
assert_eq "-13" "$(rget "$RUN_OUT" status)" "broken reload: pb_bob still denied"

# A policy file writable by others: refused, old policy kept.
write_file "$POLICY" "permit pb_bob port 80"
chmod 0666 "$POLICY"
assert_true "SIGHUP with an insecure policy is answered" reload_and_wait
assert_contains "$(tail -n 1 "$BROKER_ERR")" "keeping the previous policy" "insecure file: previous policy kept"
run pbclient pb_bob request 80
assert_eq "-13" "$(rget "$RUN_OUT" status)" "insecure reload: pb_bob still denied"

# A valid policy that drops pb_alice: her next request is denied.
write_file "$POLICY" "permit pb_bob port 80"
assert_true "SIGHUP with a valid policy is answered" reload_and_wait
assert_contains "$(tail -n 1 "$BROKER_ERR")" "policy reloaded: 1 rules" "the new policy is loaded"
run pbclient pb_alice request 80
assert_eq "-13" "$(rget "$RUN_OUT" status)" "after reload: pb_alice denied"
run pbclient pb_bob request 80
assert_eq "0" "$(rget "$RUN_OUT" status)" "after reload: pb_bob granted"
