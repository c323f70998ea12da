#!/bin/bash
# Runs one integration case:  bash run-case.sh MODE CASE
#   MODE  caps | setuid   (which installed copy of portbind to test)
#   CASE  name of tests/integration/cases/CASE.sh
# Exit 77 (ctest skip) when not root or when the fixture did not install
# portbind for MODE; otherwise the case's own status (0 = all asserts passed).
# In package mode (layout.bash) it first puts the installed binary into MODE (pb_ensure_mode):
# exit 77 when that mode is not tried here, saying why, 1 when switching failed.
set -euo pipefail

# One fixture (users, /opt/portbind-test, its policy file) serves every run on this machine:
# runs take turns. flock -o keeps the lock out of processes the script leaves behind.
if [ -z "${PORTBIND_IT_LOCKED:-}" ] && command -v flock >/dev/null; then
    PORTBIND_IT_LOCKED=1 exec flock -o /run/lock/portbind-integration.lock bash "$0" "$@"
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/layout.bash
. "$HERE/layout.bash"

if [ $# -ne 2 ]; then
    echo "usage: bash $0 caps|setuid CASE" >&2
    exit 2
fi
MODE=$1
CASE=$2
case $MODE in
    caps | setuid) ;;
    *)
        echo "run-case: unknown mode '$MODE' (caps|setuid)" >&2
        exit 2
        ;;
esac
case $CASE in
    */* | .* | '')
        echo "run-case: bad case name '$CASE'" >&2
        exit 2
        ;;
esac
if [ ! -f "$HERE/cases/$CASE.sh" ]; then
    echo "run-case: no such case: $CASE" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "run-case: $CASE needs root, skipping"
    exit 77
fi
if [ -z "$PB_INSTALLED" ]; then
    if [ ! -x "$PB_ROOT/$MODE/bin/portbind" ]; then
        echo "run-case: $PB_ROOT/$MODE/bin/portbind is not installed (fixture setup failed or did not run), skipping"
        exit 77
    fi
else
    if [ "$(cat "$PB_FIXTURE_RECORD" 2>/dev/null)" != "installed=$PB_INSTALLED" ] ||
        [ ! -f "$PB_SAVED/record" ]; then
        echo "run-case: the fixture is not set up for $PB_INSTALLED (fixture setup failed or did not run), skipping"
        exit 77
    fi
    pb_layout "$MODE" || exit 1
    rc=0
    why=$(pb_ensure_mode "$MODE") || rc=$?
    if [ "$rc" == 77 ]; then
        echo "run-case: $CASE [$MODE]: $why, skipping"
        exit 77
    elif [ "$rc" != 0 ]; then
        echo "run-case: cannot put $PB into $MODE mode: $why"
        exit 1
    fi
fi

exec bash "$HERE/cases/$CASE.sh" "$MODE"
