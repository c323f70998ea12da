#!/bin/bash
# ctest bench.smoke (label bench-smoke): runs the benchmark harness in its quick mode and
# checks that it produces a well-formed report, so the harness cannot rot. It never judges
# speed: timings on a shared CI machine mean nothing.
#
#   bash smoke.sh SRC_DIR BUILD_DIR
#
# Needs root (exit 77 otherwise) and the integration fixture's capability install
# (/opt/portbind-test/caps, policy in /opt/portbind-test/etc; exit 77 if it is missing):
# the harness saves that policy, replaces it while it runs, and restores it. No packages
# are installed; a comparison whose tool is missing is reported as "not measured".
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: bash $0 SRC_DIR BUILD_DIR" >&2
    exit 2
fi
SRC=$1
OUT=$2/bench-smoke
PB_ROOT=/opt/portbind-test
PB=$PB_ROOT/caps/bin/portbind

if [ "$(id -u)" != 0 ]; then
    echo "bench smoke: needs root, skipping"
    exit 77
fi
if [ ! -x "$PB" ]; then
    echo "bench smoke: $PB is not installed (fixture integration.setup did not run), skipping"
    exit 77
fi

rm -rf -- "$OUT"
# SIGTERM lets the harness undo its changes (user, policy, authbind file) before it exits.
timeout -k 10 160 /usr/bin/python3 "$SRC/tests/bench/bench.py" --quick --no-install \
    --portbind "$PB" --policy-dir "$PB_ROOT/etc" --out "$OUT"
/usr/bin/python3 "$SRC/tests/bench/check_results.py" --require-measured portbind "$OUT"
