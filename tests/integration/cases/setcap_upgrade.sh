#!/bin/bash
# What a package upgrade does to a granted file, and how portbind setcap recovers: replacing
# the file (a new inode, as dpkg does) drops the capability; `list` shows it `lost`;
# `reapply` re-checks the new file with the grant's rules, restores the capability (the
# unprivileged user can bind port 80 again), and exits 0 only when every entry is ok.
# `missing` and `changed` entries are reported and left alone; an unsafe replacement
# (an interpreter, a world-writable file) is refused and stays lost.
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
# "Version 2" of the program: different bytes, same behaviour.
cc -O0 -Wall -o "$SCRATCH/binder2" "$SCRATCH/binder.c" || bail "cannot compile the test binder"

alice_binds() { in_netns_as pb_alice "$T/server" 2>&1 || true; }

# upgrade SOURCE: replaces $T/server the way dpkg does (new file, renamed into place).
upgrade() {
    install -o root -g root -m 0755 "$1" "$T/server.dpkg-new"
    mv -f "$T/server.dpkg-new" "$T/server"
}

# state PATH: the state column `portbind setcap list` shows for PATH.
state() {
    "$PB" setcap list | awk -v p="$1" '$2 == p { print $1 }'
}

install -o root -g root -m 0755 "$SCRATCH/binder" "$T/server"
assert_exit 0 "$PB" setcap grant "$T/server"
assert_eq "BOUND" "$(alice_binds)" "after grant pb_alice binds 80"
assert_eq "ok" "$(state "$T/server")" "list: ok after grant"
ino_before=$(stat -c %i "$T/server")

# ------------------------------------------------------------- the upgrade
upgrade "$SCRATCH/binder2"
assert_ne "$ino_before" "$(stat -c %i "$T/server")" "the upgrade wrote a new file"
assert_eq "" "$(getcap "$T/server")" "the upgrade dropped the capability (as dpkg does)"
assert_eq "Permission denied" "$(alice_binds)" "after the upgrade pb_alice cannot bind 80"
assert_exit 0 "$PB" setcap list
assert_match "$RUN_OUT" "^lost +$T/server cap_net_bind_service=ep granted .*: the file was replaced \\(e\\.g\\. by a package upgrade\\)" \
    "list shows the entry as lost, because the file was replaced"
assert_contains "$RUN_OUT" "'portbind setcap reapply' restores it" "list says how to fix it"

assert_exit 0 "$PB" setcap reapply
assert_match "$RUN_OUT" "^reapplied cap_net_bind_service=ep to $T/server: the file was replaced" \
    "reapply says what it did"
assert_eq "$T/server cap_net_bind_service=ep" "$(getcap "$T/server")" "reapply restored the capability"
assert_eq "BOUND" "$(alice_binds)" "after reapply pb_alice binds 80 again"
assert_eq "ok" "$(state "$T/server")" "list: ok after reapply"
assert_match "$(cat "$REGISTRY")" "^path=$T/server .* ino=$(stat -c %i "$T/server") " \
    "the registry now records the new file's identity"

assert_exit 0 "$PB" setcap reapply
assert_eq "" "$RUN_OUT" "reapply with every entry ok prints nothing"

# Capabilities removed in place (setcap -r) are also 'lost' and restored.
setcap -r "$T/server"
assert_match "$("$PB" setcap list)" "^lost .*the capability was removed from the file" \
    "capability removed in place: lost"
assert_exit 0 "$PB" setcap reapply
assert_eq "$T/server cap_net_bind_service=ep" "$(getcap "$T/server")" "and reapply restores it"

# ------------------------------------------------------- unsafe replacements
upgrade "$(readlink -f /usr/bin/python3)"
assert_exit 1 "$PB" setcap reapply
assert_contains "$RUN_ERR" "portbind: reapply $T/server: refused to grant capabilities to $T/server: it is a shared interpreter, python" \
    "reapply refuses a file that became an interpreter"
assert_eq "" "$(getcap "$T/server")" "the interpreter got no capability"
assert_eq "lost" "$(state "$T/server")" "and the entry stays lost"

upgrade "$SCRATCH/binder2"
chmod 0777 "$T/server"
assert_exit 1 "$PB" setcap reapply
assert_contains "$RUN_ERR" "writable by group or others (mode 0777)" "reapply refuses a world-writable file"
assert_eq "" "$(getcap "$T/server")" "the world-writable file got no capability"

upgrade "$SCRATCH/binder2"
mv "$T/server" "$T/server.real"
ln -s server.real "$T/server"
assert_exit 1 "$PB" setcap reapply
assert_contains "$RUN_ERR" "it is a symbolic link, not a regular file" \
    "reapply does not follow a symlink that replaced the file"
assert_eq "" "$(getcap "$T/server.real")" "the symlink's target got no capability"
rm -f "$T/server"
mv "$T/server.real" "$T/server"
assert_exit 0 "$PB" setcap reapply
assert_eq "$T/server cap_net_bind_service=ep" "$(getcap "$T/server")" "a safe file again: reapplied"

# A forced grant stays forced: reapply re-grants the interpreter it was forced onto.
cp "$(readlink -f /usr/bin/python3)" "$T/py"
assert_exit 0 "$PB" setcap grant --force "$T/py"
cp "$T/py" "$T/py.new" && mv -f "$T/py.new" "$T/py"
assert_exit 0 "$PB" setcap reapply
assert_eq "$T/py cap_net_bind_service=ep" "$(getcap "$T/py")" "reapply honours the recorded --force"
assert_exit 0 "$PB" setcap revoke "$T/py"

# ------------------------------------------------------- changed and missing
setcap cap_net_bind_service=p "$T/server"
assert_match "$("$PB" setcap list)" "^changed +$T/server .*different capabilities \\('cap_net_bind_service=p'\\)" \
    "capabilities changed by other means: changed"
assert_exit 1 "$PB" setcap reapply
assert_contains "$RUN_OUT" "left alone" "reapply reports the changed entry"
assert_eq "$T/server cap_net_bind_service=p" "$(getcap "$T/server")" "and leaves it alone"
assert_exit 0 "$PB" setcap revoke "$T/server"
assert_eq "" "$(getcap "$T/server")" "revoke removes portbind's bits from the changed file"

install -o root -g root -m 0755 "$SCRATCH/binder" "$T/gone"
assert_exit 0 "$PB" setcap grant "$T/gone"
rm -f "$T/gone"
assert_match "$("$PB" setcap list)" "^missing +$T/gone .*the file is gone" "a deleted file: missing"
assert_exit 1 "$PB" setcap reapply
assert_contains "$RUN_OUT" "missing" "reapply reports the missing entry"
assert_true "reapply did not recreate the file" test ! -e "$T/gone"
assert_exit 0 "$PB" setcap revoke "$T/gone"
assert_eq "forgot $T/gone: the file is gone" "$RUN_OUT" "revoke forgets a missing file"
assert_exit 0 "$PB" setcap reapply
assert_eq "no grants recorded in $REGISTRY" "$("$PB" setcap list)" "registry empty at the end"
