#!/bin/bash
# The privilege itself. A trace shows the order: the switch to the caller (setuid install)
# before any socket, the capability effective only around bind(), every capability dropped
# before the command's exec, each call succeeding, no setgroups. The command has keep-caps
# off and the caller's securebits. Where the kernel withholds the privilege (nosuid mount,
# a user namespace that does not map root) portbind says so and binds nothing privileged.
# Installs that give more than they should (extra capabilities, setuid to another user,
# setgid) are refused. The command gets exactly the caller's supplementary groups, even
# when the caller runs with fewer than /etc/group lists.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v strace >/dev/null || bail "strace is not installed (a test dependency)"
write_policy "permit pb_alice port 443
permit :pbports port 444
permit :pbextra port 445"
marker=$SCRATCH/shared/ran
TRACE=$SCRATCH/trace.out

# -------------------------------------------------------------------- order
scenario 44 documented
for mode in --activate ""; do
    label=${mode:-default mode}
    # shellcheck disable=SC2086  # an empty mode selects the default mode
    run ns_root strace -f -qq -o "$TRACE" -u pb_alice \
        -e trace=setgroups,setresgid,setresuid,setuid,setgid,capset,socket,bind,listen,execve,clone,clone3,fork,vfork \
        "$PB" $mode --port 443 -- /usr/bin/true
    assert_eq 0 "$RUN_RC" "$label under strace: served"
    t=$(cat "$TRACE")
    # line numbers of the first/last matching call in portbind's main process
    first() { grep -n -E "$1" <<<"$t" | head -n 1 | cut -d: -f1; }
    last() { grep -n -E "$1" <<<"$t" | tail -n 1 | cut -d: -f1; }
    uid_switch=$(first 'setresuid\(')
    tcp=$(first 'socket\(AF_INET6?, SOCK_STREAM')
    bindl=$(first 'bind\(.*443')
    cmd=$(first 'execve\("/usr/bin/true"')
    drop=$(last 'capset\(.*\{effective=0, permitted=0, inheritable=0\}')
    assert_match "$uid_switch" '^[0-9]+$' "$label: portbind switches to the caller (setresuid)"
    assert_true "$label: the switch comes before any TCP socket" test "${uid_switch:-0}" -lt "${tcp:-0}"
    assert_true "$label: the bind comes after it" test "${bindl:-0}" -gt "${uid_switch:-0}"
    assert_match "$(sed -n "$((bindl - 1))p" <<<"$t")" 'capset\(.*effective=1<<CAP_NET_BIND_SERVICE' \
        "$label: the capability is made effective just before the bind"
    assert_match "$(sed -n "$((bindl + 1))p" <<<"$t")" 'capset\(.*effective=0, permitted=1<<CAP_NET_BIND_SERVICE' \
        "$label: and lowered just after it"
    assert_match "$drop" '^[0-9]+$' "$label: every capability is dropped"
    assert_true "$label: the drop comes before the command's exec" test "${drop:-0}" -lt "${cmd:-0}"
    assert_true "$label: after the bind" test "${drop:-0}" -gt "${bindl:-0}"
    # (setuid(0) and seteuid(0) are the drop's own proof that it cannot be undone: they fail.)
    assert_no_match "$(grep -E 'set(res)?[ug]id\(|setgroups\(|capset\(|bind\(|listen\(' <<<"$t" |
        grep -v -E 'set[ug]id\(0\)|setres[ug]id\(-1, 0, -1\)')" ' = -1 ' "$label: every credential, capability, bind and listen call succeeds"
    assert_match "$t" 'setuid\(0\) += -1 EPERM' "$label: and the drop is proven: setuid(0) fails"
    assert_no_match "$t" 'setgroups\(' "$label: the caller's groups are never rewritten"
done

# --------------------------------------------------------- keep-caps, securebits
scenario 46 documented
BITS_APP='import ctypes
libc = ctypes.CDLL(None)
print("keepcaps=%d securebits=%d nnp=%d" % (libc.prctl(7, 0, 0, 0, 0), libc.prctl(27, 0, 0, 0, 0),
                                           libc.prctl(39, 0, 0, 0, 0)))'
run ns_user pb_alice "$PY" -c "$BITS_APP"
caller=$RUN_OUT
assert_eq "keepcaps=0 securebits=0 nnp=0" "$caller" "control: the caller's own state"
run ns_user pb_alice "$PB" --activate --port 443 -- "$PY" -c "$BITS_APP"
assert_eq "$caller" "$RUN_OUT" "--activate: keep-caps off, securebits and no_new_privs as the caller's"
run ns_user pb_alice "$PB" --port 443 -- "$PY" -c "$BITS_APP"
assert_eq "keepcaps=0 securebits=0 nnp=1" "$RUN_OUT" \
    "default mode: keep-caps off, the caller's securebits, no_new_privs set (documented)"

# ------------------------------------------------------------ supplementary groups
scenario 49 documented
GROUPS_APP='import os; print(" ".join(str(g) for g in sorted(os.getgroups())))'
pbports=$(getent group pbports | cut -d: -f3)
pbextra=$(getent group pbextra | cut -d: -f3)
for mode in --activate ""; do
    label=${mode:-default mode}
    # pb_carol (pbports, pbextra) runs with pbextra only: she keeps pbextra's rights, not
    # pbports', and the command keeps exactly that set.
    # shellcheck disable=SC2086  # an empty mode selects the default mode
    run ns_root setpriv --reuid=pb_carol --regid=pb_carol --groups="$pbextra" -- \
        env -i PATH="$USER_PATH" "$PB" $mode --port 445 -- "$PY" -c "$GROUPS_APP"
    assert_eq 0 "$RUN_RC" "$label: pb_carol with pbextra only: her pbextra rule serves 445"
    assert_eq "$pbextra" "$RUN_OUT" "$label: the command has exactly her reduced groups"
    # shellcheck disable=SC2086
    run ns_root setpriv --reuid=pb_carol --regid=pb_carol --groups="$pbextra" -- \
        env -i PATH="$USER_PATH" "$PB" $mode --port 444 -- /usr/bin/touch "$marker"
    assert_refusal 444
    assert_true "$label: a group she dropped (pbports) does not count" test ! -e "$marker"
    # shellcheck disable=SC2086
    run ns_root setpriv --reuid=pb_alice --regid=pb_alice --clear-groups -- \
        env -i PATH="$USER_PATH" "$PB" $mode --port 443 -- "$PY" -c "$GROUPS_APP"
    assert_eq "" "$RUN_OUT" "$label: pb_alice with no supplementary groups: the command has none"
done
run ns_user pb_carol "$PB" --activate --port 444 -- "$PY" -c "$GROUPS_APP"
assert_eq "$(printf '%s\n' "$pbports" "$pbextra" "$(gid_of pb_carol)" | sort -n | paste -sd' ' -)" \
    "$RUN_OUT" "control: pb_carol with all her groups keeps them all"

# ------------------------------------------------------------ withheld privilege
scenario 47 refused
# A copy of the installed binary (same policy path), made the same way as the original.
copy=$SCRATCH/copy
mkdir -m 0755 "$copy" "$copy/mnt"
install_copy() { # DEST
    if [ "$PB_MODE" == setuid ]; then
        install -o root -g root -m 4755 "$PB" "$1"
    else
        install -o root -g root -m 0755 "$PB" "$1"
        setcap cap_net_bind_service=p "$1"
    fi
}
install_copy "$copy/portbind"
run ns_user pb_alice "$copy/portbind" --activate --port 443 -- /usr/bin/true
assert_eq 0 "$RUN_RC" "control: a copy made like the original works"
# The same copy on a nosuid mount (a private mount namespace; the host is untouched).
# shellcheck disable=SC2016  # expanded by the inner shell
run timeout 20 unshare -m --propagation private -- bash -c '
    set -e
    mount -t tmpfs -o nosuid,mode=0755 nosuid "$1"
    cp -a "$2/portbind" "$1/portbind" 2>/dev/null || cp "$2/portbind" "$1/portbind"
    chmod "$3" "$1/portbind"
    [ "$4" == caps ] && setcap cap_net_bind_service=p "$1/portbind"
    shift 4
    exec "$@"' nosuid "$copy/mnt" "$copy" "$([ "$PB_MODE" == setuid ] && echo 4755 || echo 0755)" \
    "$PB_MODE" ip netns exec "$NS" setpriv --reuid=pb_alice --regid=pb_alice --init-groups -- \
    env -i PATH="$USER_PATH" "$copy/mnt/portbind" --activate --port 443 -- /usr/bin/touch "$marker" \
    2>&1 || true
diag "on a nosuid mount: exit $RUN_RC: $RUN_ERR"
assert_refusal 443
assert_true "nosuid mount: the command did not run" test ! -e "$marker"
assert_not_listening 443
# Inside a user namespace that maps only the caller, root's setuid bit and file
# capabilities mean nothing.
if ns_user pb_alice unshare -U -r true 2>/dev/null; then
    run ns_user pb_alice unshare -U -r -- "$PB" --activate --port 443 -- /usr/bin/touch "$marker"
    diag "in a user namespace: exit $RUN_RC: $RUN_ERR"
    assert_eq 125 "$RUN_RC" "in a user namespace: refused with 125"
    assert_match "$RUN_ERR" '^portbind: ' "in a user namespace: saying why"
    assert_true "in a user namespace: the command did not run" test ! -e "$marker"
else
    diag "unprivileged user namespaces are disabled here: that variant cannot be tried"
fi

# ------------------------------------------------------------ extra privilege
scenario 48 refused
# Installs that give more than CAP_NET_BIND_SERVICE: refused before anything else.
install -o root -g root -m 0755 "$PB" "$copy/extra-caps"
setcap cap_net_bind_service,cap_sys_admin,cap_dac_override=p "$copy/extra-caps"
run ns_user pb_alice "$copy/extra-caps" --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal "unexpected capabilities"
run ns_user pb_alice "$copy/extra-caps" --activate --port 8080 -- /usr/bin/touch "$marker"
assert_refusal "unexpected capabilities"
install -o pb_bob -g root -m 4755 "$PB" "$copy/setuid-bob"
run ns_user pb_alice "$copy/setuid-bob" --activate --port 8080 -- /usr/bin/touch "$marker"
assert_refusal "effective uid"
install -o root -g root -m 2755 "$PB" "$copy/setgid-root"
for args in "--activate --port 443" "--activate --port 8080" "--port 8080"; do
    # shellcheck disable=SC2086  # split on purpose
    run ns_user pb_alice "$copy/setgid-root" $args -- /usr/bin/touch "$marker"
    assert_eq 125 "$RUN_RC" "setgid root, '$args': refused with 125"
    assert_match "$RUN_ERR" '^portbind: ' "setgid root, '$args': saying why"
done
for sub in "check 443" "who 443"; do
    # shellcheck disable=SC2086  # split on purpose
    run ns_user pb_alice "$copy/setgid-root" $sub
    assert_eq 125 "$RUN_RC" "setgid root, '$sub': refused with 125 (it would run with group root)"
done
assert_true "no misconfigured install ran the command" test ! -e "$marker"
