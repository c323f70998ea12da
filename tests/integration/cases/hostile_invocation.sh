#!/bin/bash
# Hostile ways to start portbind: an empty argv (PwnKit), no_new_privs (which withholds the
# privilege: portbind must say so, not misbehave), and a loader variable pointing at a
# library that would run code inside the privileged process.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443"

# argc == 0. Kernels since 5.18 turn an empty argv into {""}; either way portbind refuses.
run ns_user pb_alice "$APPS/rawexec" -- "$PB"
assert_eq 125 "$RUN_RC" "an empty argv is refused with 125"
assert_match "$RUN_ERR" '^portbind: ' "with a one-line message"
run ns_user pb_alice "$APPS/rawexec" -- "$PB" "" --activate --port 443 -- /bin/true
assert_eq 0 "$RUN_RC" "an empty argv[0] alone changes nothing (the request is served)"

# no_new_privs: the kernel grants neither the file capability nor setuid.
marker=$SCRATCH/shared/ran
run ns_user pb_alice setpriv --nnp -- "$PB" --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal "no_new_privs"
assert_true "the command did not run" test ! -e "$marker"
run ns_user pb_alice setpriv --nnp -- "$PB" --activate --port 8080 -- /usr/bin/touch "$marker"
assert_eq 0 "$RUN_RC" "under no_new_privs an unprivileged port still works"
rm -f "$marker"

# LD_PRELOAD into the privileged process: the loader ignores it (secure execution), so the
# library's constructor never runs in portbind. glibc also removes it from portbind's
# environment, so the command does not get it either (documented in portbind(1)).
lib=$SCRATCH/shared/evil.so
cat >"$SCRATCH/evil.c" <<EVIL
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void) {
    char exe[256] = "", path[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *base = exe;
    for (ssize_t i = 0; i < n; i++) if (exe[i] == '/') base = exe + i + 1;
    snprintf(path, sizeof path, "$SCRATCH/shared/preloaded-%s", base);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
}
EVIL
cc -shared -fPIC -o "$lib" "$SCRATCH/evil.c"
chmod 0755 "$lib"
for mode in --activate ""; do
    rm -f "$SCRATCH"/shared/preloaded-*
    # shellcheck disable=SC2086  # an empty mode selects the default mode
    run ns_user pb_alice env LD_PRELOAD="$lib" "$PB" $mode --port 443 -- /bin/true
    assert_eq 0 "$RUN_RC" "portbind ${mode:-(default mode)} runs normally with LD_PRELOAD set"
    assert_true "the preloaded library never ran inside portbind ${mode:-(default mode)}" \
        test ! -e "$SCRATCH/shared/preloaded-portbind"
    assert_true "the command did not get LD_PRELOAD ${mode:-(default mode)}" \
        test ! -e "$SCRATCH/shared/preloaded-true"
done
run ns_user pb_alice env LD_PRELOAD="$lib" /bin/true
assert_true "control: the library does run in an ordinary program" \
    test -e "$SCRATCH/shared/preloaded-true"
