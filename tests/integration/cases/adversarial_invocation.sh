#!/bin/bash
# Hostile command lines, traced where it matters (strace run by root, so the kernel keeps
# portbind's privilege). An empty argv loads nothing a planted GCONV_PATH names; argv[0]
# (format strings, 128 KiB, escape sequences, an admin-sounding name) is never used; option
# tricks (repeats, abbreviations, options after the command, POSIXLY_CORRECT) change nothing;
# huge argument lists are refused or served, never misparsed; root-only options and
# subcommands are refused before the file they name is opened; `check` is no file-read
# oracle; the command is looked up with the caller's own rights, so the answer is the one
# the caller gets alone; hostnames are refused without a lookup; bad counts and lengths are
# refused.
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v strace >/dev/null || bail "strace is not installed (a test dependency)"
write_policy "permit pb_alice port 443"
marker=$SCRATCH/shared/ran
TRACE=$SCRATCH/trace.out

# traced USER CMD...: runs CMD as USER under strace (file and network calls, all threads),
# run by root so setuid and file capabilities still apply; the trace goes to $TRACE.
traced() {
    local u=$1
    shift
    run ns_root strace -f -qq -s 256 -o "$TRACE" -u "$u" \
        -e trace=%file,socket,connect,bind,setxattr,fsetxattr,lsetxattr,execve "$@"
}

# calls: the traced calls other than execve (whose arguments name every path given).
calls() { grep -v ' execve(' "$TRACE" || true; }

# ------------------------------------------------------------------ argc == 0
scenario 1 refused
bait=$SCRATCH/shared/gconv
mkdir -m 0755 "$bait"
printf 'module INTERNAL EVIL// evil 1\nmodule EVIL// INTERNAL evil 1\n' >"$bait/gconv-modules"
cat >"$SCRATCH/evil.c" <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void) {
    int fd = open("$SCRATCH/shared/gconv-loaded", O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
}
EOF
cc -shared -fPIC -o "$bait/evil.so" "$SCRATCH/evil.c"
chmod 0755 "$bait/evil.so"
traced pb_alice "$APPS/rawexec" -e GCONV_PATH="$bait" -e CHARSET=EVIL -e LANG=C.UTF-8 -- "$PB"
assert_eq 125 "$RUN_RC" "an empty argv with GCONV_PATH planted: refused with 125"
assert_true "the planted gconv module never loaded" test ! -e "$SCRATCH/shared/gconv-loaded"
assert_not_contains "$(calls)" "$bait" "nothing under GCONV_PATH was even looked at"
assert_no_match "$(cat "$TRACE")" 'socket\(AF_INET' "no socket was created"

# ------------------------------------------------------------------ argv[0]
scenario 2 refused
long=$(head -c 131071 /dev/zero | tr '\0' A) # the kernel's limit for one argument
for argv0 in '%n%s%x%n%s' "$long" $'\e[31mred\e]0;title\a' $'new\nline' portbind-setcap setcap; do
    shown=${argv0:0:20}
    run ns_user pb_alice "$APPS/rawexec" -- "$PB" "$argv0" --activate --port 443 -- /usr/bin/touch "$marker"
    assert_eq 0 "$RUN_RC" "argv[0] '${shown//[^[:print:]]/?}': the request is served as usual"
    assert_true "argv[0] '${shown//[^[:print:]]/?}': the command ran" test -e "$marker"
    rm -f "$marker"
    run ns_user pb_bob "$APPS/rawexec" -- "$PB" "$argv0" --activate --port 443 -- /usr/bin/true
    assert_refusal "443"
    if [[ "$argv0" != *setcap ]]; then
        assert_not_contains "$RUN_ERR" "${argv0:0:8}" "argv[0] '${shown//[^[:print:]]/?}': not in the message"
    fi
    assert_no_match "$RUN_ERR" $'[\x01-\x08\x0b-\x1f\x7f]' "argv[0] '${shown//[^[:print:]]/?}': no control character in the message"
done
# A name that sounds like the admin subcommand selects nothing: "list" is the command here.
run ns_root "$APPS/rawexec" -- "$PB" portbind-setcap list
assert_eq 127 "$RUN_RC" "argv[0] 'portbind-setcap' as root: 'list' is a command to run, not setcap list"

# ------------------------------------------------------------------ options
scenario 3 refused
# Options after the command belong to the command, with or without "--".
run ns_user pb_alice "$PB" --activate --port 443 /bin/echo --user root --policy /etc/shadow
assert_eq 0 "$RUN_RC" "options after the command: served"
assert_eq "--user root --policy /etc/shadow" "$RUN_OUT" "options after the command are the command's arguments"
for env in "" POSIXLY_CORRECT=1; do
    label=${env:-default}
    for args in "--activate --activate --port 443" "--act --port 443" "--activate --port=443 --po 443" \
        "--activate --user pb_alice --user pb_alice --port 443" "--activate -p 443" "--ACTIVATE --port 443"; do
        # shellcheck disable=SC2086  # split on purpose
        run ns_user pb_alice env $env "$PB" $args -- /usr/bin/touch "$marker"
        assert_eq 125 "$RUN_RC" "$label: '$args' refused"
    done
    run ns_user pb_alice env $env "$PB" --activate --port 443 -- /bin/echo ok
    assert_eq "ok" "$RUN_OUT" "$label: a plain request is served"
done
assert_true "no refused command line ran its command" test ! -e "$marker"

# ------------------------------------------------------------------ volume
scenario 4 refused
# 100,000 --port options are refused (portbind allows 64 sockets), quickly: the run is bounded
# only by the generous hang guard (CMD_TIMEOUT), which a fast refusal never comes near.
mapfile -t many < <(for ((i = 0; i < 100000; i++)); do printf -- '--port\n8080\n'; done)
ulimit -s 65536 # room for 200,000 arguments (the kernel allows a quarter of the stack limit)
run ns_user pb_alice "$PB" --activate "${many[@]}" -- /usr/bin/touch "$marker"
ulimit -s 8192
assert_refusal "too many sockets"
assert_true "100,000 --port options: the command did not run" test ! -e "$marker"
big=$(head -c 100000 /dev/zero | tr '\0' x)
envs=()
for ((i = 0; i < 15; i++)); do envs+=("PBTEST_BIG$i=$big"); done
# shellcheck disable=SC2016  # expanded by the app's shell
run ns_user pb_alice env "${envs[@]}" "$PB" --activate --port 443 -- /bin/sh -c 'echo ${#PBTEST_BIG14}'
assert_eq 0 "$RUN_RC" "1.5 MB of environment: served"
assert_eq 100000 "$RUN_OUT" "and the environment reaches the app intact"

# ------------------------------------------------------------ root-only knobs
scenario 5,6 refused
secret=$SCRATCH/secret.conf
write_file "$secret" "permit * port 1-65535 # SECRET-CONTENT"
chmod 0600 "$secret"
traced pb_alice "$PB" --policy "$secret" --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal "--policy"
assert_not_contains "$(calls)" "$secret" "--policy as pb_alice: the named file is never opened"
traced pb_alice "$PB" --user root --activate --port 443 -- /usr/bin/touch "$marker"
assert_refusal "--user"
traced pb_alice "$PB" check --policy "$secret" 443
assert_eq 125 "$RUN_RC" "check --policy as pb_alice: refused"
assert_not_contains "$RUN_OUT$RUN_ERR" "SECRET-CONTENT" "check --policy: nothing of the file is shown"
assert_not_contains "$(calls)" "$secret" "check --policy as pb_alice: the file is never opened"
# No variable selects another policy.
traced pb_alice env PORTBIND_POLICY="$secret" PORTBIND_CONFIG="$secret" PORTBIND_CONF="$secret" \
    "$PB" --activate --port 443 -- /usr/bin/true
assert_eq 0 "$RUN_RC" "PORTBIND_* variables: the request is decided by the real policy"
assert_not_contains "$(calls)" "$secret" "PORTBIND_* variables name files that are never opened"
assert_true "no refused request ran its command" test ! -e "$marker"

# ------------------------------------------------------------ admin subcommands
scenario 7 refused
install -o root -g root -m 0755 /usr/bin/true "$SCRATCH/target"
traced pb_alice "$PB" setcap grant "$SCRATCH/target"
assert_refusal "only root may use it"
assert_no_match "$(cat "$TRACE")" 'setxattr\(' "setcap as pb_alice: no xattr is ever written"
assert_not_contains "$(calls)" "$SCRATCH/target" "setcap as pb_alice: the target is never opened"
assert_eq "" "$(getcap "$SCRATCH/target")" "the target carries no capability"

# ------------------------------------------------------------ command lookup
scenario 12 documented
# The caller cannot read /secret, so portbind (which looks with the caller's rights) must
# answer exactly as the caller's own exec does: no more, no less.
hidden=$SCRATCH/hidden
mkdir -m 0700 "$hidden"
install -o root -g root -m 0755 /usr/bin/true "$hidden/app"
for cmd in "$hidden/app" "$hidden/missing" "$SCRATCH/missing/app"; do
    run ns_user pb_alice env "$cmd"
    own=$RUN_RC
    run ns_user pb_alice "$PB" --activate --port 443 -- "$cmd"
    assert_eq "$own" "$RUN_RC" "'${cmd#"$SCRATCH"/}': the same status as the caller's own exec ($own)"
done
run ns_user pb_alice env PATH="$hidden:/usr/bin" app
own=$RUN_RC
run ns_user pb_alice env PATH="$hidden:/usr/bin" "$PB" --activate --port 443 -- app
assert_eq "$own" "$RUN_RC" "PATH through an unreadable directory: the same status as the caller's own exec ($own)"
# In the setuid install the lookup comes after the switch to the caller's uid.
run ns_root strace -f -qq -o "$TRACE" -u pb_alice -e trace=setresuid,execve,%file \
    "$PB" --activate --port 443 -- "$hidden/app"
first_uid=$(grep -n 'setresuid(' "$TRACE" | head -n 1 | cut -d: -f1)
first_look=$(grep -n "$hidden/app" "$TRACE" | grep -v 'execve("'"$PB" | head -n 1 | cut -d: -f1)
assert_match "$first_uid" '^[0-9]+$' "the trace shows the switch to the caller"
assert_true "the command is first looked at after the switch (line ${first_look:-none} > ${first_uid:-none})" \
    test "${first_look:-0}" -gt "${first_uid:-0}"

# ------------------------------------------------------------ hostnames
scenario 28 refused
for spec in localhost:443 myhost.example:443 '[localhost]:443' ip6-localhost:443; do
    traced pb_alice "$PB" --activate --port "$spec" -- /usr/bin/touch "$marker"
    assert_refusal "$spec"
    assert_no_match "$(cat "$TRACE")" '/etc/(hosts|services|resolv\.conf|nsswitch\.conf)' "'$spec': no resolver file opened"
    assert_no_match "$(cat "$TRACE")" 'connect\(.*(htons\(53\)|sin6?_port=53)' "'$spec': no DNS query"
done
assert_true "no hostname request ran its command" test ! -e "$marker"

# ------------------------------------------------------------ counts and lengths
scenario 31 refused
for backlog in -1 0 2147483648 99999999999999999999 0x10 " 5"; do
    run ns_user pb_alice "$PB" --activate --backlog "$backlog" --port 443 -- /usr/bin/touch "$marker"
    assert_refusal "--backlog"
done
run ns_user pb_alice "$PB" --activate --backlog 2147483647 --port 443 -- /usr/bin/true
assert_eq 0 "$RUN_RC" "--backlog INT_MAX: accepted (the kernel caps it)"
for name in "a:b" "$(head -c 300 /dev/zero | tr '\0' n)" $'a\nb' ""; do
    run ns_user pb_alice "$PB" --activate --port "443=$name" -- /usr/bin/touch "$marker"
    assert_eq 125 "$RUN_RC" "a socket name of ${#name} bytes that systemd would not accept: refused"
done
assert_true "no bad count or name ran its command" test ! -e "$marker"
