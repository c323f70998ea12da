# shellcheck shell=bash
# shellcheck disable=SC2034  # variables used by the sourcing case scripts
# Shared by the adversarial_*.sh cases (sourced after lib.sh; not a case itself).
#
# Pause points. portbind has no test hooks (a hook would ship in the binary), so the cases
# pause it where it really waits: in syslog(). Every grant and denial is logged through
# /dev/log; a private mount namespace puts there a socket whose queue is kept full, so
# portbind's next log line blocks in send() until the case drains the socket. Where that
# line is written decides the pause point:
#
#   deny     --activate, a refused request: the denial is logged while portbind holds
#            CAP_NET_BIND_SERVICE (permitted) and has bound nothing
#   drop     --activate, a permitted request: the grant is logged after the drop and before
#            exec; the sockets are bound and listening
#   reserve  default mode with --port: the reservation is logged while portbind holds the
#            capability and the reserved socket, before it forks the app
#   served   default mode without --port: the binding process logs a bind it performed on
#            the app's socket while the app still waits in bind()
#
# Readiness is the kernel's own: the case waits until /proc/PID/wchan (or its stack) shows
# the process blocked on the full socket (unix_wait_for_peer), never for a fixed time.
#
# The attacker is the caller: adversary.py runs as the test user, starts portbind as its
# own child (so Yama's ptrace_scope=1, where enabled, would allow the attach and only
# portbind's own state can refuse it), and on command probes it (ptrace, /proc, pidfd) and
# signals it.
#
#   pause_start USER POINT [--] PORTBIND_ARGS...   starts the adversary and portbind under a
#       full log socket; sets PAUSE_PID (portbind) and waits until it is blocked
#       (returns non-zero if it never blocks; PAUSE_ERR then holds portbind's stderr).
#       PAUSE_CWD (default /) is the working directory; PAUSE_PREFIX a command (such as
#       prlimit ... --) that execs portbind in place
#   adv COMMAND: sends a command to the adversary; ADV_OUT holds the answer (all lines up
#       to "end" for probe/control, else one line)
#   pause_release: drains the log socket, so portbind continues
#   pause_finish: waits for portbind (PAUSE_RESULT "exit N" / "signal N"), ends the
#       adversary and the log sink
#   wait_state PID STATE: waits until /proc/PID/stat shows STATE (T stopped, S sleeping)
#   assert_probe_denied WHAT / assert_probe_allowed WHAT: the adversary's last probe
#   assert_narrowed PID USER WHAT: runs as USER holding only CAP_NET_BIND_SERVICE
#       (permitted, not effective), not dumpable, single-threaded, core limit 0
#   assert_all_dropped PID USER WHAT: runs as USER holding no capability at all
#   assert_port_free PORT [PROTO]: nothing holds PORT's wildcard, not even a socket that
#       is bound and not listening (see PORT_PROBE)

PAUSE_DIR=$SCRATCH/pausedev
mkdir -m 0755 "$PAUSE_DIR"
for _n in null zero full random urandom tty; do
    : >"$PAUSE_DIR/$_n"
done
ADV_PY=$SCRATCH/adversary.py
PAUSE_PREFIX=()
SINK_PY=$SCRATCH/logsink.py
PAUSE_COUNT=0

cat >"$SINK_PY" <<'PYEOF'
"""A syslog socket that holds every sender: its queue is full until it is told to drain.

  logsink.py PATH CONTROL_FIFO OUT

Binds a datagram socket at PATH (mode 0666) and fills its receive queue itself, so the next
process that logs through it blocks in send(). Prints "ready" once full, then opens
CONTROL_FIFO. A line there makes it read everything from then on (the messages go to OUT),
so blocked senders continue and later ones do not block; end of file ends it.
"""
import os, select, socket, sys

path, control, out = sys.argv[1:4]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
filler = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
filler.setblocking(False)
while True:
    try:
        filler.sendto(b"<0>filler", path)
    except BlockingIOError:
        break
print("ready", flush=True)
ctl = os.open(control, os.O_RDONLY)
draining = False
with open(out, "ab", buffering=0) as f:
    while True:
        ready, _, _ = select.select([ctl] + ([s] if draining else []), [], [])
        if ctl in ready:
            if not os.read(ctl, 64):
                break
            draining = True
        if s in ready:
            data = s.recv(65536)
            if not data.startswith(b"<0>filler"):
                f.write(data + b"\n")
PYEOF

cat >"$ADV_PY" <<'PYEOF'
"""The caller as an adversary of the process it started (run as the caller).

  adversary.py OUT ERR -- COMMAND...

Starts COMMAND (portbind) as its child, in its own process group, stdout to OUT, stderr to
ERR, and prints "pid N". Then answers commands read from stdin, one per line:
  probe [PID]    every way a process of the same uid could read or control PID (default: the
                 child): ptrace attach and seize, /proc/PID/{mem,environ,maps,fd,cwd,exe},
                 process_vm_readv, pidfd_getfd; a "probe.NAME=OK|ERRNO" line each, then "end"
  control        probes a process of its own (a sleeping child) the same way, then "end"
  signal NAME    sends signal NAME to the child: "sent NAME" or "error ERRNO"
  stat           "state X comm C" from /proc/PID/stat (readable by anyone)
  wait           waits for the child: "exit N" or "signal N"
"""
import ctypes, errno, os, signal, subprocess, sys

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long
libc.syscall.restype = ctypes.c_long
PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 16, 17, 0x4206, 0x4207
SYS_PIDFD_GETFD = 438  # the same number on every architecture
WALL = 0x40000000


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def name(e):
    return errno.errorcode.get(e, str(e))


def attempt(fn):
    try:
        fn()
        return "OK"
    except OSError as e:
        return name(e.errno)


def traced(request, pid):
    """Attaches (or seizes), then stops and detaches, leaving the tracee as it was."""
    if libc.ptrace(request, pid, None, None) != 0:
        raise OSError(ctypes.get_errno(), "ptrace")
    if request == PTRACE_SEIZE:
        libc.ptrace(PTRACE_INTERRUPT, pid, None, None)
    os.waitpid(pid, WALL)
    libc.ptrace(PTRACE_DETACH, pid, None, None)


def first_mapping(pid):
    try:
        with open("/proc/%d/maps" % pid) as f:
            return int(f.readline().split("-")[0], 16)
    except OSError:
        return 0x400000  # unreadable: any address will do, permission is checked first


def vm_read(pid):
    buf = ctypes.create_string_buffer(16)
    local = Iovec(ctypes.cast(buf, ctypes.c_void_p), 16)
    remote = Iovec(first_mapping(pid), 16)
    if libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0) < 0:
        raise OSError(ctypes.get_errno(), "process_vm_readv")


def getfd(pid):
    pidfd = os.pidfd_open(pid)
    try:
        fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, 0, 0)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "pidfd_getfd")
        os.close(fd)
    finally:
        os.close(pidfd)


def read_mem(pid):
    with open("/proc/%d/mem" % pid, "rb", buffering=0) as f:
        f.seek(first_mapping(pid))
        f.read(1)


def probe(pid):
    tries = [
        ("ptrace_attach", lambda: traced(PTRACE_ATTACH, pid)),
        ("ptrace_seize", lambda: traced(PTRACE_SEIZE, pid)),
        ("mem", lambda: read_mem(pid)),
        ("environ", lambda: open("/proc/%d/environ" % pid, "rb").read(1)),
        ("maps", lambda: open("/proc/%d/maps" % pid).read(1)),
        ("fd", lambda: os.listdir("/proc/%d/fd" % pid)),
        ("cwd", lambda: os.readlink("/proc/%d/cwd" % pid)),
        ("exe", lambda: os.readlink("/proc/%d/exe" % pid)),
        ("process_vm_readv", lambda: vm_read(pid)),
        ("pidfd_getfd", lambda: getfd(pid)),
    ]
    for label, fn in tries:
        print("probe.%s=%s" % (label, attempt(fn)))
    print("end", flush=True)


def main():
    out, err = sys.argv[1], sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    with open(out, "wb") as o, open(err, "wb") as e:
        child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                 process_group=0)
    print("pid %d" % child.pid, flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "probe":
            probe(int(words[1]) if len(words) > 1 else child.pid)
        elif words[0] == "control":
            own = subprocess.Popen(["sleep", "60"])
            probe(own.pid)
            own.kill()
            own.wait()
        elif words[0] == "signal":
            try:
                os.kill(child.pid, getattr(signal, words[1]))
                print("sent " + words[1], flush=True)
            except OSError as ex:
                print("error " + name(ex.errno), flush=True)
        elif words[0] == "stat":
            try:
                with open("/proc/%d/stat" % child.pid) as f:
                    text = f.read()
                print("state %s comm %s" % (text.rsplit(")", 1)[1].split()[0],
                                             text[text.index("(") + 1:text.rindex(")")]),
                      flush=True)
            except OSError as ex:
                print("error " + name(ex.errno), flush=True)
        elif words[0] == "wait":
            rc = child.wait()
            print(("exit %d" % rc) if rc >= 0 else ("signal %d" % -rc), flush=True)
        else:
            print("unknown " + words[0], flush=True)


main()
PYEOF
chmod 0644 "$SINK_PY" "$ADV_PY"

# wchan_of PID: the kernel function PID sleeps in (empty if it is gone).
wchan_of() { cat "/proc/$1/wchan" 2>/dev/null || true; }

# wait_state PID STATE: polls (up to 10 s) until PID's state is STATE.
wait_state() {
    local i st
    for ((i = 0; i < 500; i++)); do
        st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || true
        [ "$st" == "$2" ] && return 0
        sleep 0.02
    done
    return 1
}

# wait_blocked_logging PID: polls (up to 10 s) until PID is blocked on the full log socket.
wait_blocked_logging() {
    local i
    for ((i = 0; i < 500; i++)); do
        [ "$(wchan_of "$1")" == unix_wait_for_peer ] && return 0
        grep -qs unix_wait_for_peer "/proc/$1/stack" && return 0
        [ -e "/proc/$1" ] || return 1
        sleep 0.02
    done
    return 1
}

# adv COMMAND: one exchange with the adversary (see the header).
adv() {
    local line
    ADV_OUT=
    printf '%s\n' "$*" >&"${ADV[1]}"
    while IFS= read -r -t 20 line <&"${ADV[0]}"; do
        ADV_OUT+="$line"$'\n'
        case $1 in
            probe | control) [ "$line" == end ] && break ;;
            *) break ;;
        esac
    done
    ADV_OUT=${ADV_OUT%$'\n'}
}

# pause_start USER POINT [--] PORTBIND_ARGS...: see the header. POINT only names the run.
pause_start() {
    local u=$1 point=$2 line i
    shift 2
    [ "${1:-}" == -- ] && shift
    PAUSE_COUNT=$((PAUSE_COUNT + 1))
    PAUSE_NAME=pause$PAUSE_COUNT-$point
    PAUSE_CTL=$SCRATCH/$PAUSE_NAME.ctl
    PAUSE_OUT=$SCRATCH/$PAUSE_NAME.out
    PAUSE_ERR=$SCRATCH/$PAUSE_NAME.err
    PAUSE_LOG=$SCRATCH/$PAUSE_NAME.syslog
    PAUSE_PID=
    mkfifo -m 0600 "$PAUSE_CTL"
    : >"$PAUSE_OUT"
    : >"$PAUSE_ERR"
    chown "$u" "$PAUSE_OUT" "$PAUSE_ERR"
    bg_start root "$PAUSE_NAME-sink" "$PY" "$SINK_PY" "$PAUSE_DIR/log" "$PAUSE_CTL" "$PAUSE_LOG"
    PAUSE_SINK_JOB=$BG_LAST
    for ((i = 0; i < 250; i++)); do
        grep -q ready "$SCRATCH/$PAUSE_NAME-sink.out" 2>/dev/null && break
        bg_alive "$PAUSE_SINK_JOB" || break
        sleep 0.02
    done
    grep -q ready "$SCRATCH/$PAUSE_NAME-sink.out" ||
        bail "the log sink did not start: $(cat "$SCRATCH/$PAUSE_NAME-sink.err")"
    exec {PAUSE_CTL_FD}<>"$PAUSE_CTL"  # read-write: never blocks on the FIFO
    user_prefix "$u"
    # shellcheck disable=SC2016  # expanded by the inner shell
    coproc ADV {
        timeout -k 2 "$BG_TIMEOUT" unshare -m --propagation private -- bash -c '
            set -e
            D=$1
            cd "$2"
            shift 2
            for n in null zero full random urandom tty; do mount --bind "/dev/$n" "$D/$n"; done
            mount --rbind "$D" /dev
            exec "$@"' pause "$PAUSE_DIR" "${PAUSE_CWD:-/}" ip netns exec "$NS" "${UP[@]}" \
            "$PY" "$ADV_PY" "$PAUSE_OUT" "$PAUSE_ERR" -- "${PAUSE_PREFIX[@]}" "$PB" "$@" \
            2>"$SCRATCH/$PAUSE_NAME.adv.err"
    }
    BG_PIDS+=("$ADV_PID")
    if ! IFS= read -r -t 20 line <&"${ADV[0]}" || [[ "$line" != "pid "* ]]; then
        diag "adversary did not start: $line $(cat "$SCRATCH/$PAUSE_NAME.adv.err")"
        return 1
    fi
    PAUSE_PID=${line#pid }
    if ! wait_blocked_logging "$PAUSE_PID"; then
        diag "portbind did not pause: $(cat "$PAUSE_ERR")"
        return 1
    fi
}

# pause_release: lets portbind's log line (and every later one) through.
pause_release() {
    echo drain >&"$PAUSE_CTL_FD"
}

# pause_finish: waits for portbind (PAUSE_RESULT = "exit N" or "signal N"), then ends the
# adversary and the log sink.
pause_finish() {
    adv wait
    PAUSE_RESULT=$ADV_OUT
    eval "exec ${ADV[1]}>&-"
    bg_wait "$ADV_PID" 5
    eval "exec $PAUSE_CTL_FD>&-"
    bg_wait "$PAUSE_SINK_JOB" 5
}

status_of() { grep -E "^$2:" "/proc/$1/status" 2>/dev/null | cut -f2- | tr '\t' ' ' | sed 's/ *$//'; }

assert_probe_denied() {
    local r=$ADV_OUT t
    for t in ptrace_attach ptrace_seize process_vm_readv pidfd_getfd; do
        assert_eq EPERM "$(rget "$r" "probe.$t")" "$1: $t by the caller fails with EPERM"
    done
    for t in mem environ maps fd cwd exe; do
        assert_match "$(rget "$r" "probe.$t")" '^(EACCES|EPERM)$' "$1: /proc/PID/$t is closed to the caller"
    done
}

assert_probe_allowed() {
    local r=$ADV_OUT t
    for t in ptrace_attach ptrace_seize mem environ maps fd cwd exe process_vm_readv pidfd_getfd; do
        assert_eq OK "$(rget "$r" "probe.$t")" "$1: $t works on a process of the caller's own"
    done
}

_assert_ids() { # PID USER WHAT
    local uid gid
    uid=$(uid_of "$2")
    gid=$(gid_of "$2")
    assert_eq "$uid $uid $uid $uid" "$(status_of "$1" Uid)" "$3: Uid real/eff/saved/fs = $2"
    assert_eq "$gid $gid $gid $gid" "$(status_of "$1" Gid)" "$3: Gid real/eff/saved/fs = $2"
}

assert_narrowed() { # PID USER WHAT
    local pid=$1 what=$3 soft
    _assert_ids "$pid" "$2" "$what"
    assert_eq 0000000000000400 "$(status_of "$pid" CapPrm)" "$what: only cap_net_bind_service permitted"
    assert_eq 0000000000000000 "$(status_of "$pid" CapEff)" "$what: nothing effective"
    assert_eq 0000000000000000 "$(status_of "$pid" CapInh)" "$what: nothing inheritable"
    assert_eq 0000000000000000 "$(status_of "$pid" CapAmb)" "$what: nothing ambient"
    assert_eq 1 "$(status_of "$pid" Threads)" "$what: single-threaded"
    assert_eq 0 "$(stat -c %u "/proc/$pid/fd")" "$what: not dumpable (/proc/PID/fd belongs to root)"
    soft=$(awk '/^Max core file size/ { print $5 }' "/proc/$pid/limits")
    assert_eq 0 "$soft" "$what: core file size limit 0"
}

assert_all_dropped() { # PID USER WHAT
    local pid=$1 what=$3 c
    _assert_ids "$pid" "$2" "$what"
    for c in CapPrm CapEff CapInh CapAmb; do
        assert_eq 0000000000000000 "$(status_of "$pid" "$c")" "$what: $c empty"
    done
}

assert_port_free() { # PORT [tcp|udp]
    run ns_root "$PY" -c "$PORT_PROBE" "$1" "${2:-tcp}"
    assert_eq free "$RUN_OUT" "port $1/${2:-tcp} is free: nothing holds it, not even a bound socket"
}

# Binds 127.0.0.2:PORT without SO_REUSEADDR: that conflicts with any socket bound to the
# wildcard (bound only, listening, IPv4 or dual-stack) but not with the TIME_WAIT sockets
# that connections to 127.0.0.1 or ::1 leave behind. Prints "free" or the error.
PORT_PROBE='import socket, sys
kind = socket.SOCK_STREAM if sys.argv[2] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
try:
    s.bind(("127.0.0.2", int(sys.argv[1])))
    print("free")
except OSError as e:
    print(e.strerror)'

# describe_pid PID: one line about a process, for diagnostics.
describe_pid() {
    local fds
    fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%f->%l ' 2>/dev/null || true)
    echo "pid $1 $(cat "/proc/$1/comm" 2>/dev/null) ppid $(status_of "$1" PPid)" \
        "uid $(status_of "$1" Uid | cut -d' ' -f1) in $(wchan_of "$1") fds: $fds"
}
