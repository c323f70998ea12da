#!/bin/bash
# Fixture cleanup for the portbind integration tests (ctest: integration.cleanup).
# Kills leftover processes of the test users, removes leftover test network
# namespaces, /opt/portbind-test, and the test users and groups.
# After a package-mode run (layout.bash) it first puts back what setup.sh saved: the
# installed binary's install mode and the administrator's policy file and drop-in
# directory, exactly; and checks the state directory never changed. If that fails it says
# what differs, keeps /opt/portbind-test (the saved copies are in it) and exits 1.
# Must run as root (exits 77 = skipped otherwise).
set -euo pipefail

# One fixture (users, /opt/portbind-test, its policy file) serves every run on this machine:
# runs take turns. flock -o keeps the lock out of processes the script leaves behind.
if [ -z "${PORTBIND_IT_LOCKED:-}" ] && command -v flock >/dev/null; then
    PORTBIND_IT_LOCKED=1 exec flock -o /run/lock/portbind-integration.lock bash "$0" "$@"
fi

if [ "$(id -u)" != 0 ]; then
    echo "integration cleanup: needs root, skipping" >&2
    exit 77
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/layout.bash
. "$HERE/layout.bash"
USERS=(pb_alice pb_bob pb_carol)
GROUPS_=(pbports pbextra)

# Leftover per-case namespaces (named pbt-<pid> by lib.sh).
while read -r ns _; do
    case $ns in
        pbt-*)
            pids=$(ip netns pids "$ns" 2>/dev/null || true)
            # shellcheck disable=SC2086
            [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
            ip netns del "$ns" 2>/dev/null || true
            ;;
    esac
done < <(ip netns list 2>/dev/null || true)

for u in "${USERS[@]}"; do
    if uid=$(id -u "$u" 2>/dev/null); then
        for _ in 1 2 3 4 5; do
            pkill -KILL -U "$uid" 2>/dev/null || true
            pgrep -U "$uid" >/dev/null 2>&1 || break
            sleep 0.2
        done
    fi
done

restored=yes
pb_restore || restored=no
if [ -d "$PB_SAVED" ]; then
    echo "integration cleanup: the package-mode run's changes are not all undone (above);" \
        "$PB_ROOT stays, with what setup saved in $PB_SAVED" >&2
else
    # Never across a mount point (see setup.sh).
    rm -rf --one-file-system "$PB_ROOT"
fi

for u in "${USERS[@]}"; do
    if getent passwd "$u" >/dev/null; then
        userdel "$u" || echo "integration cleanup: could not delete user $u" >&2
    fi
    # userdel removes the user-private group unless something else uses it.
    if getent group "$u" >/dev/null; then groupdel "$u" || true; fi
done
for g in "${GROUPS_[@]}"; do
    if getent group "$g" >/dev/null; then
        groupdel "$g" || echo "integration cleanup: could not delete group $g" >&2
    fi
done
[ "$restored" == yes ] || exit 1
echo "integration cleanup: done"
