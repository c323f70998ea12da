# shellcheck shell=bash
# shellcheck disable=SC2034  # variables used by the sourcing case scripts
# Shell functions for the portbind integration cases.  Sourced by cases/*.sh, which are
# run as `bash cases/CASE.sh MODE` (normally through run-case.sh).
#
# On sourcing, this file:
#   * checks root (exit 77 = skipped otherwise) and that the fixture installed
#     portbind for MODE (exit 77 otherwise);
#   * creates a private network namespace for the case ($NS) with lo up and
#     net.ipv4.ip_unprivileged_port_start asserted to be 1024;
#   * creates a scratch directory ($SCRATCH) the test users can traverse;
#   * installs an EXIT trap that kills every process in $NS and every
#     background job, deletes $NS and $SCRATCH, resets the policy, prints the
#     TAP plan and sets the exit status (non-zero on any failure).
#
# Conventions: `run CMD...` captures RUN_RC / RUN_OUT / RUN_ERR; every command
# started by these functions is bounded by `timeout`.
#
# Scenario records: every case's result is also recorded against the numbered scenarios of
# the security checklist that scenarios.tsv maps to it (see `scenario` below), for the
# closing summary (summary.py).

set -euo pipefail
set -E

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/layout.bash
. "$IT_DIR/layout.bash"
PB_MODE=${1:-${PB_MODE:-}}
case $PB_MODE in
    caps | setuid) ;;
    *)
        echo "usage: bash $0 caps|setuid" >&2
        exit 2
        ;;
esac
# PB, POLICY_DIR, POLICY, DROPIN_DIR, STATE_DIR, PB_LIBDIR, PB_INCLUDEDIR, PB_PKGCONFIG: the
# installation under test (layout.bash).
pb_layout "$PB_MODE" || exit 1
APPS=$PB_ROOT/apps
PY=/usr/bin/python3
NODE=/usr/bin/node
USER_PATH=/usr/local/bin:/usr/bin:/bin
CASE_NAME=$(basename "$0" .sh)
CASE_FILE=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
# Upper bound for any single foreground command, and for background servers.
CMD_TIMEOUT=${CMD_TIMEOUT:-20}
BG_TIMEOUT=${BG_TIMEOUT:-120}
export PB_MODE PB POLICY

if [ "$(id -u)" != 0 ]; then
    echo "1..0 # SKIP $CASE_NAME needs root"
    exit 77
fi
if [ ! -x "$PB" ]; then
    echo "1..0 # SKIP $PB not installed (fixture integration.setup did not run or failed)"
    exit 77
fi
if [ -n "$PB_INSTALLED" ]; then
    if [ "$(cat "$PB_FIXTURE_RECORD" 2>/dev/null)" != "installed=$PB_INSTALLED" ]; then
        echo "1..0 # SKIP the fixture is not set up for $PB_INSTALLED (integration.setup did not run or failed)"
        exit 77
    fi
    # run-case.sh puts the binary into the mode under test.
    if [ "$(pb_current_mode)" != "$PB_MODE" ]; then
        echo "1..0 # SKIP $PB is not in $PB_MODE mode now ($(pb_current_mode)); run-case.sh switches it"
        exit 77
    fi
fi

# What a case may change besides the policy files themselves (see reset_policy):
#   POLICY_DIR_OURS     1: every file in POLICY_DIR is the fixture's (the copies' etc)
#   POLICY_DIR_MUTABLE  1: POLICY_DIR's mode, owner and type, and POLICY_ANCESTOR's (the
#                       directory above it), may be changed and are reset
#   STATE_TOP           the topmost directory of STATE_DIR's that a case creates and removes;
#   STATE_ANCESTOR      a directory above STATE_DIR a case may hand to another owner.
# In package mode the policy's directories and the state directory are the machine's: a case
# that changes them declares PB_WANTS_PRIVATE_ROOT=1 before sourcing this file and runs in a
# private root (private-root.sh), where /, /etc and /var/lib are its own. Elsewhere these are
# empty, so that a case using them by mistake fails (${VAR:?}) instead of touching the
# machine's.
POLICY_DIR_OURS=0
POLICY_DIR_MUTABLE=0
POLICY_ANCESTOR=
STATE_TOP=
STATE_ANCESTOR=
if [ -z "$PB_INSTALLED" ]; then
    POLICY_DIR_OURS=1
    POLICY_DIR_MUTABLE=1
    POLICY_ANCESTOR=$PB_ROOT
    STATE_TOP=$PB_ROOT/var
    STATE_ANCESTOR=$PB_ROOT/var
elif [ -n "${PB_IN_PRIVATE_ROOT:-}" ]; then
    # Started by private-root.sh below: make sure this is that root before anything changes.
    if [ "$(findmnt -n -o SOURCE --mountpoint /)" != portbind-it-root ] ||
        [ "$(findmnt -n -o SOURCE --mountpoint /var/lib)" != portbind-it-state ] ||
        [ "$(stat -c %d /etc)" != "$(stat -c %d /)" ] ||
        [ "$(readlink /proc/self/ns/mnt)" == "$(readlink /proc/1/ns/mnt)" ]; then
        echo "Bail out! [$PB_MODE] $CASE_NAME: not in the private root it asked for"
        exit 1
    fi
    POLICY_DIR_MUTABLE=1
    POLICY_ANCESTOR=$(dirname "$POLICY_DIR")
    STATE_TOP=$STATE_DIR
    STATE_ANCESTOR=$(dirname "$STATE_DIR")
elif [ "${PB_WANTS_PRIVATE_ROOT:-}" == 1 ]; then
    _root=$(mktemp -d "$PB_ROOT/root.XXXXXX")
    _rc=0
    PB_IN_PRIVATE_ROOT=$_root bash "$IT_DIR/private-root.sh" "$_root" bash "$CASE_FILE" "$PB_MODE" ||
        _rc=$?
    # Empty again once the namespace is gone; never removed recursively.
    rmdir -- "$_root" || echo "# $_root is not empty; left in place" >&2
    exit "$_rc"
fi

# state_dirs: STATE_DIR and every directory above it up to STATE_TOP, the directories the
# first `portbind setcap grant` creates.
state_dirs() {
    local d=${STATE_DIR:?}
    while :; do
        echo "$d"
        [ "$d" == "${STATE_TOP:?}" ] && break
        [ "$d" != / ] || bail "$STATE_TOP is not above $STATE_DIR"
        d=$(dirname "$d")
    done
}

TESTS=0
FAILED=0
BG_PIDS=()
NS=
SCRATCH=

# ---------------------------------------------------------------- TAP output

ok() {
    TESTS=$((TESTS + 1))
    echo "ok $TESTS - [$PB_MODE] $*"
}

not_ok() {
    TESTS=$((TESTS + 1))
    FAILED=$((FAILED + 1))
    echo "not ok $TESTS - [$PB_MODE] $*"
}

diag() {
    local line
    while IFS= read -r line; do
        echo "#   $line"
    done <<<"$*"
}

bail() {
    echo "Bail out! [$PB_MODE] $*"
    FAILED=$((FAILED + 1))
    exit 1
}

# ------------------------------------------------------------------ asserts

# assert_eq EXPECTED ACTUAL DESCRIPTION
assert_eq() {
    if [ "$1" == "$2" ]; then
        ok "$3"
    else
        not_ok "$3"
        diag "expected: '$1'"
        diag "actual:   '$2'"
    fi
}

# assert_ne UNEXPECTED ACTUAL DESCRIPTION
assert_ne() {
    if [ "$1" != "$2" ]; then
        ok "$3"
    else
        not_ok "$3"
        diag "value must differ from: '$1'"
    fi
}

# assert_contains HAYSTACK NEEDLE DESCRIPTION  (fixed string)
assert_contains() {
    if [[ "$1" == *"$2"* ]]; then
        ok "$3"
    else
        not_ok "$3"
        diag "expected to contain: '$2'"
        diag "actual: '$1'"
    fi
}

# assert_not_contains HAYSTACK NEEDLE DESCRIPTION  (fixed string)
assert_not_contains() {
    if [[ "$1" != *"$2"* ]]; then
        ok "$3"
    else
        not_ok "$3"
        diag "must not contain: '$2'"
        diag "actual: '$1'"
    fi
}

# assert_match HAYSTACK ERE DESCRIPTION  (grep -E on any line)
assert_match() {
    if grep -Eq -- "$2" <<<"$1"; then
        ok "$3"
    else
        not_ok "$3"
        diag "expected to match /$2/"
        diag "actual: '$1'"
    fi
}

# assert_no_match HAYSTACK ERE DESCRIPTION
assert_no_match() {
    if ! grep -Eq -- "$2" <<<"$1"; then
        ok "$3"
    else
        not_ok "$3"
        diag "must not match /$2/"
        diag "actual: '$1'"
    fi
}

# assert_true DESCRIPTION CMD...  (CMD must succeed)
assert_true() {
    local desc=$1
    shift
    if "$@"; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "command failed: $*"
    fi
}

# run CMD...: runs CMD (stdin /dev/null), sets RUN_RC, RUN_OUT, RUN_ERR.
run() {
    local rc=0
    "$@" </dev/null >"$SCRATCH/run.out" 2>"$SCRATCH/run.err" || rc=$?
    RUN_RC=$rc
    RUN_OUT=$(cat "$SCRATCH/run.out")
    RUN_ERR=$(cat "$SCRATCH/run.err")
}

# assert_exit CODE CMD...: runs CMD with `run` and checks its exit status.
# The output stays available in RUN_OUT / RUN_ERR.
assert_exit() {
    local want=$1
    shift
    local d="$*"
    d=${d//$PB/portbind}
    d=${d//$APPS\//}
    run "$@"
    if [ "$RUN_RC" == "$want" ]; then
        ok "exit $want: $d"
    else
        not_ok "exit $want: $d"
        diag "actual exit: $RUN_RC"
        diag "stdout: $RUN_OUT"
        diag "stderr: $RUN_ERR"
    fi
}

# assert_refusal TEXT...: RUN_RC is 125 and stderr is exactly one line
# starting with "portbind: " that contains every TEXT.
assert_refusal() {
    local t nl=0
    assert_eq 125 "$RUN_RC" "refused with exit 125"
    if [ -n "$RUN_ERR" ]; then nl=$(printf '%s\n' "$RUN_ERR" | grep -c ''); fi
    assert_eq 1 "$nl" "exactly one line on stderr"
    assert_match "$RUN_ERR" '^portbind: ' "stderr starts with 'portbind: '"
    for t in "$@"; do
        assert_contains "$RUN_ERR" "$t" "message mentions '$t'"
    done
}

# ------------------------------------------------------------------ policy

# reset_policy: no portbind.conf (= deny all) and an empty root-owned portbind.d. Where
# the fixture owns the policy directory, everything else in it goes too and it (and the
# directory above it) gets safe ownership and modes back; in a private root only the
# latter (the directory is a copy of the machine's /etc); on the machine's own sysconfdir
# (package mode) nothing but portbind.conf and the entries of portbind.d is touched.
reset_policy() {
    if [ "$POLICY_DIR_MUTABLE" == 1 ]; then
        # Undo a case that replaced the directory by a symlink (see policy_perms).
        if [ -L "$POLICY_DIR" ]; then rm -f -- "$POLICY_DIR"; fi
        if [ ! -d "$POLICY_DIR" ] && [ -d "$POLICY_DIR.moved" ]; then
            mv -- "$POLICY_DIR.moved" "$POLICY_DIR"
        fi
        rm -rf -- "$POLICY_DIR.moved"
        chown root:root "${POLICY_ANCESTOR:?}"
        chmod 0755 "$POLICY_ANCESTOR"
        mkdir -p "$POLICY_DIR"
        chown root:root "$POLICY_DIR"
        chmod 0755 "$POLICY_DIR"
    fi
    if [ "$POLICY_DIR_OURS" == 1 ]; then
        find "$POLICY_DIR" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
        mkdir -m 0755 "$DROPIN_DIR"
    else
        rm -rf -- "$POLICY"
        if [ -L "$DROPIN_DIR" ] || { [ -e "$DROPIN_DIR" ] && [ ! -d "$DROPIN_DIR" ]; }; then
            rm -f -- "$DROPIN_DIR"
        fi
        [ -d "$DROPIN_DIR" ] || mkdir -m 0755 "$DROPIN_DIR"
        find "$DROPIN_DIR" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
        chmod 0755 "$DROPIN_DIR"
    fi
    chown root:root "$DROPIN_DIR"
}

# write_file PATH TEXT: root:root 0644 file with TEXT (plus a final newline).
write_file() {
    printf '%s\n' "$2" >"$1.tmp.$$"
    chown root:root "$1.tmp.$$"
    chmod 0644 "$1.tmp.$$"
    mv -f -- "$1.tmp.$$" "$1"
}

# write_policy TEXT: resets the policy tree, then writes portbind.conf.
write_policy() {
    reset_policy
    write_file "$POLICY" "$1"
}

# write_dropin NAME TEXT: portbind.d/NAME, root:root 0644.
write_dropin() {
    write_file "$DROPIN_DIR/$1" "$2"
}

# --------------------------------------------------------------- identities

uid_of() { id -u "$1"; }
gid_of() { id -g "$1"; }
groups_of() { id -G "$1" | tr ' ' '\n' | sort -n | paste -sd' ' -; }
home_of() { getent passwd "$1" | cut -d: -f6; }

# user_prefix USER: sets UP to the command prefix that runs a command as USER
# (real/effective/saved uid and gid, USER's groups) with a small, sane env.
user_prefix() {
    local u=$1 home
    home=$(home_of "$u")
    UP=(setpriv --reuid="$u" --regid="$u" --init-groups --
        env -i PATH="$USER_PATH" HOME="$home" USER="$u" LOGNAME="$u" LANG=C.UTF-8)
}

# as_user USER CMD...: runs CMD as USER (current network namespace).
as_user() {
    local u=$1
    shift
    user_prefix "$u"
    timeout -k 2 "$CMD_TIMEOUT" "${UP[@]}" "$@"
}

# ---------------------------------------------------------- network namespaces

# Shell snippet run first in every fresh namespace: lo up and the privileged
# port boundary pinned to 1024 and read back (container runtimes set it to 0,
# which would make every "cannot bind 443" check pass vacuously).
# shellcheck disable=SC2016  # expanded inside the namespace's shell
NETNS_INIT='
ip link set lo up || exit 98
sysctl -qw net.ipv4.ip_unprivileged_port_start=1024 || exit 98
v=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
if [ "$v" != 1024 ]; then
    echo "netns: ip_unprivileged_port_start is $v, not 1024" >&2
    exit 98
fi'

# in_netns CMD...: runs CMD (as root) in a fresh, throw-away network namespace.
# Exit 98 if the namespace could not be prepared.
in_netns() {
    timeout -k 2 "$CMD_TIMEOUT" unshare -n -- bash -c "$NETNS_INIT"'
exec "$@"' in_netns "$@"
}

# in_netns_as USER CMD...: like in_netns, but CMD runs as USER.
in_netns_as() {
    local u=$1
    shift
    user_prefix "$u"
    in_netns "${UP[@]}" "$@"
}

# ns_root CMD...: runs CMD as root in the case's namespace $NS.
ns_root() {
    timeout -k 2 "$CMD_TIMEOUT" ip netns exec "$NS" "$@"
}

# ns_user USER CMD...: runs CMD as USER in $NS.
ns_user() {
    local u=$1
    shift
    user_prefix "$u"
    timeout -k 2 "$CMD_TIMEOUT" ip netns exec "$NS" "${UP[@]}" "$@"
}

# ns_as USER CMD...: ns_root if USER is root, else ns_user.
ns_as() {
    if [ "$1" == root ]; then
        shift
        ns_root "$@"
    else
        ns_user "$@"
    fi
}

# bg_start USER NAME CMD...: starts CMD as USER (or root) in $NS in the
# background; stdout/stderr go to $SCRATCH/NAME.out / NAME.err.  BG_LAST is
# the pid of the job (a wrapper, not the app itself).
bg_start() {
    local u=$1 name=$2
    shift 2
    if [ "$u" == root ]; then
        UP=()
    else
        user_prefix "$u"
    fi
    # The subshell keeps bash's "Killed" job notices in NAME.err.
    (
        timeout -k 2 "$BG_TIMEOUT" ip netns exec "$NS" "${UP[@]}" "$@"
        exit $?
    ) </dev/null >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err" &
    BG_LAST=$!
    BG_PIDS+=("$BG_LAST")
}

# bg_alive PID: is the background job still running?
bg_alive() {
    local st
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# bg_wait PID SECONDS: waits (bounded) for a background job; sets BG_RC
# (124 if it did not finish in time; it is then killed).
bg_wait() {
    local pid=$1 i=0 max=$(($2 * 20)) rc=0 late=0
    while bg_alive "$pid" && [ "$i" -lt "$max" ]; do
        sleep 0.05
        i=$((i + 1))
    done
    if bg_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        late=1
    fi
    wait "$pid" 2>/dev/null || rc=$?
    if [ "$late" == 1 ]; then rc=124; fi
    BG_RC=$rc
}

# ns_kill_all: kills every process in $NS and reaps the background jobs.
ns_kill_all() {
    local pid pids i
    if [ -n "$NS" ]; then
        for i in 1 2 3 4 5; do
            pids=$(ip netns pids "$NS" 2>/dev/null || true)
            [ -z "$pids" ] && break
            # shellcheck disable=SC2086
            kill -KILL $pids 2>/dev/null || true
            sleep 0.05
        done
    fi
    # The wrappers exit once their process in $NS is gone; bg_wait kills any
    # that do not within 5 s.
    for pid in "${BG_PIDS[@]}"; do
        bg_wait "$pid" 5
    done
    BG_PIDS=()
}

# listening PORT [tcp|udp]: prints the ss line(s) for PORT in $NS.
listening() {
    local proto=${2:-tcp} flag=-Hltn
    [ "$proto" == udp ] && flag=-Hlun
    ns_root ss "$flag" "sport = :$1"
}

# wait_listen PORT [tcp|udp] [JOBPID]: polls (up to 5 s) until PORT is bound in
# $NS; gives up early if JOBPID exits.  Returns non-zero on timeout.
wait_listen() {
    local port=$1 proto=${2:-tcp} job=${3:-} i
    for ((i = 0; i < 100; i++)); do
        if [ -n "$(listening "$port" "$proto")" ]; then return 0; fi
        if [ -n "$job" ] && ! bg_alive "$job"; then return 1; fi
        sleep 0.05
    done
    return 1
}

# assert_not_listening PORT [tcp|udp]
assert_not_listening() {
    local out
    out=$(listening "$1" "${2:-tcp}")
    assert_eq "" "$out" "nothing bound on ${1}/${2:-tcp} in the namespace"
}

# fetch [--udp] HOST PORT: connects from $NS as root; REPORT = the answer.
# Returns the client's exit status (0 = got an answer within 5 s).
fetch() {
    local rc=0
    REPORT=$(ns_root "$PY" "$APPS/client.py" "$@" 5 2>"$SCRATCH/client.err") || rc=$?
    return $rc
}

# assert_fetch DESCRIPTION [--udp] HOST PORT: fetch must succeed.
assert_fetch() {
    local desc=$1 f
    shift
    if fetch "$@"; then
        ok "$desc"
    else
        not_ok "$desc"
        diag "client: $(cat "$SCRATCH/client.err")"
        for f in "$SCRATCH"/*.err; do
            [ -s "$f" ] && diag "$(basename "$f"): $(cat "$f")"
        done
        REPORT=
    fi
}

# rget REPORT KEY: value of the first KEY=... line.
rget() {
    awk -v k="$2=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' <<<"$1"
}

# rcount REPORT PREFIX: number of lines starting with PREFIX.
rcount() {
    awk -v k="$2" 'index($0, k) == 1 { n++ } END { print n + 0 }' <<<"$1"
}

# assert_dropped REPORT USER [WHAT]: the app runs as USER (all four uid/gid
# fields), with exactly USER's groups and no capabilities.
assert_dropped() {
    local r=$1 u=$2 what=${3:-app} uid gid zero=0000000000000000 c
    uid=$(uid_of "$u")
    gid=$(gid_of "$u")
    assert_eq "$uid $uid $uid $uid" "$(rget "$r" status.Uid)" "$what: Uid real/eff/saved/fs = $u"
    assert_eq "$gid $gid $gid $gid" "$(rget "$r" status.Gid)" "$what: Gid real/eff/saved/fs = $u"
    assert_eq "$(groups_of "$u")" "$(rget "$r" status.Groups)" "$what: supplementary groups = $u's groups"
    for c in CapInh CapPrm CapEff CapAmb; do
        assert_eq "$zero" "$(rget "$r" "status.$c")" "$what: $c is empty"
    done
}

# sock_uid PORT FILE: uid column of the LISTEN (tcp) / bound (udp) socket on
# PORT in /proc/net/FILE of $NS (tcp, tcp6, udp, udp6).
sock_uid() {
    local hex
    hex=$(printf '%04X' "$1")
    ns_root cat "/proc/net/$2" |
        awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p && ($4 == "0A" || $4 == "07") { print $8; exit }'
}

# Python snippet: try to bind a dual-stack TCP socket on port argv[1]; prints
# BOUND or the errno name.  Used to prove the privileged-port boundary holds.
PY_BIND_PROBE='import errno, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("::", int(sys.argv[1])))
    print("BOUND")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))'

# pidfd_ino PID: inode of a pidfd for PID when the kernel has pidfs (what
# LISTEN_PIDFDID must hold); prints nothing on kernels without pidfs.
pidfd_ino() {
    "$PY" -c 'import os, subprocess, sys
fd = os.pidfd_open(int(sys.argv[1]))
t = subprocess.run(["stat", "-f", "-c", "%t", "/proc/self/fd/%d" % fd], pass_fds=(fd,),
                   capture_output=True, text=True).stdout.strip()
print(os.fstat(fd).st_ino if t == "50494446" else "")' "$1"
}

# assert_app_pid PID USER EXE: PID is a live process in $NS, running EXE as USER.
assert_app_pid() {
    local pid=$1 u=$2 exe=$3
    if [[ ! "$pid" =~ ^[0-9]+$ ]]; then
        not_ok "app reported a pid"
        diag "pid: '$pid'"
        return
    fi
    assert_match "$(ip netns pids "$NS")" "^$pid\$" "pid $pid runs in the test namespace"
    assert_eq "$(readlink -f "$exe")" "$(readlink "/proc/$pid/exe" 2>&1)" "pid $pid is $exe (portbind exec'd in place)"
    assert_eq "$(uid_of "$u")" "$(stat -c %u "/proc/$pid")" "pid $pid belongs to $u"
}

# --------------------------------------------------------- scenario records

# Where the records go: ctest sets PORTBIND_SCENARIO_LOG (in the build tree); by hand they go
# next to the fixture, where `python3 summary.py` looks by default.
SCENARIO_LOG=${PORTBIND_SCENARIO_LOG:-$PB_ROOT/scenario-results.log}
SCENARIO_TABLE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scenarios.tsv
_SCEN_IDS=
_SCEN_KIND=
_SCEN_TESTS=0
_SCEN_FAILED=0
_SCEN_RECORDED=" "

# _scenario_record ID OUTCOME ASSERTS: one line "SCENARIO ID CASE MODE OUTCOME ASSERTS RUN"
# (RUN tells this run of the case from earlier ones in the same file).
_SCEN_RUN=run-$$-$(date +%s)
_scenario_record() {
    _SCEN_RECORDED+="$1 "
    printf 'SCENARIO %s %s %s %s %s %s\n' "$1" "$CASE_NAME" "$PB_MODE" "$2" "$3" "$_SCEN_RUN" \
        >>"$SCENARIO_LOG" 2>/dev/null || true
}

# scenario_end: records the open scenario (see `scenario`).
scenario_end() {
    local id n=$((TESTS - _SCEN_TESTS)) bad=$((FAILED - _SCEN_FAILED)) outcome
    [ -n "$_SCEN_IDS" ] || return 0
    if [ "$bad" -gt 0 ]; then
        outcome=failed
    elif [ "$n" -eq 0 ]; then
        outcome=untried
    else
        outcome=$_SCEN_KIND
    fi
    for id in ${_SCEN_IDS//,/ }; do
        _scenario_record "$id" "$outcome" "$n"
    done
    _SCEN_IDS=
}

# scenario IDS KIND: the asserts that follow, up to the next `scenario` or `scenario_end` (or
# the end of the case), are the evidence for checklist scenario(s) IDS (comma-separated
# numbers). KIND is what their passing shows: `refused` (the attack was refused or had no
# effect) or `documented` (the documented behaviour holds). Any failed assert records
# `failed`; no assert at all records `untried`.
scenario() {
    scenario_end
    case $2 in
        refused | documented) ;;
        *) bail "scenario $1: unknown kind '$2'" ;;
    esac
    _SCEN_IDS=$1
    _SCEN_KIND=$2
    _SCEN_TESTS=$TESTS
    _SCEN_FAILED=$FAILED
}

# _scenario_finish: closes the open scenario, then records, for every scenario that
# scenarios.tsv maps to this case and that the case did not record itself, the case's own
# result (its expected kind when every assert passed, else `failed`).
_scenario_finish() {
    local id _section _title kind covered _rest outcome
    scenario_end
    [ -r "$SCENARIO_TABLE" ] || return 0
    while IFS=$'\t' read -r id _section _title kind covered _rest; do
        case $id in '' | '#'*) continue ;; esac
        [[ " $covered " == *" case:$CASE_NAME "* ]] || continue
        [[ "$_SCEN_RECORDED" == *" $id "* ]] && continue
        if [ "$FAILED" != 0 ] || [ "$TESTS" == 0 ]; then outcome=failed; else outcome=$kind; fi
        _scenario_record "$id" "$outcome" "$TESTS"
    done <"$SCENARIO_TABLE"
}

# ------------------------------------------------------------ setup/teardown

_on_err() {
    echo "# unexpected failure at ${BASH_SOURCE[1]:-?}:$1: $2" >&2
}

_finish() {
    local rc=$?
    set +e
    trap - ERR
    ns_kill_all
    if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null; fi
    reset_policy 2>/dev/null
    if [ -n "$SCRATCH" ]; then rm -rf -- "$SCRATCH"; fi
    if [ "$rc" == 77 ]; then exit 77; fi
    if [ "$rc" != 0 ] && [ "$FAILED" == 0 ]; then
        not_ok "$CASE_NAME aborted with exit status $rc"
    fi
    if [ "$TESTS" == 0 ]; then
        not_ok "$CASE_NAME asserted nothing"
    fi
    _scenario_finish
    echo "1..$TESTS"
    if [ "$FAILED" != 0 ]; then
        echo "# $CASE_NAME [$PB_MODE]: $FAILED of $TESTS failed"
        exit 1
    fi
    exit 0
}

trap '_on_err "$LINENO" "$BASH_COMMAND"' ERR
trap _finish EXIT

umask 022
SCRATCH=$(mktemp -d "$PB_ROOT/scratch.XXXXXX")
chmod 0755 "$SCRATCH"
# A directory every test user may write into (markers etc.).
mkdir -m 1777 "$SCRATCH/shared"

NS=pbt-$$
ip netns add "$NS" || bail "cannot create network namespace $NS"
ns_root bash -c "$NETNS_INIT" || bail "cannot prepare network namespace $NS"
[ "$(ns_root cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" == 1024 ] ||
    bail "ip_unprivileged_port_start in $NS is not 1024"
ns_root ip -6 addr show dev lo | grep -q '::1' || bail "no ::1 in $NS (IPv6 disabled?)"
reset_policy

echo "# $CASE_NAME [$PB_MODE] portbind=$PB netns=$NS"
