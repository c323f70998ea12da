#!/bin/bash
# A hostile environment. Loader and libc variables (LD_AUDIT, LD_LIBRARY_PATH, GCONV_PATH,
# GLIBC_TUNABLES, MALLOC_*, LD_DEBUG_OUTPUT, ...) have no effect on portbind, while the same
# settings do act on an ordinary program. No file named by a variable (portbind's own, HOME,
# XDG_*, TZ, locale, NLSPATH, TMPDIR) is opened by portbind: a trace of the whole run shows
# none before the command's exec, nor any locale or gconv file. Malformed entries do not
# confuse the rebuilt environment; the command gets the caller's cwd and umask.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v strace >/dev/null || bail "strace is not installed (a test dependency)"
write_policy "permit pb_alice port 443"
TRACE=$SCRATCH/trace.out
bait=$SCRATCH/shared/bait # writable by all, so a library could leave its marker there
mkdir -m 1777 "$bait"
mkdir -m 0755 "$bait/lib"

# A library that leaves a marker named after the program it was loaded into, as a
# preloaded, audit or replacement library.
cat >"$SCRATCH/evil.c" <<EOF
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
static void mark(const char *how) {
    char exe[256] = "", path[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *base = exe;
    for (ssize_t i = 0; i < n; i++) if (exe[i] == '/') base = exe + i + 1;
    snprintf(path, sizeof path, "$bait/%s-%s", how, base);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
}
__attribute__((constructor)) static void loaded(void) { mark("loaded"); }
unsigned int la_version(unsigned int v) { mark("audit"); return v; }
EOF
cc -shared -fPIC -o "$bait/evil.so" "$SCRATCH/evil.c"
# Stand-ins for libraries portbind links, found first through LD_LIBRARY_PATH.
for lib in libcap.so.2 libseccomp.so.2 libstdc++.so.6; do
    cp "$bait/evil.so" "$bait/lib/$lib"
done
chmod a+r "$bait/evil.so" "$bait"/lib/*
markers() { find "$bait" -maxdepth 1 -name '*-*' -printf '%f\n' | sort | paste -sd' ' -; }

# ------------------------------------------------------------ loader variables
scenario 8 refused
LOADER_ENV=(LD_AUDIT="$bait/evil.so" LD_LIBRARY_PATH="$bait/lib" GCONV_PATH="$bait"
    "GLIBC_TUNABLES=glibc.malloc.check=3:glibc.malloc.mmap_threshold=1:glibc.malloc.tcache_count=$(head -c 5000 /dev/zero | tr '\0' 9)"
    MALLOC_CHECK_=3 MALLOC_PERTURB_=165 LD_DEBUG=all LD_DEBUG_OUTPUT="$bait/lddebug"
    LD_SHOW_AUXV=1 LD_BIND_NOT=1 LD_PROFILE=libc.so.6 LD_PROFILE_OUTPUT="$bait" HOSTALIASES="$bait/hosts"
    RES_OPTIONS="ndots:15 attempts:5" LOCALDOMAIN=evil.example TMPDIR="$bait")
for mode in --activate ""; do
    label=${mode:-default mode}
    rm -f "$bait"/*-* "$bait"/lddebug*
    # shellcheck disable=SC2016,SC2086  # expanded by the app's shell; empty mode = default
    run ns_user pb_alice env "${LOADER_ENV[@]}" "$PB" $mode --port 443 -- \
        /bin/sh -c 'echo "tmpdir=${TMPDIR-unset} ldlp=${LD_LIBRARY_PATH-unset}"'
    assert_eq 0 "$RUN_RC" "$label: served normally under the loader variables"
    assert_no_match "$(markers)" '(loaded|audit)-portbind' "$label: no audit, preloaded or replacement library ran in portbind"
    assert_eq "" "$(find "$bait" -maxdepth 1 -name 'lddebug*')" "$label: LD_DEBUG_OUTPUT wrote nothing"
    assert_not_contains "$RUN_OUT$RUN_ERR" "AT_SECURE" "$label: LD_SHOW_AUXV printed nothing"
    assert_eq "tmpdir=unset ldlp=unset" "$(tail -n 1 <<<"$RUN_OUT")" \
        "$label: the loader's unsafe variables do not reach the command either (documented)"
done
rm -f "$bait"/*-*
run ns_user env "${LOADER_ENV[@]}" /bin/true
run ns_user pb_alice env LD_AUDIT="$bait/evil.so" LD_LIBRARY_PATH="$bait/lib" /usr/bin/env true
assert_match "$(markers)" 'audit-env' "control: the audit library runs in an ordinary program"
assert_eq 0 "$(find "$bait" -maxdepth 1 -name 'lddebug*' | wc -l | tr -d ' ')" "control: (no LD_DEBUG run yet)"
run ns_user pb_alice env LD_DEBUG=files LD_DEBUG_OUTPUT="$bait/lddebug" /usr/bin/true
assert_ne "" "$(find "$bait" -maxdepth 1 -name 'lddebug*')" "control: LD_DEBUG_OUTPUT does write for an ordinary program"

# ------------------------------------------------------------ files named by variables
scenario 9,10 refused
# Every variable portbind might consult names a path under $bait; a trace of the whole run
# (root traces it, so the privilege stays) must show none of them opened before the command
# starts, and no locale or gconv file at all.
NAMED_ENV=(PORTBIND_POLICY="$bait/p.conf" PORTBIND_CONFIG="$bait/p.conf" PORTBIND_SOCKET="$bait/sock"
    HOME="$bait/home" XDG_CONFIG_HOME="$bait/xdg" XDG_RUNTIME_DIR="$bait/run"
    TZ="$bait/zone" TZDIR="$bait/zoneinfo" "LANG=../../../../..$bait/lang" "LANGUAGE=../..$bait/x"
    "LC_ALL=C/../../..$bait/lcall" LC_MESSAGES="$bait/msg" LOCPATH="$bait/locale"
    NLSPATH="$bait/%N" TMPDIR="$bait" PATH="/usr/bin:/bin")
for mode in --activate ""; do
    label=${mode:-default mode}
    for u in pb_alice pb_bob; do
        # shellcheck disable=SC2086  # an empty mode selects the default mode
        run ns_root strace -f -qq -s 256 -o "$TRACE" -u "$u" -e trace=%file,execve \
            env -i "${NAMED_ENV[@]}" "$PB" $mode --port 443 -- /usr/bin/true
        # portbind's own calls: from its exec to the command's.
        before_command=$(awk -v pb="execve(\"$PB\"" 'index($0, "execve(\"/usr/bin/true\"") { exit }
            index($0, pb) { on = 1; next } on { print }' "$TRACE")
        assert_match "$before_command" 'openat\(' "$label, $u: the trace covers portbind's run"
        assert_not_contains "$before_command" "$bait" "$label, $u: no file named by the environment is opened"
        assert_no_match "$before_command" '/usr/(lib|share)/locale|gconv|/usr/share/zoneinfo' \
            "$label, $u: no locale, gconv or time zone file is opened"
        if [ "$u" == pb_bob ]; then
            assert_eq 125 "$RUN_RC" "$label: pb_bob is refused as usual"
            assert_no_match "$RUN_ERR" $'[^\t -~]' "$label: the refusal is plain ASCII despite LANG"
        else
            assert_eq 0 "$RUN_RC" "$label: pb_alice is served as usual"
        fi
    done
done

# ------------------------------------------------------------ malformed entries
scenario 11 documented
# Entries a shell cannot make: no '=', an empty name, a duplicate, a shell function, and the
# longest value the kernel passes (128 KiB per string). The command gets each well-formed
# name once (the first), the rest dropped.
huge=$(head -c 131000 /dev/zero | tr '\0' v)
bg_start pb_alice app "$APPS/rawexec" -e PATH=/usr/bin:/bin -e NOEQUALS -e =orphan \
    -e DUP=first -e DUP=second -e 'BASH_FUNC_x%%=() { echo pwned; }' -e "HUGE=$huge" \
    -e LISTEN_FDS=9 -e LISTEN_FDS=8 -- "$PB" portbind --activate --port 443 -- "$PY" "$APPS/report.py"
assert_fetch "the app runs despite malformed entries" 127.0.0.1 443
envlist=$(tr '\0' '\n' <"/proc/$(rget "$REPORT" pid)/environ" | cut -c1-40)
assert_eq 1 "$(grep -c '^DUP=' <<<"$envlist")" "a duplicated name reaches the app once"
assert_match "$envlist" '^DUP=first$' "the first of the duplicates"
assert_no_match "$envlist" '^NOEQUALS$' "an entry without '=' is dropped"
assert_no_match "$envlist" '^=orphan$' "an entry without a name is dropped"
assert_match "$envlist" '^BASH_FUNC_x%%=\(\) \{ echo pwned; \}$' "a shell function is the caller's own, passed as is"
assert_eq 131006 "$(tr '\0' '\n' <"/proc/$(rget "$REPORT" pid)/environ" | grep '^HUGE=' | wc -c | tr -d ' ')" \
    "a 128 KiB value is passed whole"
assert_eq 1 "$(rget "$REPORT" env.LISTEN_FDS)" "LISTEN_FDS is portbind's own"
ns_kill_all

# ------------------------------------------------------------ cwd and umask
scenario 13 documented
work=$SCRATCH/shared/work
mkdir -m 0777 "$work"
for mode in --activate ""; do
    label=${mode:-default mode}
    # shellcheck disable=SC2016,SC2086  # expanded by the inner shells; empty mode = default
    run ns_user pb_alice /bin/sh -c 'cd "$0" && umask 0027 && exec "$@"' "$work" \
        "$PB" $mode --port 443 -- /bin/sh -c 'echo "$(pwd) $(umask)"'
    assert_eq "$work 0027" "$RUN_OUT" "$label: the command gets the caller's cwd and umask"
done
assert_eq "" "$(find "$work" -mindepth 1)" "portbind created nothing in the caller's directory"
