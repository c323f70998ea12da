#!/bin/bash
# Default mode serves a statically linked binary that calls the bind system call directly,
# with no libc wrapper to hook: the interception is in the kernel.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 80"
assert_match "$(file "$APPS/static_server")" 'statically linked' "the test server is statically linked"

run ns_user pb_alice "$APPS/static_server" 80
assert_eq 3 "$RUN_RC" "without portbind the static server cannot bind 80"

bg_start pb_alice static "$PB" -- "$APPS/static_server" 80
assert_true "the static server listens on 80" wait_listen 80 tcp "$BG_LAST"
assert_fetch "the static server answers" 127.0.0.1 80
assert_eq "static-ok uid=$(uid_of pb_alice)" "$REPORT" "it runs as pb_alice"
