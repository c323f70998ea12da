#!/bin/bash
# Fixture setup for the portbind integration tests (ctest: integration.setup).
#
#   bash setup.sh SRC_DIR BUILD_DIR
#
# Must run as root (exits 77 = skipped otherwise).  It
#   * creates the test groups/users (idempotent):
#       pbports, pbextra;  pb_alice (pbports), pb_bob (no extra group),
#       pb_carol (pbports, pbextra);
#   * builds portbind once into BUILD_DIR/itest and installs it twice:
#       /opt/portbind-test/caps    file capability cap_net_bind_service=p
#       /opt/portbind-test/setuid  root:root 4755
#     both compiled with the policy path /opt/portbind-test/etc/portbind.conf;
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
SRC=$(cd "$1" && pwd)
mkdir -p "$2"
BUILD=$(cd "$2" && pwd)
ROOT=/opt/portbind-test
ITEST=$BUILD/itest
JOBS=${PORTBIND_ITEST_JOBS:-2}

die() {
    echo "integration setup: $*" >&2
    exit 1
}

umask 022

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
for tool in cmake setcap getcap setpriv unshare ip ss findmnt pkg-config cc /usr/bin/python3 /usr/bin/node timeout; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

# --------------------------------------------------------- build + install
rm -rf "$ROOT"
mkdir -m 0755 "$ROOT"
chown root:root "$ROOT"
for d in caps setuid etc etc/portbind.d apps; do
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
# chown clears both the setuid bit and file capabilities.)
find "$ROOT" -type d -exec chown root:root {} + -exec chmod 0755 {} +

# -------------------------------------------------------------- asserts
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

check_dir() {
    local d=$1 st
    st=$(stat -c '%u %a' "$d")
    [ "${st%% *}" == 0 ] || die "$d is not owned by root ($(stat -c %U "$d"))"
    # group/other write bits (sticky bit does not make it safe).
    (((8#${st#* } & 8#022) == 0)) || die "$d is writable by group or other (mode ${st#* })"
}
for leaf in caps/bin setuid/bin etc/portbind.d apps; do
    p=$ROOT/$leaf
    while :; do
        check_dir "$p"
        [ "$p" == / ] && break
        p=$(dirname "$p")
    done
done

# The test users must be able to run the interpreters and read the apps.
for u in pb_alice pb_bob pb_carol; do
    setpriv --reuid="$u" --regid="$u" --init-groups -- \
        /usr/bin/python3 -c 'import sys; open(sys.argv[1]).close()' "$ROOT/apps/report.py" ||
        die "$u cannot run /usr/bin/python3 or read $ROOT/apps/report.py"
    setpriv --reuid="$u" --regid="$u" --init-groups -- /usr/bin/node -e 0 ||
        die "$u cannot run /usr/bin/node"
done

# Both installed copies start for an unprivileged user.
for bin in "$CAPS_BIN" "$SUID_BIN"; do
    setpriv --reuid=pb_alice --regid=pb_alice --init-groups -- "$bin" --version >/dev/null ||
        die "$bin --version failed for pb_alice"
done

echo "integration setup: installed $CAPS_BIN ($caps) and $SUID_BIN (4755)"
