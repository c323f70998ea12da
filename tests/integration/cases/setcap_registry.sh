#!/bin/bash
# The setcap registry is trusted only when it is safe and well-formed: a corrupt line is an
# error naming file:line for every action (never an empty registry), and an unsafe registry
# file or state directory (writable by others, not root's, a symlink) is refused; in both
# cases nothing is changed. A registry that does not exist yet is empty, and the first grant
# creates the state directory root:root 0755.
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

cat >"$SCRATCH/prog.c" <<'EOF'
int main(void) { return 0; }
EOF
cc -O2 -o "$SCRATCH/prog" "$SCRATCH/prog.c" || bail "cannot compile the test binary"
install -o root -g root -m 0755 "$SCRATCH/prog" "$T/a"
install -o root -g root -m 0755 "$SCRATCH/prog" "$T/b"

# No registry yet: list and reapply work on an empty registry and create nothing.
assert_exit 0 "$PB" setcap list
assert_eq "no grants recorded in $REGISTRY" "$RUN_OUT" "list without a registry"
assert_exit 0 "$PB" setcap reapply
assert_true "reading does not create the state directory" test ! -e "${STATE_TOP:?}"

assert_exit 0 "$PB" setcap grant "$T/a"
mapfile -t created < <(state_dirs)
assert_eq "0 0 755" "$(stat -c '%u %g %a' "${created[@]}" | sort -u)" \
    "the first grant creates the state directories root:root 0755"
good=$(cat "$REGISTRY")

# every_action_fails DESC TEXT...: list, reapply, audit, grant and revoke all exit 125 naming TEXT,
# and $T/b stays without a capability.
every_action_fails() {
    local desc=$1 t action
    shift
    for action in list reapply "audit $T" "grant $T/b" "revoke $T/a"; do
        # shellcheck disable=SC2086  # action is split on purpose
        run "$PB" setcap $action
        assert_eq 125 "$RUN_RC" "$desc: '$action' fails with 125"
        for t in "$@"; do
            assert_contains "$RUN_ERR" "$t" "$desc: '$action' says '$t'"
        done
    done
    assert_eq "" "$(getcap "$T/b")" "$desc: nothing was granted"
    assert_eq "$T/a cap_net_bind_service=ep" "$(getcap "$T/a")" "$desc: nothing was revoked"
}

# ------------------------------------------------------------ corrupt content
corrupt() {
    printf '%s\n' "$good" >"$REGISTRY"
    printf '%s\n' "$1" >>"$REGISTRY"
}
corrupt "this is not a registry line"
every_action_fails "a garbage line" "corrupt setcap registry $REGISTRY:5:" "portbind-setcap(8)"
assert_contains "$(cat "$REGISTRY")" "this is not a registry line" "the corrupt registry is not rewritten"

corrupt "$(grep '^path=' <<<"$good" | sed 's/ force=no / force=perhaps /')"
every_action_fails "a bad field value" "$REGISTRY:5: force= must be yes or no"

corrupt "$(grep '^path=' <<<"$good")"
every_action_fails "a path listed twice" "$REGISTRY:5: path $T/a is already listed on line 4"

corrupt "$(grep '^path=' <<<"$good" | sed 's/caps=[^ ]*/caps=cap_bogus=ep/')"
sed -i '4d' "$REGISTRY"
run "$PB" setcap list
assert_eq 125 "$RUN_RC" "caps text libcap rejects: list fails"
assert_contains "$RUN_ERR" "corrupt setcap registry $REGISTRY:4: caps= is not a valid capability list" \
    "caps text libcap rejects: file:line named"

printf '%s' "$good" >"$REGISTRY"
every_action_fails "a truncated registry (no final newline)" "$REGISTRY:4: the last line does not end with a newline"

sed '1s/.*/portbind-setcap-registry 2/' <<<"$good" >"$REGISTRY"
every_action_fails "an unknown format version" "$REGISTRY:1: the first line must be"

printf '%s\n' "$good" >"$REGISTRY"
assert_exit 0 "$PB" setcap list
assert_match "$RUN_OUT" "^ok +$T/a " "the restored registry is accepted again"

# ------------------------------------------------------------ unsafe file or directory
chmod 0666 "$REGISTRY"
every_action_fails "a world-writable registry" "refusing to use the setcap registry: $REGISTRY is writable by group or others (mode 0666)"
chmod 0644 "$REGISTRY"

chown pb_alice "$REGISTRY"
every_action_fails "a registry owned by pb_alice" "$REGISTRY is owned by uid $(uid_of pb_alice), not root"
chown root "$REGISTRY"

mv "$REGISTRY" "$STATE_DIR/real"
ln -s real "$REGISTRY"
every_action_fails "a registry that is a symlink" "$REGISTRY is a symbolic link"
rm -f "$REGISTRY"
mv "$STATE_DIR/real" "$REGISTRY"

chmod 0777 "$STATE_DIR"
every_action_fails "a world-writable state directory" "$STATE_DIR is writable by group or others (mode 0777)"
chmod 0755 "$STATE_DIR"

chown pb_alice "${STATE_ANCESTOR:?}"
every_action_fails "an ancestor owned by pb_alice" "$STATE_ANCESTOR is owned by uid"
chown root "$STATE_ANCESTOR"

head -c 1100000 /dev/zero | tr '\0' '#' >>"$REGISTRY"
every_action_fails "a registry larger than 1 MiB" "is larger than 1048576 bytes"
printf '%s\n' "$good" >"$REGISTRY"

# Comments and blank lines, as an admin might add, are accepted.
printf '%s\n\n# note: granted for the web team\n' "$good" >"$REGISTRY"
assert_exit 0 "$PB" setcap grant "$T/b"
assert_eq "$T/b cap_net_bind_service=ep" "$(getcap "$T/b")" "a registry with comments works"
assert_eq 2 "$(grep -c '^path=' "$REGISTRY")" "both grants recorded"
assert_true "no temporary file is left next to the registry" test ! -e "$STATE_DIR/.setcap.registry.new"

# A stale temporary file (a crash while writing) is replaced, never read.
echo "garbage" >"$STATE_DIR/.setcap.registry.new"
chmod 0600 "$STATE_DIR/.setcap.registry.new"
assert_exit 0 "$PB" setcap revoke "$T/b"
assert_true "the stale temporary file is gone" test ! -e "$STATE_DIR/.setcap.registry.new"
assert_eq "0 0 644" "$(stat -c '%u %g %a' "$REGISTRY")" "the rewritten registry is root:root 0644"
assert_eq 1 "$(grep -c '^path=' "$REGISTRY")" "the revoke was recorded"

# A umask of 077 does not make the registry unreadable for admins.
assert_exit 0 bash -c "umask 077; '$PB' setcap grant '$T/b'"
assert_eq "644" "$(stat -c '%a' "$REGISTRY")" "registry is 0644 under umask 077"
