#!/bin/bash
# ctest builds.fuzz: the fuzz preset (clang, libFuzzer, ASan, UBSan) built in its own binary
# directory, then every fuzz target run for a bounded time from the committed seeds.
#
#   bash fuzz.sh SRC_DIR BINARY_DIR SECONDS
#
# Fails on any build error (the whole project compiles with clang and -Werror here), crash,
# sanitizer report, leak, slow input or broken invariant, and prints the input that caused it
# with the command that reproduces it. Exits 77 (skipped) when clang or its libFuzzer runtime
# is missing.
set -uo pipefail

if [ $# -ne 3 ]; then
    echo "usage: bash $0 SRC_DIR BINARY_DIR SECONDS" >&2
    exit 2
fi
SRC=$(cd "$1" && pwd) || exit 2
BIN=$2
SECONDS_PER_TARGET=$3
JOBS=${PORTBIND_BUILDS_JOBS:-2}

NAME=builds.fuzz
# shellcheck source=SCRIPTDIR/common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# clang with libFuzzer (Debian 12: clang and libclang-rt-14-dev).
for tool in clang clang++; do
    if ! command -v "$tool" >/dev/null; then
        say "SKIPPED: $tool is not installed (apt-get install clang libclang-rt-14-dev)"
        exit 77
    fi
done
probe=$(mktemp -d) || exit 2
trap 'rm -rf "$probe"' EXIT
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) { (void)d; (void)n; return 0; }' \
    >"$probe/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined -o "$probe/probe" "$probe/probe.c" \
    >"$probe/log" 2>&1; then
    cat "$probe/log"
    say "SKIPPED: clang cannot link -fsanitize=fuzzer,address,undefined" \
        "(apt-get install libclang-rt-14-dev)"
    exit 77
fi

mkdir -p "$BIN" || exit 2
build_preset fuzz "the fuzz preset (clang, -Werror)" -DPORTBIND_FUZZ_SECONDS="$SECONDS_PER_TARGET"

# Findings of earlier runs would be reported again; what libFuzzer added to the scratch
# corpora stays (it only adds coverage).
ARTIFACTS=$BIN/tests/fuzz/artifacts
rm -f "$ARTIFACTS"/*

# Two targets at a time: this test runs alone (RUN_SERIAL) and the runs are single-threaded.
ctest --test-dir "$BIN" -L '^fuzz$' -j"$JOBS" --output-on-failure \
    --timeout $((SECONDS_PER_TARGET + 300))
status=$?
cpu_now
say "fuzzed in $(($(date +%s) - BUILT)) s (CPU $((CPU - BUILT_CPU)) s)"

shopt -s nullglob
findings=("$ARTIFACTS"/*)
if [ "${#findings[@]}" -gt 0 ] || [ "$status" -ne 0 ]; then
    say "FAILED: a fuzz target found a problem (ctest status $status)"
    for f in "${findings[@]}"; do
        name=$(basename "$f")
        target=${name%%-*}
        say "  input: $f"
        say "  reproduce: $BIN/tests/fuzz/fuzz_$target $f"
    done
    say "then see tests/fuzz/README.md, 'When a target fails'"
    exit 1
fi
say "every target ran ${SECONDS_PER_TARGET} s (or its run limit) without a finding"
