#!/bin/bash
# An unsafe or broken policy refuses everything (exit 125, message naming the
# offending file), even when its text would permit the request.
# It changes the policy's directory and the one above it: in package mode, where those are
# the machine's /etc and /, it runs in a private root (lib.sh).
PB_WANTS_PRIVATE_ROOT=1
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

GOOD="permit pb_alice port 443"

# try: pb_alice asks for 443; bounded to 5 s so a blocking open shows as 124.
try() {
    # shellcheck disable=SC2016  # expanded by the launched shell
    run ns_user pb_alice timeout 5 "$PB" --activate --port 443 -- /bin/sh -c 'test "$LISTEN_FDS" = 1'
}

# refused DESC NAMED_PATH: the last try was refused, naming NAMED_PATH.
refused() {
    if [ "$RUN_RC" == 125 ]; then
        ok "$1: refused with 125"
    else
        not_ok "$1: refused with 125"
        diag "exit: $RUN_RC"
        diag "stderr: $RUN_ERR"
    fi
    assert_match "$RUN_ERR" '^portbind: ' "$1: message starts with 'portbind: '"
    assert_contains "$RUN_ERR" "$2" "$1: message names $2"
}

# Positive control.
write_policy "$GOOD"
try
assert_eq 0 "$RUN_RC" "safe policy (root:root 0644) permits pb_alice 443"

write_policy "$GOOD"
chmod 0666 "$POLICY"
try
refused "world-writable portbind.conf" "$POLICY"

write_policy "$GOOD"
chmod 0646 "$POLICY"
try
refused "other-writable portbind.conf (0646)" "$POLICY"

write_policy "$GOOD"
chgrp pbports "$POLICY"
chmod 0664 "$POLICY"
try
refused "group-writable portbind.conf (group pbports)" "$POLICY"

write_policy "$GOOD"
chown pb_alice "$POLICY"
try
refused "portbind.conf owned by pb_alice" "$POLICY"

write_policy "$GOOD"
chmod 0600 "$POLICY"
try
refused "portbind.conf not readable by the caller" "$POLICY"

write_policy "$GOOD"
mv "$POLICY" "$POLICY_DIR/real.conf"
ln -s real.conf "$POLICY"
try
refused "portbind.conf is a symlink (to a safe root file)" "$POLICY"

write_policy "$GOOD"
rm -f "$POLICY"
mkdir -m 0755 "$POLICY"
try
refused "portbind.conf is a directory" "$POLICY"

write_policy "$GOOD"
rm -f "$POLICY"
mkfifo -m 0644 "$POLICY"
try
refused "portbind.conf is a FIFO (and portbind did not hang)" "$POLICY"

write_policy "# padding to exceed the 1 MiB cap
$GOOD"
head -c 1100000 /dev/zero | tr '\0' '#' >>"$POLICY"
echo >>"$POLICY"
try
refused "portbind.conf larger than 1 MiB" "$POLICY"

write_policy "$GOOD
permit pb_alice prot 8443"
try
refused "syntax error on line 2 of portbind.conf (line 1 permits)" "$POLICY"

# Drop-in directory and files.
write_policy "$GOOD"
chmod 0777 "$DROPIN_DIR"
try
refused "portbind.d writable by others" "$DROPIN_DIR"

write_policy "$GOOD"
chmod 0775 "$DROPIN_DIR"
chgrp pbports "$DROPIN_DIR"
try
refused "portbind.d writable by group pbports" "$DROPIN_DIR"

write_policy "$GOOD"
chown pb_alice "$DROPIN_DIR"
try
refused "portbind.d owned by pb_alice" "$DROPIN_DIR"

write_policy "$GOOD"
write_dropin 10-extra.conf "permit pb_alice port 8443"
chmod 0666 "$DROPIN_DIR/10-extra.conf"
try
refused "world-writable drop-in" "$DROPIN_DIR/10-extra.conf"

write_policy "$GOOD"
write_file "$POLICY_DIR/extra.conf" "permit pb_alice port 8443"
ln -s ../extra.conf "$DROPIN_DIR/10-extra.conf"
try
refused "drop-in is a symlink" "$DROPIN_DIR/10-extra.conf"

write_policy "$GOOD"
write_dropin 50-bad.conf "# a comment
permit pb_alice prot 8443"
try
refused "syntax error in a drop-in" "$DROPIN_DIR/50-bad.conf"
run ns_user pb_alice "$PB" check 443
assert_ne 0 "$RUN_RC" "check: a syntax error does not let 443 pass"
assert_match "$RUN_OUT$RUN_ERR" "portbind\\.d/50-bad\\.conf:2:[0-9]+" "check reports the syntax error as file:line:col"

# Ancestors of the policy.
write_policy "$GOOD"
chmod 0775 "$POLICY_DIR"
chgrp pbports "$POLICY_DIR"
try
refused "policy directory group-writable" "$POLICY_DIR"

write_policy "$GOOD"
chown pb_alice "$POLICY_DIR"
try
refused "policy directory owned by pb_alice" "$POLICY_DIR"

write_policy "$GOOD"
chmod 0777 "${POLICY_ANCESTOR:?}"
try
refused "an ancestor directory world-writable" "policy $POLICY_ANCESTOR: it is writable"
chmod 0755 "$POLICY_ANCESTOR"

write_policy "$GOOD"
mv "$POLICY_DIR" "$POLICY_DIR.moved"
ln -s "$(basename "$POLICY_DIR").moved" "$POLICY_DIR"
try
refused "policy directory is a symlink" "$POLICY_DIR"

# Files portbind must ignore in portbind.d: not ending in .conf, or hidden.
write_policy "$GOOD"
write_dropin README "this is not a policy file @@@"
write_dropin 10-x.conf.bak "garbage @@@"
write_dropin .hidden.conf "garbage @@@"
try
assert_eq 0 "$RUN_RC" "non-.conf and hidden files in portbind.d are ignored"

# After all that, the safe policy works again (nothing was cached or broken).
write_policy "$GOOD"
try
assert_eq 0 "$RUN_RC" "safe policy permits again"
