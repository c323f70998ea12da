#!/bin/bash
# Packaging stage (ctest: packaging.install_smoke_purge), as root, after build.sh:
#
#   bash tests/packaging/install_smoke_purge.sh STATE_DIR
#
# Installs the packages on this machine, checks them, and purges them:
#   * apt-get install portbind: capability mode (getcap cap_net_bind_service=p, 0755, no
#     statoverride), group portbind, /etc/portbind.d, the conffiles, the broker units
#     installed but not enabled, the APT hook registered, harmless when portbind fails, and
#     restoring a "portbind setcap" grant that an upgrade dropped;
#   * tests/packaging/smoke.sh as unprivileged users against /usr/bin/portbind and the
#     shipped /etc/portbind.conf, in fresh network namespaces with ip_unprivileged_port_start
#     pinned to 1024;
#   * libportbind-dev: launcher/client/example.c built against the installed header and
#     .pc and run against the installed library, asking "portbind serve" from the portbind
#     package for port 443 in a fresh network namespace: a member of group portbind gets a
#     listening socket, another user is refused;
#   * debian/tests/integration, the autopkgtest, from the tree the packages were built from
#     and with all three installed: the integration suite against /usr/bin/portbind and the
#     shipped layout, in capability mode and, switched through dpkg-statoverride and back, in
#     setuid mode; afterwards the installation (binary, capability, statoverrides, policy,
#     state directory) is as before and the suite's users and fixture are gone;
#   * remove, the setuid fallback where setcap fails (smoke test again in setuid mode),
#     reinstall and reconfigure, an administrator's dpkg-statoverride (kept, never removed);
#   * purge: the binary (and with it its capability), the conffiles, /etc/portbind.d, the
#     state directory /var/lib/portbind and systemd's record of the units are gone, an
#     administrator's own drop-in in /etc/portbind.d stays, and nothing else changed (files
#     where dpkg and the maintainer scripts act, file capabilities, statoverrides: see "the
#     snapshot" below), a portbind installed from source (/usr/local/bin/portbind and
#     /usr/local/etc/portbind.conf of the quick start) included.
#     The group portbind is kept on purge by design (debian/portbind.postrm says why); this
#     stage deletes it afterwards if it created it.
#
# It never touches an installation it did not make: it is skipped (exit 77) where one of the
# packages is known to dpkg, where any file the packages ship (or /etc/portbind.d,
# /var/lib/portbind) already exists, or where /usr/bin/portbind has a dpkg-statoverride, since
# installing and purging would replace or delete those (an administrator's /etc/portbind.conf
# above all). A run interrupted before its cleanup (killed at a ctest timeout) leaves a record
# in /run/portbind-packaging-check.state; the next run finishes that cleanup first, beginning
# with the integration suite's own (which puts back the policy and install mode it saved
# from the packages before they are purged). One run at a time per machine (flock; the
# integration suite also takes its own lock, /run/lock/portbind-integration.lock, inside this
# one).

# shellcheck disable=SC2016 # the bash -c scripts take their arguments as $1, $2...
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[[ $# == 1 ]] || bail "usage: install_smoke_purge.sh STATE_DIR"
state=$1
require_root_on_debian

# Machine-wide state (the packages, /etc, users): one run at a time. flock -o keeps the lock
# out of processes the script leaves behind.
if [[ -z ${PORTBIND_PACKAGING_LOCKED-} ]] && command -v flock >/dev/null; then
  PORTBIND_PACKAGING_LOCKED=1 exec flock -o /run/lock/portbind-packaging.lock bash "$0" "$@"
fi

require_tools apt-get:apt apt-config:apt dpkg-statoverride:dpkg getcap:libcap2-bin \
  setcap:libcap2-bin cc:gcc pkg-config:pkgconf ldd:libc-bin unshare:util-linux \
  setpriv:util-linux mount:mount ip:iproute2 ss:iproute2 sysctl:procps pkill:procps \
  python3:python3 useradd:passwd userdel:passwd groupdel:passwd timeout:coreutils \
  sha256sum:coreutils find:findutils
load_packages "$state"
# PB_SAVED: where an interrupted integration suite left what it must restore.
# shellcheck source=SCRIPTDIR/../integration/layout.bash
. "$here/../integration/layout.bash"

deb_bin=/usr/bin/portbind
run_record=/run/portbind-packaging-check.state
client=pbpkg_client
stranger=pbpkg_stranger
our_users=("$client" "$stranger" pbpkg_member pbpkg_other) # the last two: smoke.sh's
admin_dropin=/etc/portbind.d/50-packaging-check.conf
grant_target=/usr/local/bin/portbind-packaging-check
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)

# Whether dpkg has the package in any state but not-installed (config-files, half-installed...).
installed() {
  local status
  status=$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) &&
    [[ -n $status && $status != not-installed ]]
}
# dpkg_wait COMMAND...: runs a dpkg command (dpkg, dpkg-statoverride, dpkg-reconfigure),
# again while another dpkg or apt holds its lock, for up to 5 minutes; prints its output
# (stdout and stderr) and returns its status.
dpkg_wait() {
  local out rc i
  for ((i = 0; i < 300; i++)); do
    out=$("$@" 2>&1)
    rc=$?
    if ((rc == 0)) || ! grep -Eq 'lock(ed)? by another|is locked by another' <<<"$out"; then
      break
    fi
    sleep 1
  done
  [[ -z $out ]] || printf '%s\n' "$out"
  return "$rc"
}
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y \
    --no-install-recommends "$@" 2>&1
}

# ------------------------------------------------------------------ leaving no trace
# Everything this stage may have added, undone. Runs at exit, and at the start when an
# earlier run was interrupted (its record names what it had found).
undo() {
  local group_created=$1 p
  # The integration suite's cleanup, if it did not run: it restores into the installed
  # packages what it saved from them, so it goes before they are purged.
  if [[ -e $PB_SAVED ]] && ! bash "$here/../integration/cleanup.sh" >/dev/null 2>&1; then
    echo "# the integration suite's cleanup failed ($PB_SAVED is kept);" \
      "$run_record is kept for the next run to finish this cleanup"
    return 1
  fi
  for p in libportbind-dev libportbind0 portbind; do
    installed "$p" && dpkg_wait dpkg --purge "$p" >/dev/null
    if installed "$p"; then
      echo "# cannot purge $p; $run_record is kept for the next run to finish this cleanup"
      return 1
    fi
  done
  # Only an override this stage added: an administrator's makes the stage skip.
  if [[ -n $(dpkg-statoverride --list "$deb_bin") ]]; then
    dpkg_wait dpkg-statoverride --remove "$deb_bin" >/dev/null
  fi
  rm -f -- "$admin_dropin" "$grant_target"
  rmdir /etc/portbind.d 2>/dev/null
  for p in "${our_users[@]}"; do
    delete_user "$p"
  done
  if [[ $group_created == yes ]] && getent group portbind >/dev/null; then
    groupdel portbind
  fi
  rm -f -- "$run_record"
}

if [[ -f $run_record ]]; then
  echo "# an earlier run was interrupted; finishing its cleanup ($run_record)"
  old_tmp=$(sed -n 's/^work_tmp=//p' "$run_record")
  undo "$(sed -n 's/^group_created=//p' "$run_record")" || bail "cannot finish that cleanup"
  [[ $(basename "$old_tmp") == portbind-install.?????? ]] && rm -rf -- "$old_tmp"
fi

# ----------------------------------------------------------- refusing to overwrite
for p in portbind libportbind0 libportbind-dev; do
  if installed "$p"; then
    skip_all "the $p package is installed here ($(dpkg-query -W -f='${Status}' "$p")):" \
      "this stage installs and purges it; purge it first or run elsewhere"
  fi
done
shipped=$(for d in "$deb" "$lib_deb" "$dev_deb"; do dpkg-deb -c "$d"; done |
  awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }')
for f in $shipped /etc/portbind.d /var/lib/portbind "$grant_target"; do
  if [[ -e $f || -L $f ]]; then
    skip_all "$f exists but no portbind package is installed: installing and purging the" \
      "package would replace or delete it; move it away to run this stage"
  fi
done
if [[ -n $(dpkg-statoverride --list "$deb_bin") ]]; then
  skip_all "$deb_bin has a dpkg-statoverride ($(dpkg-statoverride --list "$deb_bin")):" \
    "this stage adds and removes its own; remove it to run this stage"
fi
for u in "${our_users[@]}"; do
  if getent passwd "$u" >/dev/null || getent group "$u" >/dev/null; then
    bail "the user or group $u exists; this stage creates and deletes it: remove it first"
  fi
done

work_tmp=$(mktemp -d -t portbind-install.XXXXXX) || bail "mktemp failed"
chmod 0755 "$work_tmp"
group_created=yes
getent group portbind >/dev/null && group_created=no
printf 'group_created=%s\nwork_tmp=%s\n' "$group_created" "$work_tmp" >"$run_record"
trap 'undo "$group_created"; rm -rf -- "$work_tmp"' EXIT

# ------------------------------------------------------------------- the snapshot
# What must be the same after a purge, everywhere dpkg and the maintainer scripts act:
#   * the entries (name, type, mode, owner) of /etc, /var/lib, /usr/local and of every
#     directory the packages ship files into and every one above it; everything under
#     /etc/portbind.d, /var/lib/portbind, /etc/apt, /etc/systemd, /var/lib/systemd,
#     /usr/local/bin, /usr/local/sbin and /usr/local/etc;
#   * the contents of the policy files, the APT configuration, /usr/local/etc and any
#     /usr/local/bin/*portbind*;
#   * the file capabilities in the bin directories and under /usr/local; the statoverrides.
# Not deeper elsewhere: other programs on the machine may change their own files meanwhile.
# Left out: what dpkg and apt keep for themselves, and the shadow suite's backup and lock
# files (useradd and userdel here, and elsewhere).
shipped_dirs=$(for f in $shipped; do
  while f=$(dirname "$f") && [[ $f != / ]]; do echo "$f"; done
done | sort -u)
snapshot() {
  # shellcheck disable=SC2086 # lists of directories
  {
    find /etc /var/lib /usr/local $shipped_dirs -mindepth 1 -maxdepth 1 \
      \( -path /var/lib/dpkg -o -path /var/lib/apt \) -prune -o -printf '%p %y %m %u %g\n' \
      2>/dev/null | grep -Ev '^/etc/(\.pwd\.lock|(passwd|group|shadow|gshadow|subuid|subgid)-) '
    find /etc/portbind.d /var/lib/portbind /etc/apt /etc/systemd /var/lib/systemd \
      /usr/local/bin /usr/local/sbin /usr/local/etc -printf '%p %y %m %u %g\n' 2>/dev/null
    find /etc/portbind.conf /etc/portbind.d /etc/apt /usr/local/etc -type f \
      -exec sha256sum {} + 2>/dev/null
    find /usr/local/bin -name '*portbind*' -type f -exec sha256sum {} + 2>/dev/null
    getcap -r /usr/bin /usr/sbin /bin /sbin /usr/local 2>/dev/null | sed 's/^/capability /'
    dpkg-statoverride --list | sed 's/^/statoverride /'
  } | sort -u
}
# The differences between two snapshots, minus files added meanwhile by some other
# package's installation (dpkg knows them): a removal, a change or an unowned file counts.
snapshot_diff() {
  local line path
  diff "$1" "$2" | grep '^[<>] ' | while IFS= read -r line; do
    path=${line:2}
    path=${path%% *}
    if [[ $line == '> '* && $path == /* ]] && dpkg -S "$path" >/dev/null 2>&1; then
      continue
    fi
    echo "$line"
  done
}
# The lines of a snapshot difference about the packages' own files and state.
ours_only() {
  SHIPPED=$shipped awk '
    BEGIN { n = split(ENVIRON["SHIPPED"], f, "\n"); for (i = 1; i <= n; i++) ours[f[i]] = 1 }
    {
      path = ($2 == "capability" || $2 == "statoverride") ? $3 : $2
      if ($2 == "statoverride") path = $NF
      if (path !~ /^\//) path = $3 # sha256sum: "HASH  PATH"
      if (path in ours || path ~ /^\/(etc\/portbind\.d|var\/lib\/portbind|usr\/share\/doc\/(lib)?portbind)(\/|$)/ ||
          path ~ /^\/var\/lib\/systemd\/deb-systemd-[^\/]*\/.*portbind/)
        print
    }'
}
snapshot >"$work_tmp/before"
# A portbind installed from source (the quick start) must keep its contents and capability.
local_portbind=()
for f in /usr/local/bin/portbind /usr/local/etc/portbind.conf; do
  [[ -e $f ]] && local_portbind+=("$f")
done
local_state() {
  local f
  for f in "${local_portbind[@]}"; do
    sha256sum "$f"
    getcap "$f"
  done
}
local_before=$(local_state)

# ----------------------------------------------------------- install: capability mode
out=$(apt_install "$deb")
rc=$?
check_eq 0 "$rc" "apt-get install ./$(basename "$deb") (runs the APT hook afterwards)"
[[ $rc == 0 ]] || bail "cannot install the package: $(tail -n 5 <<<"$out")"
check_eq "$deb_bin cap_net_bind_service=p" "$(getcap "$deb_bin")" "getcap: cap_net_bind_service=p"
check_eq "755 root root" "$(stat -c '%a %U %G' "$deb_bin")" "$deb_bin is 0755 root:root"
check_eq "" "$(dpkg-statoverride --list "$deb_bin")" "no dpkg-statoverride for $deb_bin"
check "no setuid-fallback record" test ! -e /var/lib/portbind/setuid-fallback
gid=$(getent group portbind | cut -d: -f3)
check "the system group portbind exists (gid $gid)" test -n "$gid" -a "${gid:-1000}" -lt 1000
check "/etc/portbind.d exists" test -d /etc/portbind.d
check_eq "" "$(find /etc/systemd/system -name 'portbind.*' 2>/dev/null)" \
  "the broker units are installed but not enabled"
check_eq "/etc/apt/apt.conf.d/80portbind /etc/portbind.conf" \
  "$(dpkg-query -W -f='${Conffiles}\n' portbind | awk 'NF { print $1 }' | sort | paste -sd' ' -)" \
  "dpkg registered the conffiles"
# shellcheck disable=SC2016 # bash -c takes its arguments as $1
check "$deb_bin --version runs" bash -c '"$1" --version >/dev/null' _ "$deb_bin"

hook=$(apt-config dump | grep -F "$deb_bin setcap reapply" | sed -n 's/^DPkg::Post-Invoke:: "\(.*\)";$/\1/p')
check "the APT hook is a DPkg::Post-Invoke command" test -n "$hook"
# The hook must never make apt fail, even when portbind fails: run it with a portbind that
# fails, bind-mounted over the real one in a private mount namespace.
printf '#!/bin/sh\necho "simulated failure" >&2\nexit 3\n' >"$work_tmp/failing-portbind"
chmod 0755 "$work_tmp/failing-portbind"
# shellcheck disable=SC2016 # sh -c takes its arguments as $1, $2
out=$(unshare -m -- sh -c 'mount --bind "$1" /usr/bin/portbind && sh -c "$2"' _ \
  "$work_tmp/failing-portbind" "$hook" 2>&1)
rc=$?
check_eq 0 "$rc" "the APT hook exits 0 when 'portbind setcap reapply' fails"
check "... and says so" grep -q 'portbind: setcap reapply failed' <<<"$out"
# End to end: a grant whose capability dpkg dropped (as when it upgrades the file) is back
# after the next apt run.
install -m 0755 /bin/true "$grant_target"
if out=$("$deb_bin" setcap grant "$grant_target" 2>&1); then
  setcap -r "$grant_target"
  apt_install --reinstall "$deb" >/dev/null
  check_eq "$grant_target cap_net_bind_service=ep" "$(getcap "$grant_target")" \
    "after the next apt run the APT hook restored a grant whose capability was dropped"
  "$deb_bin" setcap revoke "$grant_target" >/dev/null 2>&1
else
  not_ok "portbind setcap grant $grant_target"
  diag "$out"
fi
rm -f "$grant_target"

# ------------------------------------------------------------------- smoke test
if out=$(bash "$here/smoke.sh" "$deb_bin" 2>&1); then
  ok "smoke test in capability mode"
else
  not_ok "smoke test in capability mode"
fi
diag "$out"

# ------------------------------------------------------------------- libportbind
# With /usr/local hidden (an empty read-only tmpfs in a private mount namespace), so that a
# header, .pc or library installed there from a source build cannot stand in for the
# packages' (the compiler, pkg-config and ld.so all search /usr/local first).
without_usr_local() {
  # shellcheck disable=SC2016 # sh -c takes its arguments as $1, $2...
  unshare -m -- sh -c 'mount -t tmpfs -o ro,mode=0755 none /usr/local && exec "$@"' _ "$@"
}
out=$(dpkg_wait dpkg -i "$lib_deb" "$dev_deb")
check_eq 0 "$?" "dpkg -i libportbind0 libportbind-dev"
[[ -z $out ]] || diag "$out"
check_eq 0.1.0 "$(without_usr_local pkg-config --modversion portbind 2>&1)" \
  "pkg-config --modversion portbind"
example=$work_tmp/portbind-example
# shellcheck disable=SC2016 # the script takes its arguments as $1, $2
if out=$(without_usr_local bash -c 'cc -o "$2" "$1" $(pkg-config --cflags --libs portbind)' _ \
  "$work/src/launcher/client/example.c" "$example" 2>&1); then
  ok "launcher/client/example.c builds against the installed libportbind-dev"
  check_eq "error=22" "$(without_usr_local "$example" 65536 2>/dev/null)" \
    "it runs against the installed libportbind.so.0 and rejects port 65536"
  libs=$(without_usr_local ldd "$example")
  check "it is linked to the installed library" \
    grep -Eq "libportbind\.so\.0 => (/usr)?/lib/$multiarch/libportbind\.so\.0 " <<<"$libs"
  diag "$(grep libportbind <<<"$libs")"
else
  not_ok "launcher/client/example.c builds against the installed libportbind-dev"
  diag "$out"
fi
# The broker from the portbind package, serving the library from libportbind0, in a fresh
# network namespace: a member of group portbind gets a listening socket on 443 under the
# shipped policy; another user is refused.
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --user-group \
  --groups portbind "$client"
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --user-group "$stranger"
chmod 0755 "$example"
# shellcheck disable=SC2016 # the script takes its arguments as $1, $2...
out=$(without_usr_local timeout -k 5 60 unshare -n -- bash -c '
    ip link set lo up && sysctl -qw net.ipv4.ip_unprivileged_port_start=1024 || exit 98
    [[ $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start) == 1024 ]] || exit 98
    dir=$(mktemp -d /run/portbind-packaging.XXXXXX) && chmod 0755 "$dir" || exit 98
    trap '"'"'kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null; rm -rf "$dir"'"'"' EXIT
    /usr/bin/portbind serve --socket "$dir/broker.sock" --user nobody 2>"$dir/broker.err" &
    broker=$!
    for ((i = 0; i < 100; i++)); do [[ -S $dir/broker.sock ]] && break; sleep 0.05; done
    for u in "$1" "$2"; do
        echo "== $u"
        setpriv --reuid="$u" --regid="$u" --init-groups -- \
            env -i PORTBIND_SOCKET="$dir/broker.sock" "$3" --check 443 2>&1
        echo "exit=$?"
    done
    echo "== broker stderr"
    cat "$dir/broker.err"' _ "$client" "$stranger" "$example" 2>&1)
member_part=$(sed -n "/^== $client\$/,/^exit=/p" <<<"$out")
stranger_part=$(sed -n "/^== $stranger\$/,/^exit=/p" <<<"$out")
if grep -qx 'listening=1' <<<"$member_part" && grep -qx 'exit=0' <<<"$member_part"; then
  ok "broker: $client (group portbind) gets a listening socket on 443 through libportbind"
else
  not_ok "broker: $client (group portbind) gets a listening socket on 443 through libportbind"
  diag "$out"
fi
if grep -qx 'error=13' <<<"$stranger_part"; then
  ok "broker: $stranger is refused (EACCES)"
else
  not_ok "broker: $stranger is refused (EACCES)"
  diag "$out"
fi
for u in "$client" "$stranger"; do
  delete_user "$u"
done
check "the broker's test users are deleted" \
  bash -c '! getent passwd "$1" >/dev/null && ! getent passwd "$2" >/dev/null' _ "$client" "$stranger"

# ------------------------------------------------------------ the integration suite
# debian/tests/integration as autopkgtest runs it (from the source tree, a scratch
# AUTOPKGTEST_TMP), against the three packages installed here. It must leave them as it
# found them: it saves and restores the policy, and switches the binary's install mode only
# for the setuid cases.
installation_state() {
  getcap "$deb_bin"
  stat -c '%n %a %U %G' "$deb_bin"
  dpkg-statoverride --list
  find /etc/portbind.conf /etc/portbind.d /var/lib/portbind -printf '%p %y %m %u %g %T@\n' 2>/dev/null
  find /etc/portbind.conf /etc/portbind.d -type f -exec sha256sum {} + 2>/dev/null
  ls -d /opt/portbind-test 2>/dev/null
  getent passwd pb_alice pb_bob pb_carol
}
before=$(installation_state)
mkdir -m 0755 "$work_tmp/autopkgtest"
start=$SECONDS
out=$(cd "$work/src" && AUTOPKGTEST_TMP=$work_tmp/autopkgtest bash debian/tests/integration 2>&1)
rc=$?
check_eq 0 "$rc" "debian/tests/integration against the installed packages ($((SECONDS - start)) s)"
diag "$(grep -E '^# |tests passed|Total Test time|\*\*\*(Skipped|Failed)|^FAILED' <<<"$out")"
[[ $rc == 0 ]] || diag "$(tail -n 80 <<<"$out")"
check_eq "$before" "$(installation_state)" \
  "after the suite: binary, capability, statoverrides, policy and state as before, its users and fixture gone"
check "every case ran against $deb_bin in capability and in setuid mode" \
  grep -Eq "^# cases run against $deb_bin: caps ([0-9]+) of \\1, setuid \\1 of \\1\$" <<<"$out"

dpkg_wait dpkg --purge libportbind-dev libportbind0 >/dev/null
check "libportbind purged" bash -c '! ls /usr/lib/*/libportbind.so* >/dev/null 2>&1'

# ------------------------------------------------------------------------- remove
dpkg_wait dpkg --remove portbind >/dev/null
check "remove: $deb_bin is gone" test ! -e "$deb_bin"
check "remove: /etc/portbind.conf stays until purge" test -e /etc/portbind.conf
out=$(sh -c "$hook" 2>&1)
rc=$?
check_eq "0:" "$rc:$out" "the APT hook does nothing, silently, once portbind is removed"
dpkg_wait dpkg --purge portbind >/dev/null
check "purge after remove: /etc/portbind.conf is gone" test ! -e /etc/portbind.conf
check "purge after remove: /etc/portbind.d is gone" test ! -e /etc/portbind.d

# --------------------------------------------------- setuid fallback, upgrade, remove
# A setcap that fails the way it does on a file system without extended attributes.
mkdir "$work_tmp/fakebin"
cat >"$work_tmp/fakebin/setcap" <<'EOF'
#!/bin/sh
echo "Failed to set capabilities on file '$2' (Operation not supported)" >&2
exit 1
EOF
chmod 0755 "$work_tmp/fakebin/setcap"
out=$(PATH="$work_tmp/fakebin:$PATH" dpkg_wait dpkg -i "$deb")
check_eq 0 "$?" "install where setcap fails"
check "postinst says it made portbind setuid root" grep -q 'made it setuid root instead' <<<"$out"
check_eq "root root 4755 $deb_bin" "$(dpkg-statoverride --list "$deb_bin")" \
  "fallback: dpkg-statoverride root root 4755"
check_eq "4755 root root" "$(stat -c '%a %U %G' "$deb_bin")" "fallback: $deb_bin is 4755 root:root"
check_eq "" "$(getcap "$deb_bin")" "fallback: no file capability"
check "fallback: recorded in /var/lib/portbind/setuid-fallback" test -e /var/lib/portbind/setuid-fallback
if out=$(bash "$here/smoke.sh" "$deb_bin" 2>&1); then
  ok "smoke test in setuid mode"
else
  not_ok "smoke test in setuid mode"
fi
diag "$out"

# Reinstalling (an upgrade's configure) where setcap works replaces the fallback.
out=$(dpkg_wait dpkg -i "$deb")
check_eq 0 "$?" "reinstall where setcap works"
check_eq "$deb_bin cap_net_bind_service=p" "$(getcap "$deb_bin")" "reinstall: capability given"
check_eq "" "$(dpkg-statoverride --list "$deb_bin")" "reinstall: the fallback override is gone"
check_eq "755" "$(stat -c '%a' "$deb_bin")" "reinstall: $deb_bin is 0755 again"
check "reinstall: the fallback record is gone" test ! -e /var/lib/portbind/setuid-fallback

# Removing the package removes the fallback override it added.
PATH="$work_tmp/fakebin:$PATH" dpkg_wait dpkg-reconfigure portbind >/dev/null
check_eq "root root 4755 $deb_bin" "$(dpkg-statoverride --list "$deb_bin")" \
  "reconfigure where setcap fails: fallback again"
dpkg_wait dpkg --remove portbind >/dev/null
check_eq "" "$(dpkg-statoverride --list "$deb_bin")" "remove: the fallback override is gone"
check "remove: /var/lib/portbind is gone" test ! -e /var/lib/portbind
dpkg_wait dpkg --purge portbind >/dev/null

# ---------------------------------------------------- an administrator's statoverride
# Not setuid: kept as is, and the capability is given on top.
dpkg_wait dpkg-statoverride --add root portbind 750 "$deb_bin" >/dev/null
dpkg_wait dpkg -i "$deb" >/dev/null
check_eq "750 root portbind" "$(stat -c '%a %U %G' "$deb_bin")" \
  "admin override root portbind 750 is applied"
check_eq "$deb_bin cap_net_bind_service=p" "$(getcap "$deb_bin")" \
  "admin override 750: the capability is still given"
rc=0
# Through sh: setpriv itself still holds root's capabilities when it executes its command.
# shellcheck disable=SC2016 # sh -c takes its arguments as $1
setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c '"$1" --version' _ "$deb_bin" \
  >/dev/null 2>&1 || rc=$?
check "admin override 750: a user outside group portbind cannot run it" test "$rc" != 0
dpkg_wait dpkg --purge portbind >/dev/null
check_eq "root portbind 750 $deb_bin" "$(dpkg-statoverride --list "$deb_bin")" \
  "purge keeps the administrator's override"
dpkg_wait dpkg-statoverride --remove "$deb_bin" >/dev/null
# Setuid: setuid mode, nothing added.
dpkg_wait dpkg-statoverride --add root root 4755 "$deb_bin" >/dev/null
out=$(dpkg_wait dpkg -i "$deb")
check "admin setuid override: postinst keeps it" grep -q "keeping the administrator's" <<<"$out"
check_eq "4755" "$(stat -c '%a' "$deb_bin")" "admin setuid override: $deb_bin is 4755"
check_eq "" "$(getcap "$deb_bin")" "admin setuid override: no capability added"
check "admin setuid override: no fallback record" test ! -e /var/lib/portbind/setuid-fallback
dpkg_wait dpkg --purge portbind >/dev/null
check_eq "root root 4755 $deb_bin" "$(dpkg-statoverride --list "$deb_bin")" \
  "purge keeps the administrator's setuid override"
dpkg_wait dpkg-statoverride --remove "$deb_bin" >/dev/null

# ------------------------------------------------- purge keeps an administrator's file
dpkg_wait dpkg -i "$deb" >/dev/null
printf 'permit root port 25\n' >"$admin_dropin"
out=$(dpkg_wait dpkg --purge portbind)
check_eq 0 "$?" "dpkg --purge portbind, with an administrator's file in /etc/portbind.d"
check "purge: the administrator's $admin_dropin is kept" test -e "$admin_dropin"
rm -f "$admin_dropin"
rmdir /etc/portbind.d

# ------------------------------------------------------------------ purge, finally
snapshot >"$work_tmp/before-last"
out=$(apt_install "$deb")
check_eq 0 "$?" "apt-get install, once more"
install -m 0755 /bin/true "$grant_target"
"$deb_bin" setcap grant "$grant_target" >/dev/null 2>&1
check "a 'portbind setcap' record in /var/lib/portbind before the purge" \
  test -s /var/lib/portbind/setcap.registry
out=$(dpkg_wait dpkg --purge portbind)
check_eq 0 "$?" "dpkg --purge portbind"
diag "$out"
check "purge: $deb_bin and its capability are gone" test ! -e "$deb_bin"
check "purge: the conffile /etc/portbind.conf is gone" test ! -e /etc/portbind.conf
check "purge: the APT hook /etc/apt/apt.conf.d/80portbind is gone" test ! -e /etc/apt/apt.conf.d/80portbind
check "purge: /etc/portbind.d is gone" test ! -e /etc/portbind.d
check "purge: the state directory /var/lib/portbind is gone" test ! -e /var/lib/portbind
check "purge: systemd's record of the units is gone" \
  bash -c '! ls -d /var/lib/systemd/deb-systemd-*/*portbind* >/dev/null 2>&1'
check_eq "" "$(dpkg-statoverride --list "$deb_bin")" "purge: no statoverride left"
check "purge: dpkg no longer knows the package" bash -c '! dpkg-query -W portbind >/dev/null 2>&1'
check "purge: the group portbind is kept (debian/portbind.postrm, README.Debian)" \
  bash -c "getent group portbind >/dev/null"
rm -f "$grant_target" # the grant stays on its file by design (README.Debian); this one is ours
snapshot >"$work_tmp/after"
# Over the last install and purge (seconds, so that other programs hardly interfere), and
# over the whole stage for the packages' own files and state.
changed=$(snapshot_diff "$work_tmp/before-last" "$work_tmp/after")
check_eq "" "$changed" "install and purge changed nothing else (files, capabilities, statoverrides; see snapshot)"
changed=$(snapshot_diff "$work_tmp/before" "$work_tmp/after" | ours_only)
check_eq "" "$changed" "after the whole stage, nothing of the packages' is left (files, state, capabilities, statoverrides)"
if ((${#local_portbind[@]})); then
  check_eq "$local_before" "$(local_state)" \
    "purge: ${local_portbind[*]} (installed from source) kept contents and capability"
fi

finish
