#!/bin/bash
# A permitted user socket-activates a Node.js server (listen({fd: 3})) on 443;
# it serves IPv4 and IPv6 clients as the user with no capabilities.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

alice_uid=$(uid_of pb_alice)
alice_gid=$(gid_of pb_alice)
zero=0000000000000000

write_policy "permit pb_alice port 443"

run ns_user pb_alice "$NODE" -e '
const s = require("net").createServer();
s.on("error", (e) => { console.log(e.code); process.exit(0); });
s.listen(443, () => { console.log("BOUND"); process.exit(0); });'
assert_eq EACCES "$RUN_OUT" "without portbind node as pb_alice cannot listen on 443"

bg_start pb_alice node "$PB" --activate --port 443 -- "$NODE" "$APPS/report.js"
assert_true "port 443 is listening" wait_listen 443 tcp "$BG_LAST"
for host in 127.0.0.1 ::1; do
    assert_fetch "node app answers on $host:443" "$host" 443
    r=$REPORT
    assert_eq node "$(rget "$r" runtime)" "answer comes from report.js ($host)"
    assert_eq "$alice_uid" "$(rget "$r" uid)" "node: uid is pb_alice ($host)"
    assert_eq "$alice_uid" "$(rget "$r" euid)" "node: euid is pb_alice ($host)"
    assert_eq "$alice_gid" "$(rget "$r" gid)" "node: gid is pb_alice's ($host)"
    assert_eq "$alice_gid" "$(rget "$r" egid)" "node: egid is pb_alice's ($host)"
    assert_eq "$(groups_of pb_alice)" "$(rget "$r" groups)" "node: groups are pb_alice's ($host)"
    assert_eq "$alice_uid $alice_uid $alice_uid $alice_uid" "$(rget "$r" status.Uid)" "node: all four uids ($host)"
    for c in CapInh CapPrm CapEff CapAmb; do
        assert_eq "$zero" "$(rget "$r" "status.$c")" "node: $c is empty ($host)"
    done
    assert_eq 1 "$(rget "$r" env.LISTEN_FDS)" "node: LISTEN_FDS=1 ($host)"
    assert_eq "$(rget "$r" pid)" "$(rget "$r" env.LISTEN_PID)" "node: LISTEN_PID is its pid ($host)"
done
assert_app_pid "$(rget "$r" pid)" pb_alice "$NODE"
assert_eq "$alice_uid" "$(sock_uid 443 tcp6)" "listener owned by pb_alice"

ns_kill_all
assert_not_listening 443
