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

# A signal death is reproduced, not just reported: the caller sees portbind killed by the
# same signal (a shell prints 128+N for both, so ask waitpid directly).
run ns_user pb_alice "$PY" -c 'import subprocess, sys
r = subprocess.run([sys.argv[1], "--", "/bin/sh", "-c", "kill -TERM $$"])
print(r.returncode)' "$PB"
assert_eq "-15" "$RUN_OUT" "portbind dies of SIGTERM when the app does"

# Job control: when the app stops, portbind stops too (so a shell sees the job stop);
# continuing portbind continues the app.
bg_start pb_alice jobs "$PB" -- "$PY" "$APPS/selfbind.py" tcp,0.0.0.0,443
job=$BG_LAST
assert_true "the app listens" wait_listen 443 tcp "$job"
pb=$(ip netns pids "$NS" | while read -r p; do
    if [ "$(readlink "/proc/$p/exe")" = "$(readlink -f "$PB")" ]; then echo "$p"; fi
done | head -1)
app=$(pgrep -P "$pb" | head -1)
state() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1; }
wait_state() { # PID STATE
    local i
    for ((i = 0; i < 100; i++)); do
        if [ "$(state "$1")" = "$2" ]; then return 0; fi
        sleep 0.05
    done
    return 1
}
kill -TSTP "$app"
assert_true "the app stopped" wait_state "$app" T
assert_true "portbind stopped with it" wait_state "$pb" T
kill -CONT "$pb"
assert_true "continuing portbind continues the app" wait_state "$app" S
assert_fetch "and the app serves again" 127.0.0.1 443
