#!/bin/bash
# portbind setcap grant / revoke / list on real files with real xattrs: the capability lands
# (getcap), an unprivileged user can then bind port 80 with the program and cannot after
# revoke; a symlink is resolved and the output names the file changed; the registry records
# the grant (root-owned 0644, documented format); every change is logged to syslog; only
# root may use the subcommand (in setuid mode too).
# It creates and removes the setcap state directory: in package mode, where that is the
# machine's /var/lib/portbind, it runs in a private root (lib.sh).
PB_WANTS_PRIVATE_ROOT=1
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

REGISTRY=$STATE_DIR/setcap.registry
T=$PB_ROOT/setcap-$$ # root-owned 0755 (not /tmp, which every user can write)

setcap_cleanup() { rm -rf -- "$T" "${STATE_TOP:?}"; }
trap 'rc=$?; set +e; trap - ERR; setcap_cleanup; (exit $rc); _finish' EXIT
setcap_cleanup
mkdir -m 0755 "$T"

# A tiny program that binds 127.0.0.1:80 and prints BOUND or why not.
cat >"$SCRATCH/binder.c" <<'EOF'
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
int main(void) {
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(80);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
        printf("%s\n", strerror(errno));
        return 1;
    }
    puts("BOUND");
    return 0;
}
EOF
cc -O2 -Wall -o "$SCRATCH/binder" "$SCRATCH/binder.c" || bail "cannot compile the test binder"
install -o root -g root -m 0755 "$SCRATCH/binder" "$T/binder"

# Registry entries right now.
entries() { grep -c '^path=' "$REGISTRY" || true; }

# alice_binds: prints what the binder says when pb_alice runs it (fresh netns, port
# boundary pinned at 1024).
alice_binds() {
    in_netns_as pb_alice "$T/binder" 2>&1 || true
}

# ----------------------------------------------------------- positive control
assert_eq "Permission denied" "$(alice_binds)" "without a capability pb_alice cannot bind 80"
run getcap "$T/binder"
assert_eq "" "$RUN_OUT" "the fresh copy carries no capability"

# ---------------------------------------------------------------- grant
assert_exit 0 "$PB" setcap grant "$T/binder"
assert_eq "granted cap_net_bind_service=ep to $T/binder" "$RUN_OUT" "grant says what it did"
assert_eq "" "$RUN_ERR" "grant of a safe binary prints no warning"
assert_eq "$T/binder cap_net_bind_service=ep" "$(getcap "$T/binder")" \
    "getcap shows exactly cap_net_bind_service=ep"
assert_eq "BOUND" "$(alice_binds)" "with the grant pb_alice binds port 80 with the program"

# The registry: root-owned 0644 text file, header, one documented line.
assert_eq "0 0 644" "$(stat -c '%u %g %a' "$REGISTRY")" "registry is root:root 0644"
assert_eq "0 0 755" "$(stat -c '%u %g %a' "$STATE_DIR")" "state directory is root:root 0755"
assert_eq "portbind-setcap-registry 1" "$(head -n1 "$REGISTRY")" "registry starts with its header"
entry=$(grep -v '^#' "$REGISTRY" | tail -n +2)
dev=$(stat -c '%Hd:%Ld' "$T/binder")
ino=$(stat -c %i "$T/binder")
size=$(stat -c %s "$T/binder")
assert_match "$entry" "^path=$T/binder caps=cap_net_bind_service=ep force=no dev=$dev ino=$ino size=$size mtime=[0-9]+\\.[0-9]{9} granted=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\$" \
    "registry line records path, caps, identity and time"
assert_true "no temporary file is left next to the registry" test ! -e "$STATE_DIR/.setcap.registry.new"

assert_exit 0 "$PB" setcap list
assert_match "$RUN_OUT" "^ok +$T/binder cap_net_bind_service=ep granted " "list shows the grant as ok"

# Granting again is idempotent: one entry, same capability.
assert_exit 0 "$PB" setcap grant "$T/binder"
assert_eq 1 "$(entries)" "a second grant does not duplicate the entry"

# ---------------------------------------------------------------- revoke
assert_exit 0 "$PB" setcap revoke "$T/binder"
assert_eq "revoked cap_net_bind_service=ep from $T/binder" "$RUN_OUT" "revoke says what it did"
assert_eq "" "$(getcap "$T/binder")" "revoke removes the capability"
assert_eq "Permission denied" "$(alice_binds)" "after revoke pb_alice cannot bind 80 again"
assert_eq 0 "$(entries)" "revoke removes the registry entry"
assert_exit 0 "$PB" setcap list
assert_contains "$RUN_OUT" "no grants recorded" "list says the registry is empty"

run "$PB" setcap revoke "$T/binder"
assert_refusal "not in the setcap registry"

# ------------------------------------------------------- through symlinks
mkdir -m 0755 "$T/lib" "$T/bin" "$T/alt"
install -o root -g root -m 0755 "$SCRATCH/binder" "$T/lib/server"
ln -s ../alt/server "$T/bin/server"
ln -s "$T/lib/server" "$T/alt/server"
assert_exit 0 "$PB" setcap grant "$T/bin/server"
assert_eq "granted cap_net_bind_service=ep to $T/lib/server ($T/bin/server -> $T/alt/server -> $T/lib/server)" \
    "$RUN_OUT" "grant through symlinks names the whole chain and the real file"
assert_eq "$T/lib/server cap_net_bind_service=ep" "$(getcap "$T/lib/server")" "the real file got the capability"
assert_true "the symlinks are still symlinks" test -L "$T/bin/server" -a -L "$T/alt/server"
assert_match "$(cat "$REGISTRY")" "^path=$T/lib/server " "the registry records the real file"
assert_exit 0 "$PB" setcap revoke "$T/bin/server"
assert_eq "revoked cap_net_bind_service=ep from $T/lib/server" "$RUN_OUT" "revoke through the symlink finds the real file"
assert_eq "" "$(getcap "$T/lib/server")" "and removes its capability"

# A relative path is resolved against the working directory.
run bash -c "cd '$T/lib' && '$PB' setcap grant ./server"
assert_eq 0 "$RUN_RC" "grant of a relative path"
assert_eq "granted cap_net_bind_service=ep to $T/lib/server" "$RUN_OUT" \
    "a relative path is named by the file it resolved to"
assert_exit 0 "$PB" setcap revoke "$T/lib/server"

# Several paths at once.
install -o root -g root -m 0755 "$SCRATCH/binder" "$T/second"
assert_exit 0 "$PB" setcap grant "$T/binder" "$T/second"
assert_eq 2 "$(entries)" "two paths, two entries"
assert_exit 0 "$PB" setcap revoke "$T/binder" "$T/second"
assert_eq "" "$(getcap "$T/binder" "$T/second")" "both revoked"

# ------------------------------------------------------------ not root
for u in pb_alice pb_bob; do
    for action in list reapply audit "grant $T/binder" "revoke $T/binder"; do
        # shellcheck disable=SC2086  # action is split on purpose
        run as_user "$u" "$PB" setcap $action
        assert_refusal "only root may use it"
    done
done
assert_eq "" "$(getcap "$T/binder")" "the refused non-root grant left the file unchanged"
assert_eq 0 "$(entries)" "and did not touch the registry"

# ------------------------------------------------------------ help, usage
assert_exit 0 "$PB" setcap --help
assert_contains "$RUN_OUT" "portbind setcap grant [--caps LIST] [--force] PATH..." "--help shows the synopsis"
run "$PB" setcap frobnicate
assert_refusal "unknown action 'frobnicate'"
run "$PB" setcap grant
assert_refusal "grant needs at least one PATH"

# -------------------------------------------------------------- syslog
# Every change is logged (authpriv). A private mount namespace gets a /dev whose log
# socket is a listener of ours; the host's /dev is untouched.
mkdir -m 0755 "$SCRATCH/dev"
# shellcheck disable=SC2016  # expanded by the inner shell
run timeout 30 unshare -m --propagation private bash -c '
set -e
D=$1 S=$2 PB=$3 BIN=$4 SINK=$5
for n in null zero full random urandom tty; do
    touch "$D/$n"; mount --bind "/dev/$n" "$D/$n"
done
python3 "$SINK" "$D/log" "$S/syslog.txt" "$S/ready" &
for _ in $(seq 100); do [ -e "$S/ready" ] && break; sleep 0.05; done
mount --rbind "$D" /dev
"$PB" setcap grant "$BIN"
"$PB" setcap grant "$BIN.nope" || true
"$PB" setcap revoke "$BIN"
sleep 0.3
touch "$S/ready.stop"
wait
' setcap-syslog "$SCRATCH/dev" "$SCRATCH" "$PB" "$T/binder" \
    "$(cd "$(dirname "${BASH_SOURCE[0]}")/../apps" && pwd)/logsink.py"
assert_eq 0 "$RUN_RC" "grant and revoke with a syslog listener"
log=$(tr -d '\0' <"$SCRATCH/syslog.txt" 2>/dev/null || true)
assert_match "$log" "^<86>.*portbind\\[[0-9]+\\]: granted: setcap grant cap_net_bind_service=ep to $T/binder\$" \
    "the grant is logged to authpriv.info"
assert_match "$log" "^<85>.*portbind\\[[0-9]+\\]: denied: setcap grant $T/binder.nope: " \
    "the refused grant is logged to authpriv.notice"
assert_match "$log" "portbind\\[[0-9]+\\]: granted: setcap revoke cap_net_bind_service=ep from $T/binder\$" \
    "the revoke is logged"
