#!/bin/bash
# Default mode process handling: the app's exit status is portbind's; signals sent to
# portbind reach the app; death by signal N gives 128+N; nothing is left behind.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443"
run ns_user pb_alice "$PB" -- "$PY" "$APPS/selfbind.py" --exit 7 tcp,0.0.0.0,443
assert_eq 7 "$RUN_RC" "the app's exit status 7 is portbind's"
run ns_user pb_alice "$PB" -- /bin/sh -c 'kill -TERM $$'
assert_eq 143 "$RUN_RC" "an app killed by SIGTERM gives 128+15"

# selfbind.py exits 42 on SIGUSR1: a SIGUSR1 sent to portbind must reach it.
bg_start pb_alice usr1 "$PB" -- "$PY" "$APPS/selfbind.py" tcp,0.0.0.0,443
job=$BG_LAST
assert_true "the app listens" wait_listen 443 tcp "$job"
pb=$(ip netns pids "$NS" | while read -r p; do
    if [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$PB")" ]; then echo "$p"; fi
done | head -1)
assert_match "$pb" '^[0-9]+$' "found portbind's pid"
kill -USR1 "$pb"
bg_wait "$job" 5
assert_eq 42 "$BG_RC" "SIGUSR1 sent to portbind reached the app (it exited 42)"
assert_eq "" "$(ip netns pids "$NS")" "portbind exited with the app: nothing left running"

bg_start pb_alice term "$PB" -- "$PY" "$APPS/selfbind.py" tcp,0.0.0.0,443
job=$BG_LAST
assert_true "the app listens again" wait_listen 443 tcp "$job"
pb=$(ip netns pids "$NS" | while read -r p; do
    if [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$PB")" ]; then echo "$p"; fi
done | head -1)
kill -TERM "$pb"
bg_wait "$job" 5
assert_eq 143 "$BG_RC" "SIGTERM sent to portbind ends the app; status 128+15"
assert_eq "" "$(ip netns pids "$NS")" "nothing left running"
