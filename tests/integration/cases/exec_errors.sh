#!/bin/bash
# Command not found -> 127, found but not executable -> 126, both decided
# before anything is bound.  To prove "before bind" the port is held by
# another process: a portbind that bound first would fail with 125 (in use).
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 443"
noexec=$SCRATCH/not-executable
printf '#!/bin/sh\nexit 0\n' >"$noexec"
chmod 0644 "$noexec"
missing=$SCRATCH/no-such-command

# Port free.
assert_exit 127 ns_user pb_alice "$PB" --activate --port 443 -- "$missing"
assert_match "$RUN_ERR" '^portbind: ' "127: message starts with 'portbind: '"
assert_exit 127 ns_user pb_alice "$PB" --activate --port 443 -- no-such-command-pbtest
assert_exit 126 ns_user pb_alice "$PB" --activate --port 443 -- "$noexec"
assert_match "$RUN_ERR" '^portbind: ' "126: message starts with 'portbind: '"
assert_exit 126 ns_user pb_alice "$PB" --activate --port 443 -- "$SCRATCH"
assert_not_listening 443

# Port held by root: the exec checks must come before the bind.
bg_start root holder "$PY" -c 'import socket, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 443))
s.listen(8)
time.sleep(60)'
assert_true "root's listener holds 443" wait_listen 443 tcp "$BG_LAST"
assert_exit 125 ns_user pb_alice "$PB" --activate --port 443 -- /usr/bin/true
assert_contains "$RUN_ERR" "in use" "control: a runnable command gets 'in use' (so 443 really is held)"
assert_exit 127 ns_user pb_alice "$PB" --activate --port 443 -- "$missing"
assert_not_contains "$RUN_ERR" "in use" "missing command: reported without trying to bind"
assert_exit 126 ns_user pb_alice "$PB" --activate --port 443 -- "$noexec"
assert_not_contains "$RUN_ERR" "in use" "non-executable command: reported without trying to bind"
ns_kill_all

# The exit status of a command that runs is passed through.
assert_exit 0 ns_user pb_alice "$PB" --activate --port 443 -- /usr/bin/true
assert_exit 1 ns_user pb_alice "$PB" --activate --port 443 -- /usr/bin/false
assert_exit 42 ns_user pb_alice "$PB" --activate --port 443 -- /bin/sh -c 'exit 42'
# A command that exits 125/126/127 itself is indistinguishable by status,
# but it must have run: check via its output.
assert_exit 126 ns_user pb_alice "$PB" --activate --port 443 -- /bin/sh -c 'echo ran; exit 126'
assert_eq "ran" "$RUN_OUT" "the command's own 126 comes from the command"
assert_not_listening 443
