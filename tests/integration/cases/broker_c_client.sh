#!/bin/bash
# libportbind from C: a client built through pkg-config against the installed library,
# run as an unprivileged user, gets port 80 from a broker and serves a real connection;
# a user the policy does not permit gets -EACCES; the library refuses fake brokers. Also
# the library's packaging: SONAME, exported symbols, absolute pkg-config paths.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/broker_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/broker_common.bash"

# ---- the installed library
lib=$PB_LIBDIR/libportbind.so.0
assert_true "libportbind.so.0 is installed in $PB_LIBDIR" test -e "$lib"
assert_match "$(readelf -d "$lib")" 'Library soname: \[libportbind\.so\.0\]' "SONAME is libportbind.so.0"
exports=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $3 }' | paste -sd' ' -)
assert_eq "portbind_bind@@PORTBIND_0" "$exports" "the library exports exactly portbind_bind"
assert_true "portbind.h is installed" test -f "$PB_INCLUDEDIR/portbind.h"
assert_eq "$PB_LIBDIR" \
    "$(pb_dev env PKG_CONFIG_PATH="$PB_PKGCONFIG" pkg-config --variable=libdir portbind)" \
    "portbind.pc: absolute libdir"
assert_eq "$PB_INCLUDEDIR" \
    "$(pb_dev env PKG_CONFIG_PATH="$PB_PKGCONFIG" pkg-config --variable=includedir portbind)" \
    "portbind.pc: absolute includedir"
if build_pbexample; then
    ok "a C program compiles and links through pkg-config"
else
    not_ok "a C program compiles and links through pkg-config"
    diag "$(cat "$SCRATCH/cc.err")"
    exit 1
fi
chmod 0755 "$SCRATCH/pbexample"

# ---- a real connection on port 80, served by the unprivileged client
write_policy "permit pb_alice port 80"
start_broker -- --socket "$BROKER_SOCK" || bail "broker did not start"

run pbexample pb_bob 80
assert_eq 1 "$RUN_RC" "pb_bob (no rule): portbind_bind fails"
assert_eq "error=13" "$(kv "$RUN_OUT" error)" "pb_bob gets -EACCES"
assert_contains "$RUN_ERR" "Permission denied" "the C client reports EACCES"
assert_not_listening 80

bg_start pb_alice alice_server env PORTBIND_SOCKET="$BROKER_SOCK" "$SCRATCH/pbexample" 80
alice=$BG_LAST
if wait_listen 80 tcp "$alice"; then
    ok "pb_alice's client holds port 80"
else
    not_ok "pb_alice's client holds port 80"
    diag "client: $(cat "$SCRATCH/alice_server.out" "$SCRATCH/alice_server.err")"
    diag "broker: $(cat "$BROKER_ERR")"
fi
owner=$(sock_uid 80 tcp6)
assert_fetch "a connection to port 80 is served by pb_alice's program" ::1 80
assert_eq "hello from portbind_bind" "$REPORT" "the answer came from the C client"
bg_wait "$alice" 5
assert_eq 0 "$BG_RC" "the C client exited cleanly after serving"
out=$(cat "$SCRATCH/alice_server.out")
assert_eq "cloexec=1" "$(kv "$out" cloexec)" "the socket is close-on-exec"
assert_eq "listening=1" "$(kv "$out" listening)" "the TCP socket arrived listening"
assert_eq "$(stat -c %u "/proc/$BROKER_PID")" "$owner" \
    "the socket belongs to the broker's uid, not the client's (documented)"

log=$(cat "$BROKER_ERR")
assert_match "$log" "granted: user pb_alice \(uid $(uid_of pb_alice)\) pid [0-9]+ exe [^ ]+ socket 80/tcp on \[::\] \(dual-stack\): permitted by $POLICY:1" \
    "the grant is logged with uid, pid, exe and socket"
assert_match "$log" "denied: user pb_bob \(uid $(uid_of pb_bob)\) pid [0-9]+ exe [^ ]+ socket 80/tcp on \[::\] \(dual-stack\): no rule permits it" \
    "the denial is logged with uid, pid, exe and socket"

# ---- bad specs never reach the broker
run pbexample pb_alice 80/sctp
assert_eq "error=22" "$(kv "$RUN_OUT" error)" "a bad spec is -EINVAL"

# ---- fake brokers are refused before anything is sent
# A socket in a directory anyone may write.
bg_start pb_bob fake1 "$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1]); s.listen()
time.sleep(30)' "$SCRATCH/shared/fake.sock"
for _ in $(seq 50); do [ -S "$SCRATCH/shared/fake.sock" ] && break; sleep 0.05; done
run ns_user pb_alice env PORTBIND_SOCKET="$SCRATCH/shared/fake.sock" "$SCRATCH/pbexample" 80
assert_eq "error=1" "$(kv "$RUN_OUT" error)" "a socket in a world-writable directory: -EPERM"
assert_contains "$RUN_ERR" "Operation not permitted" "refused as untrusted"

# A socket in a root-owned directory whose server is neither root nor the socket's owner:
# bob binds it in a directory his group may write, then root takes the file.
mkdir -m 0775 "$SCRATCH/bobrun"
chown root:pb_bob "$SCRATCH/bobrun"
bg_start pb_bob fake2 "$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1]); s.listen()
while True:
    c, _ = s.accept()
    c.send(b"PBRP\x01\x00\x00\x00\xf3\xff\xff\xff\x00\x00\x00\x00")' "$SCRATCH/bobrun/pb.sock"
for _ in $(seq 50); do [ -S "$SCRATCH/bobrun/pb.sock" ] && break; sleep 0.05; done
chown root:root "$SCRATCH/bobrun/pb.sock"
chmod 0666 "$SCRATCH/bobrun/pb.sock"
run ns_user pb_alice env PORTBIND_SOCKET="$SCRATCH/bobrun/pb.sock" "$SCRATCH/pbexample" 80
assert_eq "error=1" "$(kv "$RUN_OUT" error)" \
    "a server that is neither root nor the socket's owner: -EPERM (not the fake's -EACCES)"

# Not a path: the abstract namespace is never used.
run ns_user pb_alice env PORTBIND_SOCKET="@portbind" "$SCRATCH/pbexample" 80
assert_eq "error=22" "$(kv "$RUN_OUT" error)" "an abstract or relative socket name is -EINVAL"

# No broker at all.
run ns_user pb_alice env PORTBIND_SOCKET="$BROKER_DIR/none.sock" "$SCRATCH/pbexample" 80
assert_eq "error=2" "$(kv "$RUN_OUT" error)" "no socket: -ENOENT"
