#!/bin/bash
# The caller tries to read or take over portbind while it holds privilege: PTRACE_ATTACH and
# PTRACE_SEIZE, /proc/PID/{mem,environ,maps,fd,cwd,exe}, process_vm_readv and pidfd_getfd,
# from a process of the caller's uid that is portbind's own parent. At every pause point
# (see adversarial_common.bash) and while the binding process of the default mode serves
# the app, all of them fail, and portbind holds exactly what SECURITY.md says: the caller's
# ids, CAP_NET_BIND_SERVICE permitted and nothing effective, inheritable or ambient, one
# thread, not dumpable, no core. The same probe succeeds on the caller's own processes,
# including the app once portbind has exec'd it. Started under a tracer, portbind gets no
# privilege from the kernel and says so.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/adversarial_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/adversarial_common.bash"

write_policy "permit pb_alice port 443"
marker=$SCRATCH/shared/ran
SELFBIND=("$PY" "$APPS/selfbind.py" "tcp,::,443,dual")
caller_bnd=$(ns_user pb_alice grep '^CapBnd:' /proc/self/status | cut -f2)

# probe_privileged WHAT: the adversary's probe of portbind fails in every way, and portbind
# holds only the bind capability.
probe_privileged() {
    scenario 41,42 refused
    adv probe
    assert_probe_denied "$1"
    scenario 45,50 documented
    assert_narrowed "$PAUSE_PID" pb_alice "$1"
    assert_eq "$caller_bnd" "$(status_of "$PAUSE_PID" CapBnd)" "$1: bounding set left as the caller's"
}

# ----------------------------------------------------------------- control and deny
write_policy "permit pb_alice port 443
deny pb_alice port 444"
pause_start pb_alice deny --activate --port 444 -- /usr/bin/touch "$marker" ||
    bail "portbind never paused: $(cat "$PAUSE_ERR")"
scenario 41,42 refused
adv control
assert_probe_allowed "control"
probe_privileged "refusing a request"
pause_release
pause_finish
assert_eq "exit 125" "$PAUSE_RESULT" "the request is refused as usual"
write_policy "permit pb_alice port 443"

# ----------------------------------------------------------------- after the drop
pause_start pb_alice drop --activate --port 443 -- "$PY" "$APPS/report.py" || bail "no pause"
scenario 41,42 refused
adv probe
assert_probe_denied "after the drop, before exec"
scenario 45,50 documented
assert_all_dropped "$PAUSE_PID" pb_alice "after the drop, before exec"
assert_eq 0 "$(stat -c %u "/proc/$PAUSE_PID/fd")" "after the drop: still not dumpable until exec"
assert_eq 1 "$(status_of "$PAUSE_PID" Threads)" "after the drop: single-threaded"
pause_release
assert_fetch "the app serves" 127.0.0.1 443
scenario 45 documented
assert_dropped "$REPORT" pb_alice "the app"
adv probe
assert_probe_allowed "the exec'd app (the caller's own process)"
adv signal SIGTERM
pause_finish

# --------------------------------------------------------------- default mode
pause_start pb_alice reserve --port 443 -- "${SELFBIND[@]}" || bail "no pause"
probe_privileged "holding the reservation"
pause_release
assert_true "the app listens" wait_listen 443
probe_privileged "serving the app (binding process)"
app=$(pgrep -P "$PAUSE_PID" | head -n 1)
scenario 45 documented
assert_all_dropped "$app" pb_alice "the app"
adv signal SIGTERM
pause_finish

pause_start pb_alice served -- "${SELFBIND[@]}" || bail "no pause"
probe_privileged "having bound the app's socket"
pause_release
assert_true "the app listens" wait_listen 443
adv signal SIGTERM
pause_finish
assert_eq "signal 15" "$PAUSE_RESULT" "SIGTERM ends app and portbind"

# ------------------------------------------------------------------ under a tracer
# The kernel runs a traced exec without the file capability or the setuid bit, so portbind
# starts with nothing: it must refuse a privileged port (or leave it to a broker, which is
# not running here), never try anyway.
scenario 41,47 refused
command -v strace >/dev/null || bail "strace is not installed (a test dependency)"
for mode in --activate ""; do
    label=${mode:-default mode}
    # shellcheck disable=SC2086  # an empty mode selects the default mode
    run ns_user pb_alice strace -f -o /dev/null "$PB" $mode --port 443 -- /usr/bin/touch "$marker"
    assert_refusal 443
    assert_true "$label under strace: the command did not run" test ! -e "$marker"
    assert_not_listening 443
done
run ns_user pb_alice strace -f -o /dev/null "$PB" --activate --port 8080 -- /usr/bin/touch "$marker"
assert_eq 0 "$RUN_RC" "under strace an unprivileged port still works"
assert_true "and the command ran" test -e "$marker"
rm -f "$marker"
run ns_user pb_alice "$PB" --activate --port 443 -- /usr/bin/touch "$marker"
assert_eq 0 "$RUN_RC" "control: without the tracer the same request is served"
rm -f "$marker"
