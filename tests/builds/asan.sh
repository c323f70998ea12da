#!/bin/bash
# ctest builds.asan: the asan preset (gcc, ASan and UBSan, halting on the first error) built in
# its own binary directory, and its suite run there with the asan test preset's environment:
# the unit suites and the fuzz corpus replays; as root also the integration suite, against
# copies of portbind that are themselves sanitizer builds, installed with the file capability
# and setuid root.
#
#   bash asan.sh SRC_DIR BINARY_DIR
#
# The installed copies are built by tests/integration/setup.sh with the preset's CFLAGS,
# CXXFLAGS and LDFLAGS, plus sanitizer_defaults.c (settings that make ASan work with what the
# cases do to portbind; see that file). As root, holding the integration lock throughout (so
# no other run can replace or remove the fixture in between), this checks that:
#   - both installed copies carry the ASan and UBSan runtimes (DT_NEEDED) and those settings,
#     and that the ASan runtime starts in them for an unprivileged caller;
#   - a deliberately faulty program built the same way, installed the same two ways and
#     giving up its privilege as portbind does, has its heap overflow, use after free and
#     undefined behaviour reported and is stopped (asan_probe.c);
#   - every case but those listed in EXCLUDED_CASES passes, none was skipped for want of the
#     fixture, and no sanitizer report appears in the output of any case.
# Exits 77 (skipped) when gcc cannot build with -fsanitize=address,undefined.
set -uo pipefail

# Cases that cannot pass against a sanitizer build whatever portbind does (their checks all
# run in the normal integration suite):
#   adversarial_rlimits  requires RLIMIT_AS 128 MiB to be enough to run portbind; ASan
#                        reserves terabytes of address space for its shadow memory at start
#                        and dies without it. (Its tiny RLIMIT_STACK runs also overflow the
#                        instrumented frames, which carry redzones.)
#   broker_abuse         requires the broker's resident memory to stay within 2 MB across
#                        rounds of abuse; ASan's quarantine (freed memory held back to catch
#                        use after free) and its allocator caches grow it by design.
EXCLUDED_CASES=(adversarial_rlimits broker_abuse)

PHASE=all
if [ "${1:-}" == --integration ]; then
    PHASE=integration # internal: the integration part, run with the lock held
    shift
fi
if [ $# -ne 2 ]; then
    echo "usage: bash $0 SRC_DIR BINARY_DIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$1" && pwd) || exit 2
BIN=$2
JOBS=${PORTBIND_BUILDS_JOBS:-2}
FIXTURE=/opt/portbind-test
LOCK=/run/lock/portbind-integration.lock
DEFAULTS=$BIN/sanitizer_defaults.o
PROBE=$BIN/asan_probe
PLAIN_CLIENT=$BIN/plain-client

NAME=builds.asan
# shellcheck source=SCRIPTDIR/common.bash
. "$(dirname "${BASH_SOURCE[0]}")/common.bash"

# The asan test preset's environment (ASAN_OPTIONS, UBSAN_OPTIONS, and the CFLAGS, CXXFLAGS
# and LDFLAGS that tests/integration/setup.sh builds the installed copies with), read from
# CMakePresets.json so that this test runs what `cmake --workflow --preset asan` runs.
preset_env=$(
    python3 - "$SRC/CMakePresets.json" <<'EOF'
import json, shlex, sys
presets = json.load(open(sys.argv[1]))
env = next(p for p in presets["testPresets"] if p["name"] == "asan")["environment"]
for name, value in env.items():
    if not name.isidentifier():
        sys.exit(f"CMakePresets.json: asan test preset: bad variable name {name!r}")
    print(f"export {name}={shlex.quote(value)}")
EOF
) || {
    say "FAILED: cannot read the asan test preset's environment"
    exit 1
}
eval "$preset_env"
for name in ASAN_OPTIONS UBSAN_OPTIONS CFLAGS CXXFLAGS LDFLAGS; do
    [ -n "${!name:-}" ] || {
        say "FAILED: the asan test preset does not set $name"
        exit 1
    }
done

# expect_probe MODE INSTALLED_PROBE PATTERN: the probe, run by pb_alice, is in secure
# execution after its drop, and the error MODE names is reported (PATTERN) and stops it.
expect_probe() {
    local mode=$1 probe=$2 pattern=$3 out rc=0
    out=$(setpriv --reuid=pb_alice --regid=pb_alice --init-groups -- env -i "$probe" "$mode" \
        2>&1) || rc=$?
    if ! grep -q '^at_secure=1 euid=[1-9][0-9]* dumpable=0$' <<<"$out"; then
        say "FAILED: $probe $mode did not run in secure execution after a drop: $out"
        return 1
    fi
    if [ "$mode" == none ]; then
        [ "$rc" == 0 ] && return 0
        say "FAILED: $probe none exited $rc: $out"
        return 1
    fi
    if [ "$rc" == 0 ] || ! grep -Eq "$pattern" <<<"$out"; then
        say "FAILED: $probe $mode: expected a report matching /$pattern/ and a non-zero" \
            "status, got status $rc: $out"
        return 1
    fi
}

# The installed copies are the sanitizer builds, and the sanitizers work in such copies.
check_fixture() {
    local mode bin needed out dir ok=0
    for mode in caps setuid; do
        bin=$FIXTURE/$mode/bin/portbind
        needed=$(readelf -d "$bin" 2>&1)
        if ! grep -q 'NEEDED.*\[libasan\.so' <<<"$needed" ||
            ! grep -q 'NEEDED.*\[libubsan\.so' <<<"$needed"; then
            say "FAILED: $bin is not linked with the ASan and UBSan runtimes: $needed"
            ok=1
        fi
        if ! grep -q ' T __asan_default_options$' <<<"$(nm "$bin" 2>&1)"; then
            say "FAILED: $bin lacks the settings of sanitizer_defaults.c"
            ok=1
        fi
        # The runtime starts (it prints its flags before main()); only setuid mode reads the
        # caller's ASAN_OPTIONS (see sanitizer_defaults.c), so ask for them there.
        if [ $mode == setuid ]; then
            out=$(setpriv --reuid=pb_alice --regid=pb_alice --init-groups -- \
                env -i ASAN_OPTIONS=help=1 "$bin" --version 2>&1)
            if ! grep -q 'Available flags for AddressSanitizer' <<<"$out"; then
                say "FAILED: the ASan runtime did not start in $bin run by pb_alice: $out"
                ok=1
            fi
        fi
    done

    dir=$FIXTURE/asan-probe
    rm -rf "$dir"
    mkdir -m 0755 "$dir" || return 1
    install -m 0755 "$PROBE" "$dir/caps" || return 1
    setcap cap_net_bind_service=p "$dir/caps" || return 1
    install -m 4755 "$PROBE" "$dir/setuid" || return 1
    for mode in caps setuid; do
        expect_probe none "$dir/$mode" '' || ok=1
        expect_probe heap-overflow "$dir/$mode" 'ERROR: AddressSanitizer: heap-buffer-overflow' ||
            ok=1
        expect_probe use-after-free "$dir/$mode" 'ERROR: AddressSanitizer: heap-use-after-free' ||
            ok=1
        expect_probe ubsan "$dir/$mode" 'runtime error: signed integer overflow' || ok=1
    done
    rm -rf "$dir"
    [ $ok == 0 ] && say "the installed copies are ASan/UBSan builds; the sanitizers report" \
        "and stop in capability and setuid mode"
    return $ok
}

# The client library is the one installed file that programs without ASan load (the C
# example the broker cases compile against it, through pkg-config), and the ASan runtime must
# be the first library of a program. So the fixture gets an uninstrumented build of it; its
# code runs in the application, not in portbind, and its codec runs under ASan in the unit
# suites.
install_plain_client() {
    local lib mode installed
    lib=$(find "$PLAIN_CLIENT" -maxdepth 1 -name 'libportbind.so.*.*.*' -type f)
    [ -n "$lib" ] && [ "$(wc -l <<<"$lib")" == 1 ] || return 1
    for mode in caps setuid; do
        installed=$(find "$FIXTURE/$mode" -name "$(basename "$lib")" -type f)
        if [ -z "$installed" ]; then
            say "FAILED: $FIXTURE/$mode has no $(basename "$lib")"
            return 1
        fi
        while IFS= read -r target; do
            install -o root -g root -m 0644 "$lib" "$target" || return 1
        done <<<"$installed"
    done
}

# The integration suite against the sanitizer build; runs with the integration lock held.
integration() {
    local rc=0 log=$BIN/integration.log last=$BIN/Testing/Temporary/LastTest.log exclude
    # The copies are configured afresh, so they get this run's flags (CMake reads LDFLAGS
    # into a new cache only).
    rm -f "$BIN/itest/CMakeCache.txt"
    if ! LDFLAGS="$LDFLAGS $DEFAULTS" ctest --test-dir "$BIN" -R '^integration\.setup$' \
        --output-on-failure; then
        say "FAILED: integration setup with the sanitizer build"
        ctest --test-dir "$BIN" -R '^integration\.cleanup$' --output-on-failure
        return 1
    fi
    check_fixture || rc=1
    install_plain_client || {
        say "FAILED: installing the uninstrumented client library"
        rc=1
    }
    # integration.summary reports on the scenarios of every case, so it belongs to the full run.
    exclude="^integration\\.setup\$|^integration\\.summary\$"
    exclude+="|^integration\\.(caps|setuid)\\.($(
        IFS='|'
        echo "${EXCLUDED_CASES[*]}"
    ))\$"
    say "not run against the sanitizer build (see asan.sh): ${EXCLUDED_CASES[*]}"
    ctest --test-dir "$BIN" -L '^integration$' -E "$exclude" -FS integration \
        --output-on-failure 2>&1 | tee "$log"
    if [ "${PIPESTATUS[0]}" != 0 ]; then
        say "FAILED: integration cases with the sanitizer build"
        rc=1
    fi
    if grep -q 'is not installed (fixture' "$last"; then
        say "FAILED: cases were skipped because the fixture was missing"
        rc=1
    fi
    if grep -q -- '\*\*\*Skipped' "$log"; then
        say "skipped cases:"
        grep -- '\*\*\*Skipped' "$log"
    fi
    # A case that passes may still show what portbind wrote to stderr.
    if grep -E -n 'ERROR: AddressSanitizer|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)|: runtime error: ' \
        "$last"; then
        say "FAILED: a sanitizer report appears in the integration output above"
        rc=1
    fi
    return $rc
}

if [ $PHASE == integration ]; then
    export PORTBIND_IT_LOCKED=1
    # The installed copies run with the settings compiled into them, in both modes alike:
    # some cases run portbind with root's environment (under strace), where the setuid copy
    # would read these (and LeakSanitizer cannot work under ptrace).
    unset ASAN_OPTIONS UBSAN_OPTIONS
    integration
    exit $?
fi

mkdir -p "$BIN" || exit 2
# shellcheck disable=SC2086  # the flags are a list
if ! gcc $CFLAGS -g -O1 -Wall -Wextra -Werror -c -o "$DEFAULTS" "$HERE/sanitizer_defaults.c" \
    >"$PROBE.log" 2>&1 ||
    ! gcc $CFLAGS -g -O1 -Wall -Wextra -Werror -o "$PROBE" "$HERE/asan_probe.c" "$DEFAULTS" \
        >>"$PROBE.log" 2>&1 ||
    ! "$PROBE" none >/dev/null 2>&1; then
    cat "$PROBE.log"
    say "SKIPPED: gcc cannot build and run a program with: $CFLAGS"
    exit 77
fi

build_preset asan "the asan preset"

status=0
# Everything but the integration suite. The packaging check and the benchmark smoke test
# build and measure other things; they are not part of the sanitizer run.
if ! ctest --test-dir "$BIN" -LE '^(integration|packaging|bench-smoke|builds)$' -j"$JOBS" \
    --output-on-failure --no-tests=error; then
    say "FAILED: unit tests or corpus replay under ASan and UBSan"
    status=1
fi
unit_done=$(date +%s)
cpu_now
unit_cpu=$CPU
say "unit tests and corpus replay took $((unit_done - BUILT)) s (CPU $((unit_cpu - BUILT_CPU)) s)"

if [ "$(id -u)" != 0 ]; then
    say "not root: the integration suite (installed privileged sanitizer builds) was not run"
    exit $status
fi

# The uninstrumented client library for the fixture (see install_plain_client).
if ! (unset CFLAGS CXXFLAGS LDFLAGS &&
    cmake -S "$SRC" -B "$PLAIN_CLIENT" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
        -DPORTBIND_TEST_BUILDS=OFF >"$PLAIN_CLIENT.log" 2>&1 &&
    cmake --build "$PLAIN_CLIENT" -j"$JOBS" --target portbind_client >>"$PLAIN_CLIENT.log" 2>&1); then
    cat "$PLAIN_CLIENT.log"
    say "FAILED: building the uninstrumented client library"
    exit 1
fi

# The integration part holds the lock all through; flock -o keeps it out of the processes
# the cases leave behind.
if command -v flock >/dev/null; then
    say "waiting for the integration lock"
    PORTBIND_IT_LOCKED=1 flock -o "$LOCK" bash "$0" --integration "$SRC" "$BIN" || status=1
else
    bash "$0" --integration "$SRC" "$BIN" || status=1
fi
cpu_now
say "integration suite took $(($(date +%s) - unit_done)) s (CPU $((CPU - unit_cpu)) s)"

[ $status == 0 ] && say "clean: unit tests, corpus replay and integration suite under ASan and UBSan"
exit $status
