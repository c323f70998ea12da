#!/bin/bash
# portbind setcap grant refuses every unsafe target with a one-line message that names the
# risk and the alternative, and leaves the file, its capabilities and the registry
# unchanged: writable or foreign-owned files, files in or reached through user-writable
# directories, non-regular files (directory, FIFO without hanging, device, socket),
# scripts, non-ELF files, hard links, setuid files, interpreters (recognised from the
# binary, also under another name) unless --force, capabilities other than
# cap_net_bind_service unless --force, capabilities portbind did not grant unless --force,
# nosuid mounts, and file systems that cannot store capabilities.
# It creates and removes the setcap state directory: in package mode, where that is the
# machine's /var/lib/portbind, it runs in a private root (lib.sh).
PB_WANTS_PRIVATE_ROOT=1
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

REGISTRY=$STATE_DIR/setcap.registry
T=$PB_ROOT/setcap-$$ # root-owned 0755 (not /tmp, which every user can write)
PYTHON_REAL=$(readlink -f /usr/bin/python3)

setcap_cleanup() {
    umount -l "$T/mnt" 2>/dev/null || true
    rm -rf -- "$T" "${STATE_TOP:?}"
}
trap 'rc=$?; set +e; trap - ERR; setcap_cleanup; (exit $rc); _finish' EXIT
setcap_cleanup
mkdir -m 0755 "$T"

cat >"$SCRATCH/binder.c" <<'EOF'
#include <sys/socket.h>
int main(void) { return socket(AF_INET, SOCK_STREAM, 0) < 0; }
EOF
cc -O2 -o "$SCRATCH/binder" "$SCRATCH/binder.c" || bail "cannot compile the test binary"

# fresh NAME [MODE]: a root-owned copy of the test binary at $T/NAME.
fresh() {
    install -o root -g root -m "${2:-0755}" "$SCRATCH/binder" "$T/$1"
}

# Registry entries right now (0 when there is no registry).
entries() {
    if [ -e "$REGISTRY" ]; then grep -c '^path=' "$REGISTRY" || true; else echo 0; fi
}

# refused DESC FILE TEXT...: `portbind setcap grant` (already run via `run`) was refused
# naming TEXT, FILE carries no capability afterwards, and the registry has no entry.
refused() {
    local desc=$1 file=$2
    shift 2
    assert_eq 125 "$RUN_RC" "$desc: refused with 125"
    assert_eq 1 "$(printf '%s\n' "$RUN_ERR" | grep -c '')" "$desc: one line on stderr"
    assert_match "$RUN_ERR" '^portbind: ' "$desc: message starts with 'portbind: '"
    local t
    for t in "$@"; do
        assert_contains "$RUN_ERR" "$t" "$desc: message says '$t'"
    done
    if [ -e "$file" ] && [ ! -L "$file" ] && [ -f "$file" ]; then
        assert_eq "" "$(getcap "$file")" "$desc: $file is left without a capability"
    fi
    assert_eq 0 "$(entries)" "$desc: nothing recorded"
    assert_eq "" "$RUN_OUT" "$desc: nothing reported as granted"
}

ALT="portbind --port PORT -- COMMAND"

# Positive control: the same binary, safely installed, is accepted.
fresh ok
assert_exit 0 "$PB" setcap grant "$T/ok"
assert_eq "$T/ok cap_net_bind_service=ep" "$(getcap "$T/ok")" "control: a safe copy is granted"
assert_exit 0 "$PB" setcap revoke "$T/ok"

# ------------------------------------------------------------ file rules
fresh ww 0757
run "$PB" setcap grant "$T/ww"
refused "world-writable file" "$T/ww" "writable by group or others (mode 0757)" "chmod go-w" "$ALT"
assert_eq "0 757" "$(stat -c '%u %a' "$T/ww")" "world-writable file: owner and mode untouched"

fresh gw 0775
chgrp pbports "$T/gw"
run "$PB" setcap grant "$T/gw"
refused "group-writable file" "$T/gw" "writable by group or others (mode 0775)"

fresh alices
chown pb_alice "$T/alices"
run "$PB" setcap grant "$T/alices"
refused "file owned by pb_alice" "$T/alices" "owned by uid $(uid_of pb_alice), not root" "$ALT"
assert_eq "$(uid_of pb_alice)" "$(stat -c %u "$T/alices")" "pb_alice's file: owner untouched"

fresh su 4755
run "$PB" setcap grant "$T/su"
refused "setuid file" "$T/su" "setuid or setgid (mode 4755)"
assert_eq "4755" "$(stat -c %a "$T/su")" "setuid file: mode untouched"

fresh sg 2755
run "$PB" setcap grant "$T/sg"
refused "setgid file" "$T/sg" "setuid or setgid (mode 2755)"

fresh noexec 0644
run "$PB" setcap grant "$T/noexec"
refused "file without execute permission" "$T/noexec" "not executable"

fresh linked
ln "$T/linked" "$T/linked2"
run "$PB" setcap grant "$T/linked"
refused "file with two hard links" "$T/linked" "2 hard links"

# ------------------------------------------------------- directory rules
mkdir -m 0755 "$T/alicedir"
chown pb_alice "$T/alicedir"
fresh tmp && mv "$T/tmp" "$T/alicedir/prog"
run "$PB" setcap grant "$T/alicedir/prog"
refused "file in a directory owned by pb_alice" "$T/alicedir/prog" "directory $T/alicedir is owned by uid"

mkdir -m 1777 "$T/sticky"
fresh tmp && mv "$T/tmp" "$T/sticky/prog"
run "$PB" setcap grant "$T/sticky/prog"
refused "file in a world-writable sticky directory" "$T/sticky/prog" \
    "directory $T/sticky is writable by group or others (mode 1777)"

mkdir -m 0775 "$T/groupdir"
chgrp pbports "$T/groupdir"
fresh tmp && mv "$T/tmp" "$T/groupdir/prog"
run "$PB" setcap grant "$T/groupdir/prog"
refused "file in a group-writable directory" "$T/groupdir/prog" "directory $T/groupdir is writable"

# A symlink in a directory pb_alice controls, pointing at a safe root-owned binary: she
# chooses which file gets the capability, so the chain is refused and the target unchanged.
fresh target
ln -s "$T/target" "$T/alicedir/link"
run "$PB" setcap grant "$T/alicedir/link"
refused "symlink in a user-writable directory" "$T/target" "directory $T/alicedir is owned by uid"

# An ancestor of a safe-looking directory is writable.
mkdir -m 0755 "$T/opendir" "$T/opendir/sub"
chmod 0777 "$T/opendir"
fresh tmp && mv "$T/tmp" "$T/opendir/sub/prog"
run "$PB" setcap grant "$T/opendir/sub/prog"
refused "file below a world-writable ancestor" "$T/opendir/sub/prog" "directory $T/opendir is writable"

# --------------------------------------------------------- not a program
mkdir -m 0755 "$T/adir"
run "$PB" setcap grant "$T/adir"
refused "a directory" "$T/adir" "it is a directory, not a regular file"

mkfifo -m 0755 "$T/fifo"
SECONDS=0
run timeout 5 "$PB" setcap grant "$T/fifo"
refused "a FIFO" "$T/fifo" "it is a FIFO"
assert_true "the FIFO did not make grant hang ($SECONDS s)" test "$SECONDS" -lt 3

mknod -m 0755 "$T/null" c 1 3
run timeout 5 "$PB" setcap grant "$T/null"
refused "a character device" "$T/null" "it is a character device"

"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/sock"
chmod 0755 "$T/sock"
run timeout 5 "$PB" setcap grant "$T/sock"
refused "a socket" "$T/sock" "it is a socket"

printf '#!/bin/sh\nexec %s\n' "$T/ok" >"$T/script.sh"
chmod 0755 "$T/script.sh"
run "$PB" setcap grant "$T/script.sh"
refused "a script" "$T/script.sh" "it is a script (#!/bin/sh)" "ignores file capabilities on scripts"
run "$PB" setcap grant --force "$T/script.sh"
refused "a script, even with --force" "$T/script.sh" "it is a script"

printf 'hello\n' >"$T/text"
chmod 0755 "$T/text"
run "$PB" setcap grant "$T/text"
refused "a text file" "$T/text" "neither an ELF executable nor a script"

run "$PB" setcap grant "$T/does-not-exist"
refused "a missing file" "$T/does-not-exist" "no such file"

# ------------------------------------------------------------ interpreters
cp "$PYTHON_REAL" "$T/$(basename "$PYTHON_REAL")"
run "$PB" setcap grant "$T/$(basename "$PYTHON_REAL")"
refused "python under its own name" "$T/$(basename "$PYTHON_REAL")" "shared interpreter, python" \
    "every script any user runs with it" "portbind --port PORT --" "--force"

# Recognised from the binary, not the name.
cp "$PYTHON_REAL" "$T/webserver"
run "$PB" setcap grant "$T/webserver"
refused "python renamed to 'webserver'" "$T/webserver" "shared interpreter, python (it exports Py_"

cp /bin/bash "$T/httpd"
run "$PB" setcap grant "$T/httpd"
refused "bash renamed to 'httpd'" "$T/httpd" "shared interpreter, shell (bash)"

cp /bin/dash "$T/daemon"
run "$PB" setcap grant "$T/daemon"
refused "dash renamed to 'daemon'" "$T/daemon" "shared interpreter, shell"

cp "$(readlink -f "$NODE")" "$T/srv"
run "$PB" setcap grant "$T/srv"
refused "node renamed to 'srv'" "$T/srv" "shared interpreter, javascript (node)"

cp "$(readlink -f /usr/bin/perl)" "$T/pl"
run "$PB" setcap grant "$T/pl"
refused "perl renamed to 'pl'" "$T/pl" "shared interpreter, perl"

# --force grants it, with a warning, and records that it was forced.
assert_exit 0 "$PB" setcap grant --force "$T/webserver"
assert_eq "granted cap_net_bind_service=ep to $T/webserver" "$RUN_OUT" "--force grants to the interpreter"
assert_match "$RUN_ERR" "^portbind: warning: $T/webserver: granting to a shared interpreter, python" \
    "--force warns about the interpreter"
assert_eq "$T/webserver cap_net_bind_service=ep" "$(getcap "$T/webserver")" "the forced grant landed"
assert_match "$(cat "$REGISTRY")" "^path=$T/webserver caps=cap_net_bind_service=ep force=yes " \
    "the registry records the grant as forced"
assert_exit 0 "$PB" setcap revoke "$T/webserver"

# ------------------------------------------------------------ capabilities
fresh caps
run "$PB" setcap grant --caps cap_net_raw=ep "$T/caps"
refused "another capability" "$T/caps" "'cap_net_raw=ep'" "cap_net_raw" "--force"
run "$PB" setcap grant --caps cap_net_bind_service,cap_sys_admin=ep "$T/caps"
refused "net_bind_service plus sys_admin" "$T/caps" "cap_sys_admin"
run "$PB" setcap grant --caps cap_net_bind_service=eip "$T/caps"
refused "inheritable bits" "$T/caps" "inheritable"
run "$PB" setcap grant --caps cap_net_bind_service=e "$T/caps"
refused "an effective set the file cannot hold" "$T/caps" "single effective flag"
run "$PB" setcap grant --caps not-a-capability "$T/caps"
refused "invalid capability text" "$T/caps" "invalid capability list 'not-a-capability'"

assert_exit 0 "$PB" setcap grant --caps cap_net_bind_service=p "$T/caps"
assert_eq "$T/caps cap_net_bind_service=p" "$(getcap "$T/caps")" "--caps cap_net_bind_service=p needs no --force"
assert_exit 0 "$PB" setcap grant --caps cap_net_bind_service=ep "$T/caps"
assert_eq "$T/caps cap_net_bind_service=ep" "$(getcap "$T/caps")" "portbind may replace its own grant"
assert_exit 0 "$PB" setcap revoke "$T/caps"
assert_exit 0 "$PB" setcap grant --force --caps cap_net_raw,cap_net_bind_service=ep "$T/caps"
assert_match "$(getcap "$T/caps")" "cap_net_bind_service,cap_net_raw=ep\$" "--force grants other capabilities"
assert_contains "$RUN_ERR" "portbind: warning:" "--force warns about other capabilities"
assert_exit 0 "$PB" setcap revoke "$T/caps"
assert_eq "" "$(getcap "$T/caps")" "revoke removes all it granted"

# Capabilities someone else set are not replaced without --force; revoke leaves them.
fresh foreign
setcap cap_net_raw=ep "$T/foreign"
run "$PB" setcap grant "$T/foreign"
assert_eq 125 "$RUN_RC" "foreign capabilities: refused"
assert_contains "$RUN_ERR" "already carries 'cap_net_raw=ep', which portbind did not grant" \
    "foreign capabilities: the message names them"
assert_eq "$T/foreign cap_net_raw=ep" "$(getcap "$T/foreign")" "foreign capabilities: untouched"
run "$PB" setcap revoke "$T/foreign"
assert_refusal "not in the setcap registry"
assert_eq "$T/foreign cap_net_raw=ep" "$(getcap "$T/foreign")" "revoke does not remove what portbind did not grant"

# ------------------------------------------------------------ all or nothing
fresh first
fresh second 0777
run "$PB" setcap grant "$T/first" "$T/second"
refused "one bad path among two" "$T/second" "mode 0777"
assert_eq "" "$(getcap "$T/first")" "one bad path among two: the good one is not changed either"

# ------------------------------------------------------------ mounts
mkdir -m 0755 "$T/mnt"
# shellcheck disable=SC2016  # expanded by the inner shell
run timeout 20 unshare -m --propagation private bash -c '
mount -t tmpfs -o mode=0755,nosuid tmpfs "$1/mnt" || exit 99
install -m 0755 "$2" "$1/mnt/prog"
"$3" setcap grant "$1/mnt/prog"' nosuid "$T" "$SCRATCH/binder" "$PB"
refused "a file on a nosuid mount" "" "mounted nosuid, where the kernel ignores file capabilities"

# shellcheck disable=SC2016  # expanded by the inner shell
run timeout 20 unshare -m --propagation private bash -c '
mount -t ramfs -o mode=0755 ramfs "$1/mnt" || exit 99
install -m 0755 "$2" "$1/mnt/prog"
"$3" setcap grant "$1/mnt/prog"' ramfs "$T" "$SCRATCH/binder" "$PB"
refused "a file system without xattrs (ramfs)" "" "its filesystem cannot store file capabilities"

# After all that, nothing anywhere in the test tree carries a capability.
assert_eq "" "$(getcap -r "$T" 2>/dev/null | grep -v "^$T/foreign " || true)" \
    "no stray capability in the test tree"
