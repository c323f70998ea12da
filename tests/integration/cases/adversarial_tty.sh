#!/bin/bash
# Root runs `portbind --user pb_alice ...` from an interactive shell on a terminal. The
# command then runs as pb_alice, and must not be able to push input into root's terminal
# (TIOCSTI: keystrokes root's shell would read and run as root, CVE-2017-5226's class): it
# gives up its controlling terminal (TIOCSTI needs it), while staying in root's foreground
# process group so Ctrl-C still reaches it.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "# nothing permitted: root is not subject to the policy"

# What the command tries, as pb_alice, on the terminal it inherited.
PROBE='import errno, fcntl, os, termios
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"#")
    print("tiocsti=OK")
except OSError as e:
    print("tiocsti=" + errno.errorcode[e.errno])
print("sid=%d" % os.getsid(0))
try:
    os.close(os.open("/dev/tty", os.O_RDWR))
    print("ctty=yes")
except OSError as e:
    print("ctty=" + errno.errorcode[e.errno])
print("uid=%d" % os.getuid())'

# A root shell on a fresh terminal (a session of its own, the terminal its controlling
# terminal) runs portbind as a command, then reports its own session.
cat >"$SCRATCH/terminal.py" <<'PYEOF'
import os, pty, sys

pid, master = pty.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-c", '"$@"; echo "shell_sid=$(ps -o sid= -p $$ | tr -d " ")"',
                         "sh"] + sys.argv[1:])
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
PYEOF
chmod 0644 "$SCRATCH/terminal.py"

scenario 68 refused
alice=$(uid_of pb_alice)
for mode in --activate ""; do
    label="root --user pb_alice ${mode:-(default mode)}"
    # shellcheck disable=SC2086  # an empty mode selects the default mode
    run ns_root "$PY" "$SCRATCH/terminal.py" "$PB" --user pb_alice $mode --port 443 -- "$PY" -c "$PROBE"
    r=$RUN_OUT
    assert_eq "$alice" "$(rget "$r" uid)" "$label: the command runs as pb_alice"
    assert_match "$(rget "$r" shell_sid)" '^[0-9]+$' "$label: the root shell reports its session"
    assert_eq "ENXIO" "$(rget "$r" ctty)" "$label: the command has no controlling terminal"
    # (An injected character is echoed by the terminal, so the result may not start a line.)
    assert_match "$r" 'tiocsti=[A-Z]+' "$label: the command tried TIOCSTI"
    assert_no_match "$r" 'tiocsti=OK' "$label: it cannot push input into root's terminal (TIOCSTI)"
done
# Control: the same probe run by root's shell itself shares the session and, where the
# kernel still allows TIOCSTI (dev.tty.legacy_tiocsti=1), can push input.
run ns_root "$PY" "$SCRATCH/terminal.py" "$PY" -c "$PROBE"
assert_eq "$(rget "$RUN_OUT" shell_sid)" "$(rget "$RUN_OUT" sid)" "control: a plain command shares the shell's session"
assert_eq "yes" "$(rget "$RUN_OUT" ctty)" "control: and its controlling terminal"
diag "control: TIOCSTI from the shell's own session: $(grep -o 'tiocsti=[A-Z]*' <<<"$RUN_OUT") (dev.tty.legacy_tiocsti=$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo n/a))"
