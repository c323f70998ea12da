#!/bin/bash
# The policy is swapped while portbind reads it. Root renames, in a tight loop, a safe policy
# that denies pb_alice port 443 and an unsafe one that would permit it (writable by others,
# or owned by pb_alice, or a symlink to a permitting file; and the same for portbind.d).
# Whatever moment portbind opens the files at, the decision comes from what it opened and
# checked: no request for port 443 is ever served, while a control port the safe policy
# permits is.
# It keeps its own files next to the policy and puts unsafe ones in its place: in package
# mode, where that is the machine's /etc, it runs in a private root (lib.sh).
PB_WANTS_PRIVATE_ROOT=1
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

write_policy "permit pb_alice port 444"
# The safe versions: portbind.conf denying 443, or a drop-in denying it; the unsafe one
# permits 443 (and 444).
write_file "$POLICY_DIR/safe-main.conf" "deny pb_alice port 443
permit pb_alice port 444"
write_file "$POLICY_DIR/safe-dropin.conf" "deny pb_alice port 443"
write_file "$POLICY_DIR/permissive.conf" "permit pb_alice port 443
permit pb_alice port 444"
marker=$SCRATCH/shared/ran

# swapper.py FILE SAFE UNSAFE KIND [UID]: renames over FILE, until killed, a copy of SAFE
# and then an unsafe version of UNSAFE: KIND writable (mode 0666), owned (by UID) or
# symlink (a link to UNSAFE).
cat >"$SCRATCH/swapper.py" <<'PYEOF'
import os, shutil, sys, time
target, safe, unsafe, kind = sys.argv[1:5]
d = os.path.dirname(target)
a, b = os.path.join(d, ".swap-safe"), os.path.join(d, ".swap-unsafe")
while True:
    for src, tmp in ((safe, a), (unsafe, b)):
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if tmp == b and kind == "symlink":
            os.symlink(unsafe, tmp)
        else:
            shutil.copy2(src, tmp)
            if tmp == b and kind == "writable":
                os.chmod(tmp, 0o666)
            if tmp == b and kind == "owned":
                os.chown(tmp, int(sys.argv[5]), 0)
        os.rename(tmp, target)
        # Each version stays in place for about as long as the other: preparing a copy takes
        # far longer than making a symlink, which otherwise leaves the symlink in place nearly
        # all the time and the control port almost never served.
        time.sleep(0.001)
PYEOF
chmod 0644 "$SCRATCH/swapper.py"
# hammer.py PORTBIND MARKER RUNS: asks for 443 RUNS times and 444 as often; prints how many
# of each ended how.
cat >"$SCRATCH/hammer.py" <<'PYEOF'
import collections, subprocess, sys
pb, marker, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = collections.Counter()
for i in range(runs):
    for port in ("443", "444"):
        r = subprocess.run([pb, "--activate", "--port", port, "--", "/usr/bin/touch",
                            marker + "." + port], capture_output=True, text=True)
        why = "served" if r.returncode == 0 else (
            "untrusted" if "refusing to use policy" in r.stderr else
            "denied" if "denied by" in r.stderr or "no rule" in r.stderr else
            "exit %d: %s" % (r.returncode, r.stderr.strip()[:120]))
        seen[port + " " + why] += 1
for k, v in sorted(seen.items()):
    print("%s=%d" % (k, v))
PYEOF
chmod 0644 "$SCRATCH/hammer.py"

scenario 24 refused
alice_uid=$(uid_of pb_alice)
for kind in writable owned symlink; do
    for target in "$POLICY" "$DROPIN_DIR/50-race.conf"; do
        what="$kind ${target#"$POLICY_DIR"/}"
        safe=$POLICY_DIR/safe-main.conf
        [ "$target" != "$POLICY" ] && safe=$POLICY_DIR/safe-dropin.conf
        cp -p "$safe" "$target"
        bg_start root "swap-$kind" "$PY" "$SCRATCH/swapper.py" "$target" "$safe" \
            "$POLICY_DIR/permissive.conf" "$kind" "$alice_uid"
        run ns_user pb_alice "$PY" "$SCRATCH/hammer.py" "$PB" "$marker" 100
        ns_kill_all
        diag "$what: $(tr '\n' ' ' <<<"$RUN_OUT")"
        assert_no_match "$RUN_OUT" '^443 served=' "$what: port 443 was never served (100 tries while the file was swapped)"
        assert_true "$what: the command for 443 never ran" test ! -e "$marker.443"
        assert_no_match "$RUN_OUT" '^(443|444) exit ' "$what: every refusal was a denial or an untrusted file"
        assert_match "$RUN_OUT" '^444 served=' "$what: control: the permitted port 444 was served meanwhile"
        assert_match "$RUN_OUT" '^44[34] untrusted=' "$what: the unsafe file was met (the race really ran)"
        rm -f "$marker".*
        find "$POLICY_DIR" "$DROPIN_DIR" -maxdepth 1 -name '.swap-*' -delete
        if [ "$target" == "$POLICY" ]; then
            write_file "$POLICY" "permit pb_alice port 444"
        else
            rm -f "$target"
        fi
    done
done
