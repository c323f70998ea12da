#!/bin/bash
# ctest builds.static: tests/static/run.sh (clang-tidy and cppcheck over policy/ and
# launcher/) on a compilation database configured in its own binary directory (configure
# only, nothing is compiled).
#
#   bash static.sh SRC_DIR BINARY_DIR
#
# Fails on any finding; exits 77 (skipped) when clang-tidy or cppcheck is missing.
set -uo pipefail

if [ $# -ne 2 ]; then
    echo "usage: bash $0 SRC_DIR BINARY_DIR" >&2
    exit 2
fi
SRC=$(cd "$1" && pwd) || exit 2
BIN=$2

for tool in clang-tidy cppcheck python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "builds.static: SKIPPED: $tool is not installed (apt-get install clang-tidy cppcheck)"
        exit 77
    fi
done

start=$(date +%s)
# The default compiler's flags, as the release build compiles the code.
cmake -S "$SRC" -B "$BIN" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DPORTBIND_TEST_BUILDS=OFF \
    >"$BIN.configure.log" 2>&1 || {
    cat "$BIN.configure.log"
    echo "builds.static: FAILED: configuring $BIN"
    exit 1
}
JOBS=${PORTBIND_BUILDS_JOBS:-2} bash "$SRC/tests/static/run.sh" "$BIN"
status=$?
echo "builds.static: took $(($(date +%s) - start)) s"
exit $status
