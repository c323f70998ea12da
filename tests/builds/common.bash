# Shared by the builds.* scripts that build a preset in their own binary directory. The
# sourcing script sets SRC, BIN, JOBS and NAME (builds.fuzz, builds.asan) first.

say() { echo "$NAME: $*"; }

# Sets CPU to the CPU seconds (user + system) of every command run so far, for the timings
# the scripts print (`times` must run in the script's shell, not in a subshell).
cpu_now() {
    times >"$BIN.times"
    CPU=$(awk 'NR == 2 { gsub(/[ms]/, " "); print int($1 * 60 + $2 + $3 * 60 + $4) }' "$BIN.times")
}

# build_preset PRESET WHAT [CMAKE_ARG]...: configures PRESET in $BIN and builds it, or exits 1
# saying which step failed (WHAT names the build). PORTBIND_TEST_BUILDS=OFF: the configuration
# built here must not register builds.* itself. Sets BUILT (the time it finished) and BUILT_CPU.
build_preset() {
    local preset=$1 what=$2 start
    shift 2
    start=$(date +%s)
    (cd "$SRC" && cmake --preset "$preset" -B "$BIN" -DPORTBIND_TEST_BUILDS=OFF "$@") \
        >"$BIN.configure.log" 2>&1 || {
        cat "$BIN.configure.log"
        say "FAILED: configuring the $preset preset"
        exit 1
    }
    if ! cmake --build "$BIN" -j"$JOBS"; then
        say "FAILED: building $what"
        exit 1
    fi
    BUILT=$(date +%s)
    cpu_now
    BUILT_CPU=$CPU
    say "configured and built in $((BUILT - start)) s (CPU $BUILT_CPU s)"
}
