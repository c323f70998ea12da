#!/bin/bash
# Default mode: an unmodified Python server binds [::]:443 itself (dual-stack); portbind
# performs the bind on the app's own socket. The app runs as the user with no capability,
# no-new-privileges and the seccomp filter; its parent is the binding process, which runs as
# the user with only cap_net_bind_service permitted and none effective. The socket belongs
# to the user.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

alice_uid=$(uid_of pb_alice)
write_policy "permit pb_alice port 443"

# Negative control: the boundary holds without portbind.
run ns_user pb_alice "$PY" "$APPS/selfbind.py" --try tcp,::,443,dual
assert_eq "bind.0=EACCES" "$(head -1 <<<"$RUN_OUT")" "without portbind the app's own bind of 443 fails"

bg_start pb_alice app "$PB" -- "$PY" "$APPS/selfbind.py" tcp,::,443,dual
assert_true "port 443 is listening" wait_listen 443 tcp "$BG_LAST"
assert_fetch "report over 127.0.0.1:443" 127.0.0.1 443
r4=$REPORT
assert_fetch "report over [::1]:443" ::1 443
r6=$REPORT
assert_eq "OK" "$(rget "$r4" bind.0)" "the app's own bind() returned success"
assert_eq "::,443" "$(rget "$r4" sockname.0)" "the app's socket is bound to [::]:443"
assert_eq "::ffff:127.0.0.1" "$(rget "$r4" peer)" "an IPv4 client reached the dual-stack socket"
assert_eq "::1" "$(rget "$r6" peer)" "an IPv6 client reached it too"
assert_dropped "$r4" pb_alice
assert_eq "1" "$(rget "$r4" status.NoNewPrivs)" "the app runs with no_new_privs"
assert_eq "2" "$(rget "$r4" status.Seccomp)" "the app runs under a seccomp filter"
assert_eq "$alice_uid" "$(sock_uid 443 tcp6)" "the socket is owned by pb_alice, not root"

app=$(rget "$r4" pid)
binder=$(rget "$r4" ppid)
assert_eq "$(readlink -f "$PY")" "$(readlink "/proc/$app/exe")" "the reporting process is the app itself"
assert_eq "$(readlink -f "$PB")" "$(readlink "/proc/$binder/exe")" "the app's parent is portbind"
bstatus=$(cat "/proc/$binder/status")
assert_match "$bstatus" "^Uid:[[:space:]]+${alice_uid}[[:space:]]+${alice_uid}[[:space:]]+${alice_uid}[[:space:]]+${alice_uid}\$" "binding process runs as pb_alice"
assert_match "$bstatus" '^CapPrm:[[:space:]]+0000000000000400$' "binding process: only cap_net_bind_service permitted"
assert_match "$bstatus" '^CapEff:[[:space:]]+0000000000000000$' "binding process: no capability effective while idle"
assert_match "$bstatus" '^CapInh:[[:space:]]+0000000000000000$' "binding process: nothing inheritable"
assert_match "$bstatus" '^CapAmb:[[:space:]]+0000000000000000$' "binding process: nothing ambient"

# The app (same uid, no capability) cannot borrow the binding process's capability.
probe='import ctypes, errno, sys
pid = int(sys.argv[1])
try:
    open("/proc/%d/mem" % pid, "rb").read(1)
    print("mem=OK")
except OSError as e:
    print("mem=" + errno.errorcode[e.errno])
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(16, pid, None, None)  # PTRACE_ATTACH
print("ptrace=" + ("OK" if r == 0 else errno.errorcode[ctypes.get_errno()]))'
run ns_user pb_alice "$PY" -c "$probe" "$binder"
assert_match "$RUN_OUT" '^mem=(EACCES|EPERM)$' "pb_alice cannot read the binding process's memory"
assert_match "$RUN_OUT" '^ptrace=EPERM$' "pb_alice cannot ptrace the binding process"
ns_kill_all

# The binding process performs bind() and nothing else: the app's socket is left exactly as
# the kernel's own bind() would leave it (not listening), so the app could also open a
# connection from the granted port, as documented in portbind.conf(5) (the listen state could
# not prevent that anyway: shutdown() returns a listening socket to the closed state).
run ns_user pb_alice "$PB" -- "$PY" "$APPS/selfbind.py" --try tcp,0.0.0.0,443
assert_eq 0 "$RUN_RC" "the --try run exits 0"
assert_contains "$RUN_OUT" "bind.0=OK" "bind of 0.0.0.0:443 performed for the app"
assert_contains "$RUN_OUT" "connect.0=ECONNREFUSED" "the socket was left unconnected and not listening"

# python's own http.server, unmodified, answering a real HTTP request.
bg_start pb_alice http "$PB" -- "$PY" -m http.server --directory "$APPS" 443
assert_true "http.server listens on 443" wait_listen 443 tcp "$BG_LAST"
run ns_root "$PY" -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:443/selfbind.py", timeout=5).status)'
assert_eq "200" "$RUN_OUT" "python3 -m http.server 443 answers HTTP 200"
