#!/bin/bash
# Fixture setup for the portbind integration tests (ctest: integration.setup).
#
#   bash setup.sh SRC_DIR BUILD_DIR
#
# Must run as root (exits 77 = skipped otherwise).  It
#   * first finishes the cleanup of an interrupted package-mode run: puts back the policy
#     and the binary's install mode that run saved (layout.bash, pb_restore), and fails
#     rather than remove /opt/portbind-test while that does not succeed;
#   * creates the test groups/users (idempotent):
#       pbports, pbextra;  pb_alice (pbports), pb_bob (no extra group),
#       pb_carol (pbports, pbextra);
#   * by default, builds portbind once into BUILD_DIR/itest and installs it twice:
#       /opt/portbind-test/caps    file capability cap_net_bind_service=p
#       /opt/portbind-test/setuid  root:root 4755
#     both compiled with the policy path /opt/portbind-test/etc/portbind.conf;
#   * in package mode (PORTBIND_IT_INSTALLED, see layout.bash) builds and installs no
#     portbind: it checks that the installed binary is in capability or setuid mode, and
#     saves the administrator's policy file and drop-in directory, the binary's mode and a
#     manifest of the state directory, for cleanup.sh to restore and check;
#   * compiles and installs the test apps into /opt/portbind-test/apps;
#   * asserts the install is usable: file caps / setuid bit present, no
#     nosuid mount, every directory from / down root-owned and not writable by
#     group or other, the apps readable by the test users.
set -euo pipefail

# One fixture (users, /opt/portbind-test, its policy file) serves every run on this machine:
# runs take turns. flock -o keeps the lock out of processes the script leaves behind.
if [ -z "${PORTBIND_IT_LOCKED:-}" ] && command -v flock >/dev/null; then
    PORTBIND_IT_LOCKED=1 exec flock -o /run/lock/portbind-integration.lock bash "$0" "$@"
fi

if [ "$(id -u)" != 0 ]; then
    echo "integration setup: needs root, skipping" >&2
    exit 77
fi
if [ $# -ne 2 ]; then
    echo "usage: bash $0 SRC_DIR BUILD_DIR" >&2
    exit 2
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/layout.bash
. "$HERE/layout.bash"
SRC=$(cd "$1" && pwd)
mkdir -p "$2"
BUILD=$(cd "$2" && pwd)
ROOT=$PB_ROOT
ITEST=$BUILD/itest
JOBS=${PORTBIND_ITEST_JOBS:-2}

die() {
    echo "integration setup: $*" >&2
    exit 1
}

umask 022

# An interrupted package-mode run left the administrator's policy saved under $ROOT: it goes
# back before anything there is removed, whatever this run tests.
pb_restore || die "cannot finish the cleanup of an earlier package-mode run (above);" \
    "$PB_SAVED holds what it saved: put that back by hand, then remove $PB_SAVED"

# ------------------------------------------------------------ users/groups
for g in pbports pbextra; do
    getent group "$g" >/dev/null || groupadd "$g"
done
ensure_user() {
    local u=$1 groups=$2
    if ! getent passwd "$u" >/dev/null; then
        useradd -M -d /nonexistent -s /usr/sbin/nologin -U "$u"
    fi
    usermod -G "$groups" "$u"
}
ensure_user pb_alice pbports
ensure_user pb_bob ""
ensure_user pb_carol pbports,pbextra
[ "$(id -nG pb_alice | tr ' ' '\n' | sort | paste -sd' ' -)" == "pb_alice pbports" ] ||
    die "pb_alice has unexpected groups: $(id -nG pb_alice)"
[ "$(id -nG pb_bob)" == "pb_bob" ] || die "pb_bob has unexpected groups: $(id -nG pb_bob)"
[ "$(id -nG pb_carol | tr ' ' '\n' | sort | paste -sd' ' -)" == "pb_carol pbextra pbports" ] ||
    die "pb_carol has unexpected groups: $(id -nG pb_carol)"

# --------------------------------------------------------- preconditions
grep -q '^NoNewPrivs:[[:space:]]*0' /proc/self/status ||
    die "no_new_privs is set for this process; setuid and file capabilities cannot work here"
tools=(setcap getcap setpriv unshare ip ss findmnt pkg-config cc /usr/bin/python3 /usr/bin/node timeout)
if [ -z "$PB_INSTALLED" ]; then
    tools+=(cmake)
else
    tools+=(dpkg-statoverride pivot_root mountpoint)
fi
for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# Never across a mount point: should a case's private root (private-root.sh, a tmpfs that
# holds bind mounts of the machine's directories, mounted in a namespace of its own) ever be
# visible here, those directories are not the fixture's to remove.
rm -rf --one-file-system "$ROOT"
mkdir -m 0755 "$ROOT"
chown root:root "$ROOT"
echo "installed=$PB_INSTALLED" >"$PB_FIXTURE_RECORD"
mkdir -m 0755 "$ROOT/apps"

# --------------------------------------------------------- build + install
# Default: two copies of this tree, one per install mode.
install_copies() {
    local d
    for d in caps setuid etc etc/portbind.d; do
        mkdir -m 0755 "$ROOT/$d"
    done

    cmake -S "$SRC" -B "$ITEST" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DBUILD_TESTING=OFF \
        -DCMAKE_INSTALL_PREFIX="$ROOT/caps" \
        -DCMAKE_INSTALL_SYSCONFDIR="$ROOT/etc" \
        -DCMAKE_INSTALL_LOCALSTATEDIR="$ROOT/var" \
        -DPORTBIND_SETUID=OFF
    cmake --build "$ITEST" -j"$JOBS"
    cmake --install "$ITEST"

    cmake -S "$SRC" -B "$ITEST" \
        -DCMAKE_INSTALL_PREFIX="$ROOT/setuid" \
        -DPORTBIND_SETUID=ON
    cmake --build "$ITEST" -j"$JOBS"
    cmake --install "$ITEST"

    # Whatever the install put into the test sysconfdir is replaced per case.
    find "$ROOT/etc" -mindepth 1 -maxdepth 1 ! -name portbind.d -exec rm -rf -- {} +
}

# Package mode: nothing is installed; what is there is recorded and saved (pb_save) before
# the first case changes anything.
take_installed() {
    local mode
    pb_layout caps || die "cannot test $PB_INSTALLED"
    if [ ! -f "$PB" ] || [ -L "$PB" ]; then
        die "$PB is not installed (is the package installed?)"
    fi
    mode=$(pb_current_mode)
    case $mode in
        caps | setuid) ;;
        *)
            die "$PB is in neither install mode (root:root 0755 with cap_net_bind_service=p," \
                "or root:root 4755): $mode; dpkg-statoverride: '$(dpkg-statoverride --list "$PB" || true)'"
            ;;
    esac
    [ -d "$POLICY_DIR" ] || die "$POLICY_DIR does not exist"
    if [ -L "$DROPIN_DIR" ] || { [ -e "$DROPIN_DIR" ] && [ ! -d "$DROPIN_DIR" ]; }; then
        die "$DROPIN_DIR is not a directory (portbind would refuse every request)"
    fi
    pb_save
    # portbind reads the drop-in directory as the caller, so the test users must be able to:
    # root:root 0755 as the package makes it, whatever an administrator made it (pb_restore
    # puts that back).
    [ -d "$DROPIN_DIR" ] || mkdir -m 0755 "$DROPIN_DIR"
    chown root:root "$DROPIN_DIR"
    chmod 0755 "$DROPIN_DIR"
}

if [ -z "$PB_INSTALLED" ]; then
    install_copies
else
    take_installed
fi

# ------------------------------------------------------------------ apps
APPBUILD=$BUILD/itest-apps
mkdir -p "$APPBUILD"
# shellcheck disable=SC2046  # pkg-config output is a list of flags
cc -O2 -Wall -Wextra -o "$APPBUILD/sd_report" "$HERE/apps/sd_report.c" \
    $(pkg-config --cflags --libs libsystemd)
cc -O2 -Wall -Wextra -o "$APPBUILD/rawexec" "$HERE/apps/rawexec.c"
cc -O2 -Wall -Wextra -static -o "$APPBUILD/static_server" "$HERE/apps/static_server.c"
if file "$APPBUILD/static_server" | grep -q 'dynamically linked'; then
    echo "setup: static_server is not statically linked" >&2
    exit 1
fi
install -o root -g root -m 0755 "$APPBUILD/sd_report" "$APPBUILD/rawexec" \
    "$APPBUILD/static_server" "$ROOT/apps/"
install -o root -g root -m 0755 "$HERE/apps/report.py" "$HERE/apps/client.py" \
    "$HERE/apps/report.js" "$HERE/apps/selfbind.py" "$ROOT/apps/"

# Every directory we created: root-owned, 0755.  (Never chown the binaries:
# chown clears both the setuid bit and file capabilities.)  The saved copies keep theirs.
find "$ROOT" -path "$PB_SAVED" -prune -o -type d -exec chown root:root {} + -exec chmod 0755 {} +

# -------------------------------------------------------------- asserts
check_dir() {
    local d=$1 st
    st=$(stat -c '%u %a' "$d")
    [ "${st%% *}" == 0 ] || die "$d is not owned by root ($(stat -c %U "$d"))"
    # group/other write bits (sticky bit does not make it safe).
    (((8#${st#* } & 8#022) == 0)) || die "$d is writable by group or other (mode ${st#* })"
}
# check_path DIR...: DIR and every directory above it.
check_path() {
    local p
    for p in "$@"; do
        while :; do
            check_dir "$p"
            [ "$p" == / ] && break
            p=$(dirname "$p")
        done
    done
}

if [ -z "$PB_INSTALLED" ]; then
    CAPS_BIN=$ROOT/caps/bin/portbind
    SUID_BIN=$ROOT/setuid/bin/portbind
    [ -x "$CAPS_BIN" ] || die "$CAPS_BIN was not installed"
    [ -x "$SUID_BIN" ] || die "$SUID_BIN was not installed"

    caps=$(getcap "$CAPS_BIN")
    [[ "$caps" =~ cap_net_bind_service=p$ ]] ||
        die "$CAPS_BIN: expected file capability cap_net_bind_service=p, getcap says: '$caps'"
    [ "$(stat -c '%u:%g %a' "$CAPS_BIN")" == "0:0 755" ] ||
        die "$CAPS_BIN: expected root:root 0755, got $(stat -c '%U:%G %a' "$CAPS_BIN")"
    [ "$(stat -c '%u:%g %a' "$SUID_BIN")" == "0:0 4755" ] ||
        die "$SUID_BIN: expected root:root 4755, got $(stat -c '%U:%G %a' "$SUID_BIN")"

    opts=$(findmnt -no OPTIONS -T "$ROOT")
    [[ ",$opts," != *,nosuid,* ]] || die "$ROOT is on a nosuid mount ($opts)"

    check_path "$ROOT/caps/bin" "$ROOT/setuid/bin" "$ROOT/etc/portbind.d" "$ROOT/apps"
    BINS=("$CAPS_BIN" "$SUID_BIN")
else
    # pb_current_mode checked owner and mode; the directories the installation's files are
    # in, from / down, must be safe too (portbind checks the policy's itself).
    opts=$(findmnt -no OPTIONS -T "$PB")
    [[ ",$opts," != *,nosuid,* ]] || die "$PB is on a nosuid mount ($opts)"
    opts=$(findmnt -no OPTIONS -T "$ROOT")
    [[ ",$opts," != *,nosuid,* ]] || die "$ROOT is on a nosuid mount ($opts)"
    check_path "$(dirname "$PB")" "$DROPIN_DIR" "$(dirname "$STATE_DIR")" "$ROOT/apps"
    BINS=("$PB")
fi

# The test users must be able to run the interpreters and read the apps.
for u in pb_alice pb_bob pb_carol; do
    setpriv --reuid="$u" --regid="$u" --init-groups -- \
        /usr/bin/python3 -c 'import sys; open(sys.argv[1]).close()' "$ROOT/apps/report.py" ||
        die "$u cannot run /usr/bin/python3 or read $ROOT/apps/report.py"
    setpriv --reuid="$u" --regid="$u" --init-groups -- /usr/bin/node -e 0 ||
        die "$u cannot run /usr/bin/node"
done

# The installed copies (or the installed binary) start for an unprivileged user.
for bin in "${BINS[@]}"; do
    setpriv --reuid=pb_alice --regid=pb_alice --init-groups -- "$bin" --version >/dev/null ||
        die "$bin --version failed for pb_alice"
done

if [ -z "$PB_INSTALLED" ]; then
    echo "integration setup: installed $CAPS_BIN ($caps) and $SUID_BIN (4755)"
else
    echo "integration setup: testing the installed $PB ($(pb_recorded mode)" \
        "mode as installed; the other mode: $([ "$PB_OTHER_MODE" == ON ] && echo "switched to for its cases" || echo "not tried"));" \
        "policy $POLICY and $DROPIN_DIR saved in $PB_SAVED"
fi
