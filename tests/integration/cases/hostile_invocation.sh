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
# library's constructor never runs in portbind; the app does not get it either.
lib=$SCRATCH/shared/evil.so
cat >"$SCRATCH/evil.c" <<EVIL
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void) {
    char path[] = "$SCRATCH/shared/preloaded-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
}
EVIL
cc -shared -fPIC -o "$lib" "$SCRATCH/evil.c"
chmod 0755 "$lib"
run ns_user pb_alice env LD_PRELOAD="$lib" "$PB" --activate --port 443 -- /bin/true
assert_eq 0 "$RUN_RC" "portbind runs normally with LD_PRELOAD set"
assert_eq "" "$(find "$SCRATCH/shared" -name 'preloaded-*')" "the preloaded library never ran (neither in portbind nor in the app)"
run ns_user pb_alice env LD_PRELOAD="$lib" /bin/true
assert_ne "" "$(find "$SCRATCH/shared" -name 'preloaded-*')" "control: the library does run in an ordinary program"
