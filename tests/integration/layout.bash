# shellcheck shell=bash
# shellcheck disable=SC2034  # variables used by the scripts that source this file
# The system under test and where its files are: the one place that knows, sourced by
# setup.sh, run-case.sh, cleanup.sh and lib.sh (not a script of its own).
#
# PORTBIND_IT_INSTALLED (in the environment; ctest sets it from the CMake cache variable of
# the same name, so a build tree tests one system) chooses what is tested:
#   empty (default)  two copies that setup.sh builds from this tree and installs under
#                    $PB_ROOT/caps and $PB_ROOT/setuid, compiled with the policy
#                    $PB_ROOT/etc/portbind.conf and the state directory
#                    $PB_ROOT/var/lib/portbind;
#   a path           package mode: the portbind installed there, with the layout of its
#                    installation (for /usr/bin/portbind, the Debian package's: /etc/portbind.conf,
#                    /etc/portbind.d, /var/lib/portbind, libportbind in /usr/lib/MULTIARCH,
#                    portbind.h in /usr/include, portbind.pc on pkg-config's own path). Nothing
#                    is built or installed; the cases run against what is there, in the
#                    install mode the package gave it (see pb_ensure_mode).
# PORTBIND_IT_OTHER_MODE (ON or OFF, default ON; package mode only): whether the cases also
# run in the install mode the package is not in, by switching the installed binary for them
# (pb_ensure_mode) and back at cleanup.
#
# In package mode the suite changes the machine's portbind configuration while it runs: the
# policy files are the cases' (an administrator's are saved by setup.sh in $PB_SAVED and
# restored exactly by cleanup.sh, or by the next setup.sh after an interrupted run), and the
# binary may be setuid root for the setuid cases. Run it on a test machine.

PB_ROOT=/opt/portbind-test
PB_INSTALLED=${PORTBIND_IT_INSTALLED:-}
PB_OTHER_MODE=${PORTBIND_IT_OTHER_MODE:-ON}
# Package mode: what setup.sh found (the administrator's policy, the binary's install mode,
# the state directory), kept for cleanup.sh to restore and check. See pb_save.
PB_SAVED=$PB_ROOT/saved
# What the fixture was set up for: the value of PORTBIND_IT_INSTALLED. A run for the other
# system skips rather than test the wrong thing.
PB_FIXTURE_RECORD=$PB_ROOT/fixture

# pb_layout MODE: sets, for install mode MODE (caps or setuid),
#   PB             the portbind binary under test
#   POLICY_DIR     the directory of the compiled-in policy file; POLICY, DROPIN_DIR
#   STATE_DIR      the compiled-in state directory of `portbind setcap`
#   PB_LIBDIR      where libportbind.so.0 is installed; PB_INCLUDEDIR where portbind.h is
#   PB_PKGCONFIG   the PKG_CONFIG_PATH that finds the installation's portbind.pc (empty:
#                  pkg-config's own search path)
#   PB_HIDE_LOCAL  1 when a build against the installation must not see /usr/local (pb_dev)
# Returns non-zero, saying why on stderr, for an installation whose layout it does not know.
pb_layout() {
    local mode=$1 multiarch
    if [ -z "$PB_INSTALLED" ]; then
        PB=$PB_ROOT/$mode/bin/portbind
        POLICY_DIR=$PB_ROOT/etc
        STATE_DIR=$PB_ROOT/var/lib/portbind
        PB_LIBDIR=$PB_ROOT/$mode/lib
        PB_INCLUDEDIR=$PB_ROOT/$mode/include
        PB_PKGCONFIG=$PB_LIBDIR/pkgconfig
        PB_HIDE_LOCAL=0
    else
        PB=$PB_INSTALLED
        case $PB in
            /usr/bin/portbind)
                # The Debian package (debian/rules: GNUInstallDirs with prefix /usr).
                multiarch=$(cc -print-multiarch 2>/dev/null) || multiarch=
                if [ -z "$multiarch" ]; then
                    echo "layout: cannot tell the multiarch library directory (cc -print-multiarch)" >&2
                    return 1
                fi
                POLICY_DIR=/etc
                STATE_DIR=/var/lib/portbind
                PB_LIBDIR=/usr/lib/$multiarch
                PB_INCLUDEDIR=/usr/include
                PB_PKGCONFIG=
                PB_HIDE_LOCAL=1
                ;;
            *)
                echo "layout: no known layout for an installation at $PB (package mode knows" \
                    "/usr/bin/portbind, the Debian package's)" >&2
                return 1
                ;;
        esac
    fi
    POLICY=$POLICY_DIR/portbind.conf
    DROPIN_DIR=$POLICY_DIR/portbind.d
}

# pb_dev CMD...: runs CMD (pkg-config, the compiler) so that it builds against the
# installation under test and nothing else. The compiler, pkg-config and the loader search
# /usr/local before /usr, and a build from source installs its own portbind.h, portbind.pc
# and libportbind there: for an installation in /usr, /usr/local is hidden by an empty
# read-only tmpfs in a private mount namespace (the machine's /usr/local is untouched).
pb_dev() {
    if [ "$PB_HIDE_LOCAL" == 1 ]; then
        # shellcheck disable=SC2016  # expanded by the inner shell
        unshare -m --propagation private -- \
            sh -c 'mount -t tmpfs -o ro,mode=0755 portbind-it-hide /usr/local && exec "$@"' pb_dev "$@"
    else
        "$@"
    fi
}

# ------------------------------------------------------------------ install modes
# Package mode only. The package installs /usr/bin/portbind with the file capability
# cap_net_bind_service=p, or, where that cannot be, setuid root through dpkg-statoverride
# (debian/portbind.postinst). The cases of the package's own mode run as it is. For the
# other mode the binary is switched while those cases run, only from the capability mode and
# only the way the package itself would fall back: the capability removed and
# `dpkg-statoverride --update --add root root 4755`. An administrator's override, or the
# package's own fallback, is never removed: in setuid mode the capability cases skip.

# pb_current_mode: prints caps or setuid when $PB is in that state, else what it is.
pb_current_mode() {
    local st caps
    st=$(stat -c '%u %g %a' "$PB" 2>/dev/null) || {
        echo "missing"
        return
    }
    caps=$(getcap "$PB" 2>/dev/null | sed -n 's/^[^ ]* //p')
    if [ "$st" == "0 0 755" ] && [ "$caps" == cap_net_bind_service=p ]; then
        echo caps
    elif [ "$st" == "0 0 4755" ] && [ -z "$caps" ]; then
        echo setuid
    else
        echo "uid:gid mode $st, capabilities '${caps:-none}'"
    fi
}

# _pb_statoverride ARGS...: dpkg-statoverride, again while dpkg or apt holds the lock (up to
# one minute).
_pb_statoverride() {
    local out rc i
    for ((i = 0; i < 60; i++)); do
        rc=0
        out=$(dpkg-statoverride "$@" 2>&1) || rc=$?
        if [ "$rc" == 0 ] || ! grep -q 'lock' <<<"$out"; then break; fi
        sleep 1
    done
    [ -z "$out" ] || printf '%s\n' "$out" >&2
    return "$rc"
}

# pb_recorded KEY: the value setup recorded for KEY (installed, mode, statoverride, policy,
# dropins, state), or nothing.
pb_recorded() { sed -n "s/^$1=//p" "$PB_SAVED/record" 2>/dev/null; }

# pb_ensure_mode MODE: puts $PB into MODE for the cases of that mode. Returns 0 when it is
# in MODE; 77 when MODE is not tried here (the reason on stdout); 1 when a switch failed.
pb_ensure_mode() {
    local want=$1 original now
    original=$(pb_recorded mode)
    now=$(pb_current_mode)
    if [ "$now" == "$want" ]; then
        return 0
    fi
    if [ "$original" == "$want" ]; then
        # Switched for the other mode's cases: back to what the package made it.
        pb_restore_mode || return 1
    elif [ "$PB_OTHER_MODE" != ON ]; then
        echo "$PB is in $original mode as the package installed it; the $want mode is not" \
            "tried (PORTBIND_IT_OTHER_MODE=$PB_OTHER_MODE)"
        return 77
    elif [ "$original" != caps ]; then
        echo "$PB is setuid root as installed (dpkg-statoverride" \
            "'$(pb_recorded statoverride)'); the capability mode is not tried: that override" \
            "is the package's fallback or the administrator's, and stays"
        return 77
    elif [ -n "$(pb_recorded statoverride)" ]; then
        echo "$PB has the administrator's dpkg-statoverride '$(pb_recorded statoverride)';" \
            "the setuid mode is not tried: that override stays"
        return 77
    else
        # The switch is recorded before anything changes, so that an interrupted one is
        # undone by the next setup.sh or cleanup.sh.
        : >"$PB_SAVED/switched"
        setcap -r "$PB" || return 1
        _pb_statoverride --update --add root root 4755 "$PB" || return 1
    fi
    now=$(pb_current_mode)
    if [ "$now" != "$want" ]; then
        echo "$PB: switching to the $want mode left it with $now" >&2
        return 1
    fi
}

# pb_restore_mode: undoes a switch made by pb_ensure_mode (nothing when there was none):
# removes the override it added (only while it is exactly that one), and gives the binary
# back its mode and capability.
pb_restore_mode() {
    local bin
    [ -e "$PB_SAVED/switched" ] || return 0
    bin=$(pb_recorded installed)
    if [ "$(dpkg-statoverride --list "$bin" 2>/dev/null)" == "root root 4755 $bin" ]; then
        _pb_statoverride --remove "$bin" || return 1
    fi
    if [ -e "$bin" ]; then
        chmod 0755 "$bin" && setcap cap_net_bind_service=p "$bin" || return 1
    fi
    rm -f -- "$PB_SAVED/switched"
}

# ---------------------------------------------------------------- what setup found
# pb_manifest PATH...: every file below each PATH (or "PATH absent"): path, type, mode,
# owner, group, modification time, link target, and the contents' SHA-256. Two manifests
# are equal when nothing there changed but access and status-change times.
pb_manifest() {
    local p
    for p in "$@"; do
        if [ ! -e "$p" ] && [ ! -L "$p" ]; then
            echo "$p absent"
            continue
        fi
        find "$p" -printf '%p %y %m %U %G %T@ %l\n'
        find "$p" -type f -exec sha256sum -- {} +
    done | LC_ALL=C sort
}

# pb_save: package mode, at setup: records in $PB_SAVED the binary's install mode and any
# dpkg-statoverride, and copies the policy file and drop-in directory (cp -a: contents,
# modes, owners, times) with their manifest, and the state directory's manifest.
pb_save() {
    local override
    mkdir -m 0700 "$PB_SAVED"
    override=$(dpkg-statoverride --list "$PB" 2>/dev/null || true)
    if [ -e "$POLICY" ] || [ -L "$POLICY" ]; then
        cp -a -- "$POLICY" "$PB_SAVED/portbind.conf"
    fi
    if [ -e "$DROPIN_DIR" ] || [ -L "$DROPIN_DIR" ]; then
        cp -a -- "$DROPIN_DIR" "$PB_SAVED/portbind.d"
    fi
    pb_manifest "$POLICY" "$DROPIN_DIR" >"$PB_SAVED/policy.manifest"
    pb_manifest "$STATE_DIR" >"$PB_SAVED/state.manifest"
    # Written last: its presence means the copies are complete.
    printf '%s\n' "installed=$PB" "mode=$(pb_current_mode)" "statoverride=$override" \
        "policy=$POLICY" "dropins=$DROPIN_DIR" "state=$STATE_DIR" >"$PB_SAVED/record.new"
    mv -- "$PB_SAVED/record.new" "$PB_SAVED/record"
}

# pb_restore: undoes what a package-mode run changed, from $PB_SAVED (nothing when there is
# no record: a default-mode run, or nothing saved yet): the binary's mode, then the policy
# file and drop-in directory exactly as saved. Then checks, against the manifests, that the
# policy is back and that the state directory never changed. $PB_SAVED is removed once the
# mode and the policy are back; otherwise it stays, for the next setup.sh or cleanup.sh (or
# an administrator) to finish. Returns non-zero, saying what differs, when anything does.
pb_restore() {
    local policy dropins state now rc=0 keep=0
    if [ ! -f "$PB_SAVED/record" ]; then
        # Nothing saved, or a setup interrupted while saving: before it changed anything.
        rm -rf -- "$PB_SAVED"
        return 0
    fi
    policy=$(pb_recorded policy)
    dropins=$(pb_recorded dropins)
    state=$(pb_recorded state)
    if ! pb_restore_mode; then
        echo "restore: could not undo the switch of $(pb_recorded installed)" \
            "to setuid mode; $PB_SAVED stays" >&2
        keep=1
    fi

    # The policy file: the saved copy renamed into place, or none.
    if [ -d "$policy" ] && [ ! -L "$policy" ]; then
        rm -rf -- "$policy"
    fi
    if [ -e "$PB_SAVED/portbind.conf" ] || [ -L "$PB_SAVED/portbind.conf" ]; then
        rm -f -- "$policy.portbind-it-restore"
        cp -a -- "$PB_SAVED/portbind.conf" "$policy.portbind-it-restore" &&
            mv -fT -- "$policy.portbind-it-restore" "$policy" || keep=1
    else
        rm -f -- "$policy"
    fi
    # The drop-in directory: its entries replaced by the saved ones, then its own mode,
    # owner and times from the saved copy; removed when there was none.
    if [ -L "$dropins" ] || { [ -e "$dropins" ] && [ ! -d "$dropins" ]; }; then
        rm -f -- "$dropins"
    fi
    if [ -d "$PB_SAVED/portbind.d" ]; then
        mkdir -p -- "$dropins"
        find "$dropins" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
        cp -a -- "$PB_SAVED/portbind.d/." "$dropins/" || keep=1
        chown --reference="$PB_SAVED/portbind.d" -- "$dropins" &&
            chmod --reference="$PB_SAVED/portbind.d" -- "$dropins" &&
            touch -m --reference="$PB_SAVED/portbind.d" -- "$dropins" || keep=1
    elif [ -d "$dropins" ]; then
        rm -rf -- "$dropins"
    fi

    now=$(pb_manifest "$policy" "$dropins")
    if [ "$now" != "$(cat "$PB_SAVED/policy.manifest")" ]; then
        echo "restore: $policy and $dropins are not as they were (the saved copies stay in" \
            "$PB_SAVED):" >&2
        diff "$PB_SAVED/policy.manifest" <(printf '%s\n' "$now") >&2
        keep=1
    fi
    now=$(pb_manifest "$state")
    if [ "$now" != "$(cat "$PB_SAVED/state.manifest")" ]; then
        echo "restore: the state directory $state changed while the suite ran (the suite" \
            "never writes there):" >&2
        diff "$PB_SAVED/state.manifest" <(printf '%s\n' "$now") >&2
        rc=1
    fi
    if [ "$keep" == 0 ]; then
        rm -rf -- "$PB_SAVED"
    fi
    [ "$rc" == 0 ] && [ "$keep" == 0 ]
}
