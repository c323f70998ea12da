#!/bin/bash
# portbind setcap audit finds every file carrying a capability below the given trees, flags
# the risky ones (dangerous capabilities, interpreters, scripts, not root's, writable, in a
# user-writable directory, outside the system directories, inheritable bits), and says which
# the registry records. It follows no symlink, opens no FIFO, and changes nothing.
# It creates and removes the setcap state directory: in package mode, where that is the
# machine's /var/lib/portbind, it runs in a private root (lib.sh).
PB_WANTS_PRIVATE_ROOT=1
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

T=$PB_ROOT/setcap-$$ # root-owned 0755 (not /tmp, which every user can write)

setcap_cleanup() { rm -rf -- "$T" "${STATE_TOP:?}" "$PB_ROOT/setcap-outside-$$"; }
trap 'rc=$?; set +e; trap - ERR; setcap_cleanup; (exit $rc); _finish' EXIT
setcap_cleanup
mkdir -m 0755 "$T" "$T/tree" "$T/tree/sub" "$T/clean"

cat >"$SCRATCH/prog.c" <<'EOF'
int main(void) { return 0; }
EOF
cc -O2 -o "$SCRATCH/prog" "$SCRATCH/prog.c" || bail "cannot compile the test binary"
put() { install -o root -g root -m "${2:-0755}" "$SCRATCH/prog" "$1"; }

# line PATH: the audit output line for PATH (fields: state, path, caps, ...).
line() { awk -v p="$1" '$2 == p' <<<"$RUN_OUT"; }

# Files carrying capabilities, planted with the system setcap.
put "$T/tree/planted"
setcap cap_sys_admin+ep "$T/tree/planted"
put "$T/tree/sub/granted"
assert_exit 0 "$PB" setcap grant "$T/tree/sub/granted"
cp "$(readlink -f /usr/bin/python3)" "$T/tree/sub/py"
setcap cap_net_bind_service+ep "$T/tree/sub/py"
put "$T/tree/alices"
chown pb_alice "$T/tree/alices"
setcap cap_net_bind_service+ep "$T/tree/alices"
put "$T/tree/inherit"
setcap cap_net_bind_service+eip "$T/tree/inherit"
mkdir -m 0777 "$T/tree/open"
put "$T/tree/open/prog"
setcap cap_net_bind_service+ep "$T/tree/open/prog"
put "$T/tree/nocaps"
# Things audit must not follow, open or hang on.
mkfifo "$T/tree/fifo"
mkdir -m 0755 "$PB_ROOT/setcap-outside-$$"
put "$PB_ROOT/setcap-outside-$$/elsewhere"
setcap cap_sys_admin+ep "$PB_ROOT/setcap-outside-$$/elsewhere"
ln -s "$PB_ROOT/setcap-outside-$$" "$T/tree/link-to-dir"
ln -s "$PB_ROOT/setcap-outside-$$/elsewhere" "$T/tree/link-to-file"

before=$(getcap -r "$T" 2>/dev/null | sort)

SECONDS=0
assert_exit 1 timeout 30 "$PB" setcap audit "$T/tree"
assert_true "audit did not hang ($SECONDS s)" test "$SECONDS" -lt 20

l=$(line "$T/tree/planted")
assert_match "$l" "^risky +$T/tree/planted cap_sys_admin=ep +not in the registry: " "the planted cap_sys_admin is found, not in the registry"
assert_contains "$l" "dangerous capability cap_sys_admin" "it is flagged as a dangerous capability"
assert_contains "$l" "outside the system directories" "and as outside the system directories"

l=$(line "$T/tree/sub/granted")
assert_match "$l" "^risky +$T/tree/sub/granted cap_net_bind_service=ep +in the registry: outside the system directories\$" \
    "portbind's own grant is found and shown as in the registry"

assert_contains "$(line "$T/tree/sub/py")" "shared interpreter: python" "a capability on python is flagged"
assert_contains "$(line "$T/tree/alices")" "owned by uid $(uid_of pb_alice), not root" "a file owned by pb_alice is flagged"
assert_contains "$(line "$T/tree/inherit")" "inheritable capabilities" "inheritable bits are flagged"
assert_contains "$(line "$T/tree/open/prog")" "in a directory writable by non-root users ($T/tree/open)" \
    "a file in a world-writable directory is flagged"
assert_eq "" "$(line "$T/tree/nocaps")" "a file without capabilities is not listed"
assert_not_contains "$RUN_OUT" "elsewhere" "symlinks are not followed"
assert_match "$RUN_OUT" "^6 file\\(s\\) with capabilities, 6 with risks\$" "the summary counts them"

# A file the registry records with other capabilities.
setcap cap_net_bind_service=p "$T/tree/sub/granted"
run "$PB" setcap audit "$T/tree/sub"
assert_contains "$(line "$T/tree/sub/granted")" "in the registry as 'cap_net_bind_service=ep'" \
    "a file whose capabilities differ from the registry says so"

# Audit through a symlink to the tree: the root itself may be a link.
ln -s tree "$T/tree-link"
run "$PB" setcap audit "$T/tree-link"
assert_contains "$RUN_OUT" "$T/tree/planted cap_sys_admin=ep" "a symlinked root is followed once"

# Nothing risky: exit 0.
assert_exit 0 "$PB" setcap audit "$T/clean"
assert_eq "0 file(s) with capabilities, 0 with risks" "$RUN_OUT" "a tree without capabilities"

run "$PB" setcap audit "$T/no-such-dir"
assert_refusal "is not a directory"
run "$PB" setcap audit "$T/tree/nocaps"
assert_refusal "is not a directory"

# Audit changed nothing (only the setcap above touched sub/granted).
after=$(getcap -r "$T" 2>/dev/null | sort | grep -v "/sub/granted ")
assert_eq "$(grep -v "/sub/granted " <<<"$before")" "$after" "audit changed no capability"
