#!/bin/bash
# The broker's own privilege: as a dedicated uid with only CAP_NET_BIND_SERVICE (ambient,
# as systemd's AmbientCapabilities= gives it) it serves; started as root it reduces itself
# (--user, or uid 0 with only the capability); the capability is effective only while it
# binds privileged ports; without the capability, or on a socket path others could write,
# it refuses to start; a second broker on a live socket is refused.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/broker_common.bash
. "$(dirname "${BASH_SOURCE[0]}")/broker_common.bash"

build_pbexample || bail "cannot build the C client: $(cat "$SCRATCH/cc.err")"
chmod 0755 "$SCRATCH/pbexample"
write_policy "permit pb_alice port 80"

# A service uid without a passwd entry (as systemd's DynamicUser= gives), never 65534.
svc=64321
while getent passwd "$svc" >/dev/null || getent group "$svc" >/dev/null; do svc=$((svc + 1)); done

status_of() { grep -E "^$2:" "/proc/$1/status" | cut -f2- | tr '\t' ' '; }

# ---- a dedicated uid holding only the capability, on a socket in a directory root made
# group-writable for it
chown "root:$svc" "$BROKER_DIR"
chmod 0775 "$BROKER_DIR"
start_broker setpriv --reuid="$svc" --regid="$svc" --clear-groups \
    --inh-caps +net_bind_service --ambient-caps +net_bind_service -- \
    --socket "$BROKER_SOCK" || bail "broker did not start as uid $svc"
assert_eq "$svc $svc $svc $svc" "$(status_of "$BROKER_PID" Uid)" "broker runs as uid $svc (real, effective, saved, fs)"
assert_eq "0000000000000400" "$(status_of "$BROKER_PID" CapPrm)" "permitted: cap_net_bind_service only"
assert_eq "0000000000000000" "$(status_of "$BROKER_PID" CapEff)" "effective: nothing (raised only around bind)"
assert_eq "0000000000000000" "$(status_of "$BROKER_PID" CapInh)" "inheritable: nothing"
assert_eq "0000000000000000" "$(status_of "$BROKER_PID" CapAmb)" "ambient: nothing"
assert_eq "1" "$(status_of "$BROKER_PID" NoNewPrivs)" "no_new_privs is set"
assert_eq "$svc" "$(stat -c %u "$BROKER_SOCK")" "the socket was created by the broker's uid"
assert_eq "srw-rw-rw-" "$(stat -c %A "$BROKER_SOCK")" "the socket is mode 0666"

bg_start pb_alice alice80 env PORTBIND_SOCKET="$BROKER_SOCK" "$SCRATCH/pbexample" 80
alice=$BG_LAST
wait_listen 80 tcp "$alice" || diag "client: $(cat "$SCRATCH/alice80.err") broker: $(cat "$BROKER_ERR")"
assert_eq "$svc" "$(sock_uid 80 tcp6)" "port 80 is bound, owned by the broker's uid"
assert_fetch "pb_alice serves port 80 through the least-privileged broker" ::1 80
assert_eq "hello from portbind_bind" "$REPORT" "answer from pb_alice's C client"
run pbexample pb_bob --check 80
assert_eq "error=13" "$(kv "$RUN_OUT" error)" "pb_bob is denied"
bg_wait "$alice" 5

# A second broker on the same live socket is refused.
run ns_root "$PB" serve --socket "$BROKER_SOCK"
assert_eq 125 "$RUN_RC" "a second broker on a live socket exits 125"
assert_contains "$RUN_ERR" "another broker is already serving" "and says why"
stop_broker

# A stale socket (its broker is gone) is replaced.
assert_true "the stale socket is still there" test -S "$BROKER_SOCK"
start_broker -- --socket "$BROKER_SOCK" || bail "broker did not replace the stale socket"
ok "a stale socket is replaced"
stop_broker
chown root:root "$BROKER_DIR"
chmod 0755 "$BROKER_DIR"
rm -f "$BROKER_SOCK"

# ---- root with --user: the socket is made as root, then the broker becomes the user.
start_broker -- --socket "$BROKER_SOCK" --user pb_carol || bail "broker --user did not start"
carol=$(uid_of pb_carol)
assert_eq "$carol $carol $carol $carol" "$(status_of "$BROKER_PID" Uid)" "--user pb_carol: uid"
assert_eq "$(gid_of pb_carol) $(gid_of pb_carol) $(gid_of pb_carol) $(gid_of pb_carol)" \
    "$(status_of "$BROKER_PID" Gid)" "--user pb_carol: gid"
assert_eq "" "$(status_of "$BROKER_PID" Groups | tr -d ' ')" "--user: no supplementary groups"
assert_eq "0000000000000400" "$(status_of "$BROKER_PID" CapPrm)" "--user: permitted cap_net_bind_service only"
assert_eq "0000000000000400" "$(status_of "$BROKER_PID" CapBnd)" "--user: bounding set cap_net_bind_service only"
assert_eq "0" "$(stat -c %u "$BROKER_SOCK")" "--user: the socket was made by root"
run pbexample pb_alice --check 80
assert_eq "listening=1" "$(kv "$RUN_OUT" listening)" "--user broker serves pb_alice"
stop_broker
rm -f "$BROKER_SOCK"

# ---- root without --user: uid 0, nothing but the capability, and a warning.
start_broker -- --socket "$BROKER_SOCK" || bail "root broker did not start"
assert_eq "0 0 0 0" "$(status_of "$BROKER_PID" Uid)" "root broker: uid 0"
assert_eq "0000000000000400" "$(status_of "$BROKER_PID" CapPrm)" "root broker: permitted cap_net_bind_service only"
assert_eq "0000000000000000" "$(status_of "$BROKER_PID" CapEff)" "root broker: effective nothing"
assert_eq "0000000000000400" "$(status_of "$BROKER_PID" CapBnd)" "root broker: bounding set cap_net_bind_service only"
assert_eq "1" "$(status_of "$BROKER_PID" NoNewPrivs)" "root broker: no_new_privs"
assert_contains "$(cat "$BROKER_ERR")" "--user USER (or the portbind.service unit) is safer" "root broker: warns"
run pbexample pb_alice --check 80
assert_eq "listening=1" "$(kv "$RUN_OUT" listening)" "root broker serves pb_alice"
stop_broker

# ---- while CAP_NET_BIND_SERVICE is effective the broker does nothing but bind() privileged
# ports: the binds granted in one wake-up share one raise, and unprivileged ports are bound
# without it; the stderr lines of a wake-up go out in one write. strace watches every system
# call of the broker while two clients send concurrent requests, one for privileged ports
# and one for unprivileged ones.
write_policy "permit pb_alice port 1-1023"
start_broker -- --socket "$BROKER_SOCK" --user pb_carol || bail "broker --user did not start"
trace_broker "$SCRATCH/window.strace" || bail "cannot trace the broker"
pbclient pb_alice concurrent 20 2000 >"$SCRATCH/unprivileged.out" 2>&1 &
unprivileged=$!
run pbclient pb_alice concurrent 40 100
wait "$unprivileged" || true
assert_eq "granted=40" "$RUN_OUT" "40 concurrent requests for ports 100-139 granted"
assert_eq "granted=20" "$(cat "$SCRATCH/unprivileged.out")" "20 concurrent requests for ports 2000-2019 granted"
untrace_broker
# Each window runs from the capset() that makes the capability effective to the one that
# lowers it; "bad" lists anything else seen in a window or a bind on the wrong side of one.
windows=$(awk '
    /^(---|\+\+\+)/ { next }
    /^capset\(/ && /effective=1<<CAP_NET_BIND_SERVICE/ {
        if (up) bad = bad "raised twice; "
        up = 1; n = 0; raises++; next
    }
    /^capset\(/ { if (up && n > most) most = n; up = 0; next }
    /^bind\(/ {
        port = $0; sub(/.*_port=htons\(/, "", port); sub(/\).*/, "", port); port += 0
        if (up) { n++; inside++; if (port >= 1024) bad = bad "bind of " port " while effective; " }
        else { outside++; if (port < 1024) bad = bad "bind of " port " without the capability; " }
        next
    }
    up { call = $0; sub(/\(.*/, "", call); bad = bad call " while effective; " }
    END {
        if (up) bad = bad "still effective at the end; "
        printf "raises=%d\nmost=%d\ninside=%d\noutside=%d\nbad=%s\n", raises, most, inside, outside, bad
    }' "$SCRATCH/window.strace")
assert_eq "bad=" "$(kv "$windows" bad)" "nothing but privileged binds while the capability is effective"
assert_eq "inside=40" "$(kv "$windows" inside)" "all 40 privileged binds ran with the capability raised"
assert_eq "outside=20" "$(kv "$windows" outside)" "all 20 unprivileged binds ran without it"
raises=$(kv "$windows" raises)
most=$(kv "$windows" most)
assert_true "the binds of one wake-up share one raise (raises: ${raises#raises=}; binds under the largest: ${most#most=})" \
    test "${most#most=}" -ge 2
# The decision lines of a wake-up reach stderr in one write, not one write each.
granted=$(grep -c 'granted: user pb_alice' "$BROKER_ERR" || true)
writes=$(grep -c '^write(2,' "$SCRATCH/window.strace" || true)
assert_eq "60" "$granted" "every grant of the burst is on stderr"
assert_true "the grant lines of a wake-up are written together ($writes writes for $granted lines)" \
    test "$writes" -lt "$granted"
assert_eq "0000000000000000" "$(status_of "$BROKER_PID" CapEff)" "after the burst: effective nothing"
stop_broker
rm -f "$BROKER_SOCK"

# ---- refusals to start
run ns_root "$PB" serve --socket "$SCRATCH/shared/pb.sock"
assert_eq 125 "$RUN_RC" "a socket directory writable by others: refused"
assert_contains "$RUN_ERR" "is not owned by root or is writable by others" "and says why"
assert_true "nothing was created there" test ! -e "$SCRATCH/shared/pb.sock"

run ns_user pb_bob "$PB" serve --socket "$SCRATCH/shared/pb.sock"
assert_eq 125 "$RUN_RC" "pb_bob cannot serve on a directory he controls"
run ns_user pb_bob "$PB" serve --user pb_bob --socket "$BROKER_SOCK"
assert_eq 125 "$RUN_RC" "--user is refused to non-root"
assert_contains "$RUN_ERR" "only root may use it" "and says why"
run ns_user pb_bob setpriv --nnp "$PB" serve --socket "$BROKER_SOCK"
assert_eq 125 "$RUN_RC" "without the capability (no_new_privs): refused"
assert_contains "$RUN_ERR" "needs CAP_NET_BIND_SERVICE" "and says why"
run ns_root "$PB" serve --socket relative.sock
assert_eq 125 "$RUN_RC" "a relative socket path is refused"
