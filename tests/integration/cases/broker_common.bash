# shellcheck shell=bash
# Shared by the broker_*.sh cases (sourced after lib.sh; not a case itself).
#
#   BROKER_DIR   root-owned 0755 directory for the broker's socket ($SCRATCH/run)
#   BROKER_SOCK  $BROKER_DIR/portbind.sock
#   start_broker [--as-uid UID] [PREFIX_CMD...] -- [serve args]: starts `portbind serve`
#                in $NS, waits until it answers; sets BROKER_PID (the daemon itself) and
#                BROKER_ERR (its stderr file)
#   pbclient USER ARGS...: the raw-protocol test client ($SCRATCH/pbclient.py) as USER in $NS
#   pbexample USER [--check] SPEC: the C example client, built against the installed library
#                (PB_LIBDIR, PB_INCLUDEDIR, PB_PKGCONFIG: layout.bash)
#   broker_fds / broker_rss: the daemon's open fd count / resident set (kB)
#   assert_broker_serves DESC: a fresh request by pb_alice for port 80 succeeds
#   assert_broker_settled DESC: fd count back at BROKER_FD_BASELINE (waits up to 5 s)
#   trace_broker OUT [STRACE OPTIONS...]: strace on the daemon, writing OUT, once attached;
#                untrace_broker ends it (OUT then holds every traced call)

BROKER_DIR=$SCRATCH/run
BROKER_SOCK=$BROKER_DIR/portbind.sock
mkdir -m 0755 "$BROKER_DIR"
SRC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)

# start_broker [PREFIX...] -- [ARGS...]: PREFIX runs before "$PB serve" (e.g. setpriv ...).
start_broker() {
    local prefix=() name=broker${BROKER_COUNT:-0}
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        prefix+=("$1")
        shift
    done
    [ $# -gt 0 ] && shift
    BROKER_COUNT=$((${BROKER_COUNT:-0} + 1))
    BROKER_ERR=$SCRATCH/$name.err
    bg_start root "$name" "${prefix[@]}" "$PB" serve "$@"
    BROKER_JOB=$BG_LAST
    BROKER_PID=
    local i pid
    for ((i = 0; i < 100; i++)); do
        for pid in $(ip netns pids "$NS" 2>/dev/null); do
            if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" == "$PB" ] &&
                tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q ' serve'; then
                BROKER_PID=$pid
            fi
        done
        if [ -n "$BROKER_PID" ] && grep -q 'serving on' "$BROKER_ERR" 2>/dev/null; then
            return 0
        fi
        bg_alive "$BROKER_JOB" || break
        sleep 0.05
    done
    diag "broker did not start: $(cat "$BROKER_ERR" 2>/dev/null)"
    return 1
}

trace_broker() {
    local out=$1
    shift
    strace -qq "$@" -o "$out" -p "$BROKER_PID" 2>"$out.err" &
    STRACE_PID=$!
    BG_PIDS+=("$STRACE_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q 'TracerPid:[[:space:]]*[1-9]' "/proc/$BROKER_PID/status" && return 0
        sleep 0.05
    done
    diag "strace did not attach to the broker: $(cat "$out.err" 2>/dev/null)"
    return 1
}

untrace_broker() {
    kill -INT "$STRACE_PID" 2>/dev/null || true
    wait "$STRACE_PID" 2>/dev/null || true
}

stop_broker() {
    if [ -n "${BROKER_PID:-}" ]; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        bg_wait "$BROKER_JOB" 5
        BROKER_PID=
    fi
}

# kv OUTPUT KEY: the first "KEY=value" line of OUTPUT, or nothing (never fails).
kv() { awk -v k="$2=" 'index($0, k) == 1 { print; exit }' <<<"$1"; }

broker_fds() { find "/proc/$BROKER_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
broker_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$BROKER_PID/status"; }
broker_cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$BROKER_PID/stat"; }

assert_broker_settled() {
    local i now
    for ((i = 0; i < 100; i++)); do
        now=$(broker_fds)
        [ "$now" == "$BROKER_FD_BASELINE" ] && break
        sleep 0.05
    done
    assert_eq "$BROKER_FD_BASELINE" "$now" "$1: the broker's fd count is back to its baseline"
}

assert_broker_serves() {
    local out
    out=$(pbexample pb_alice --check 80 2>&1) || true
    assert_contains "$out" "listening=1" "$1: the broker still serves pb_alice port 80"
}

pbexample() {
    local u=$1
    shift
    if [ "$u" == root ]; then
        timeout -k 2 "$CMD_TIMEOUT" ip netns exec "$NS" env PORTBIND_SOCKET="$BROKER_SOCK" \
            "$SCRATCH/pbexample" "$@"
    else
        ns_user "$u" env PORTBIND_SOCKET="$BROKER_SOCK" "$SCRATCH/pbexample" "$@"
    fi
}

pbclient() {
    local u=$1
    shift
    if [ "$u" == root ]; then
        ns_root "$PY" "$SCRATCH/pbclient.py" "$BROKER_SOCK" "$@"
    else
        ns_user "$u" "$PY" "$SCRATCH/pbclient.py" "$BROKER_SOCK" "$@"
    fi
}

# The C example, compiled against the installed library through pkg-config, run from
# the library's own directory (rpath), as the issue's "C client linked through pkg-config".
# pb_dev: against the installation under test only (layout.bash).
build_pbexample() {
    local cflags libs libdir
    cflags=$(pb_dev env PKG_CONFIG_PATH="$PB_PKGCONFIG" pkg-config --cflags portbind) || return 1
    libs=$(pb_dev env PKG_CONFIG_PATH="$PB_PKGCONFIG" pkg-config --libs portbind) || return 1
    libdir=$(pb_dev env PKG_CONFIG_PATH="$PB_PKGCONFIG" pkg-config --variable=libdir portbind) ||
        return 1
    # shellcheck disable=SC2086  # flag lists
    pb_dev cc -O2 -Wall -Wextra -Werror $cflags -o "$SCRATCH/pbexample" \
        "$SRC_ROOT/launcher/client/example.c" $libs -Wl,-rpath,"$libdir" 2>"$SCRATCH/cc.err"
}

# The raw wire-protocol client: speaks version 1 without libportbind's checks, so the
# cases can send exactly the frames they want.
cat >"$SCRATCH/pbclient.py" <<'PYEOF'
import array, os, random, socket, struct, sys, time

SOCK = sys.argv[1]
CMD = sys.argv[2]
ARGS = sys.argv[3:]


def spec_record(text):
    proto = 6
    if text.endswith("/udp"):
        proto, text = 17, text[:-4]
    elif text.endswith("/tcp"):
        text = text[:-4]
    family, addr = 0, b"\0" * 16
    if text.startswith("["):
        host, port = text[1:].split("]:")
        family, addr = 6, socket.inet_pton(socket.AF_INET6, host)
    elif ":" in text:
        host, port = text.split(":")
        family, addr = 4, socket.inet_pton(socket.AF_INET, host) + b"\0" * 12
    else:
        port = text
    return struct.pack("<BBH16s", proto, family, int(port), addr)


def request(specs, flags=0, backlog=16):
    return struct.pack("<4sHHII", b"PBRQ", 1, len(specs), flags, backlog) + b"".join(
        spec_record(s) for s in specs)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(SOCK)
    return s


def read_reply(s):
    """(status, text, fds) or (None, 'closed'/'timeout', [])."""
    try:
        data, fds, flags, _ = socket.recv_fds(s, 8192, 70)
    except socket.timeout:
        return None, "timeout", []
    except ConnectionResetError:
        return None, "closed", []
    if not data:
        return None, "closed", fds
    magic, version, count, status, tlen, _ = struct.unpack("<4sHHiHH", data[:16])
    assert magic == b"PBRP" and version == 1, data
    return status, data[16:16 + tlen].decode(), fds


def ask(specs, flags=0, extra_fds=None, ancillary=None):
    s = connect()
    msg = request(specs, flags)
    if extra_fds is not None:
        socket.send_fds(s, [msg], extra_fds)
    elif ancillary is not None:
        s.sendmsg([msg], ancillary)
    else:
        s.send(msg)
    r = read_reply(s)
    s.close()
    return r


def report(r):
    status, text, fds = r
    print("status=%s" % status)
    print("fds=%d" % len(fds))
    print("text=%s" % text)
    for fd in fds:
        so = socket.socket(fileno=fd)
        print("sock=%s:%d" % (so.getsockname()[0], so.getsockname()[1]))
        so.close()


def main():
    if CMD == "request":  # request [--flags N] SPEC...
        flags = 0
        args = list(ARGS)
        if args[:1] == ["--flags"]:
            flags, args = int(args[1]), args[2:]
        report(ask(args, flags))
    elif CMD == "raw":  # raw HEX: one frame, prints the reply status
        s = connect()
        s.send(bytes.fromhex(ARGS[0]))
        status, text, fds = read_reply(s)
        print("status=%s" % status)
        print("text=%s" % text)
    elif CMD == "random":  # random N SEED: N connections, random frames of 1..5000 bytes
        rng = random.Random(int(ARGS[1]))
        answered = closed = 0
        for _ in range(int(ARGS[0])):
            s = connect()
            n = rng.randint(1, 5000)
            frame = bytes(rng.getrandbits(8) for _ in range(n))
            if rng.random() < 0.5:  # half of them look like a request header
                frame = b"PBRQ\x01\x00" + frame
            try:
                s.send(frame)
            except OSError:
                pass
            status, _, fds = read_reply(s)
            for fd in fds:
                os.close(fd)
            if status is None:
                closed += 1
            else:
                answered += 1
                assert status < 0, status
            s.close()
        print("answered=%d closed=%d" % (answered, closed))
    elif CMD == "truncated":  # every strict prefix of a valid request
        frame = request(["80", "127.0.0.1:81/udp"])
        seen = set()
        for n in range(1, len(frame)):
            s = connect()
            s.send(frame[:n])
            status, text, fds = read_reply(s)
            assert not fds
            seen.add(status)
            s.close()
        print("statuses=%s" % ",".join(str(x) for x in sorted(seen, key=str)))
    elif CMD == "fds":  # fds N ROUNDS SPEC: a valid request with N fds attached
        n, rounds = int(ARGS[0]), int(ARGS[1])
        null = os.open("/dev/null", os.O_RDONLY)
        statuses = set()
        for _ in range(rounds):
            try:
                status, _, fds = ask(ARGS[2:], extra_fds=[null] * n)
            except PermissionError:  # SO_PASSRIGHTS off (Linux 6.16+): refused at send
                status, fds = "send-EPERM", []
            statuses.add(status)
            for fd in fds:
                os.close(fd)
        print("statuses=%s" % ",".join(str(x) for x in sorted(statuses, key=str)))
    elif CMD == "creds":  # a valid request with SCM_CREDENTIALS naming root
        creds = struct.pack("iII", os.getpid(), os.getuid(), os.getgid())
        report(ask(ARGS, ancillary=[(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, creds)]))
    elif CMD == "idle":  # idle N SECONDS: connect, never speak; count what the broker did
        conns = [connect() for _ in range(int(ARGS[0]))]
        time.sleep(float(ARGS[1]))
        counts = {}
        for s in conns:
            s.setblocking(False)
            try:
                status, _, _ = read_reply(s)
            except BlockingIOError:
                status = "open"
            counts[status] = counts.get(status, 0) + 1
            s.close()
        print(" ".join("%s=%d" % (k, v) for k, v in sorted(counts.items(), key=str)))
    elif CMD == "noread":  # noread N FIRST_PORT SECONDS: requests never read, held open
        conns = []
        for i in range(int(ARGS[0])):
            s = connect()
            s.send(request([str(int(ARGS[1]) + i)]))
            conns.append(s)
        print("sent=%d" % len(conns), flush=True)
        time.sleep(float(ARGS[2]))
        for s in conns:
            s.close()
    elif CMD == "sequential":  # sequential N SPEC: N requests one after another
        ok = 0
        for _ in range(int(ARGS[0])):
            status, text, fds = ask(ARGS[1:])
            if status == 0 and len(fds) == 1:
                ok += 1
            else:
                print("failure: %s %s" % (status, text))
            for fd in fds:
                os.close(fd)
        print("granted=%d" % ok)
    elif CMD == "concurrent":  # concurrent N FIRST_PORT: N connections at once, then replies
        n, first = int(ARGS[0]), int(ARGS[1])
        conns = [connect() for _ in range(n)]
        for i, s in enumerate(conns):
            s.send(request([str(first + i)]))
        ok = 0
        for s in conns:
            status, text, fds = read_reply(s)
            if status == 0 and len(fds) == 1:
                ok += 1
            else:
                print("failure: %s %s" % (status, text))
            for fd in fds:
                os.close(fd)
            s.close()
        print("granted=%d" % ok)
    elif CMD == "hold":  # hold SPEC SECONDS: get a socket and keep it
        status, text, fds = ask([ARGS[0]])
        print("status=%s" % status, flush=True)
        time.sleep(float(ARGS[1]))
    elif CMD == "flood":  # flood N SECONDS: N idle connections; counts EAGAIN replies
        conns, refused = [], 0
        for _ in range(int(ARGS[0])):
            s = connect()
            conns.append(s)
        time.sleep(0.5)
        for s in conns:
            s.setblocking(False)
            try:
                status, _, _ = read_reply(s)
                if status == -11:
                    refused += 1
            except BlockingIOError:
                pass
        print("refused=%d" % refused, flush=True)
        time.sleep(float(ARGS[1]))
    else:
        sys.exit("unknown command " + CMD)


main()
PYEOF
chmod 0644 "$SCRATCH/pbclient.py"
