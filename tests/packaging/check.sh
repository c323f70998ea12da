#!/bin/bash
# Packaging check, as root (exit 77 = skipped otherwise):
#
#   bash tests/packaging/check.sh [SRC_DIR]        (default: this checkout)
#
# Builds the Debian package from a copy of the tree (the tree itself stays clean), as an
# unprivileged user (Rules-Requires-Root: no), and checks
#   * lintian: no error and no warning;
#   * the binary is hardened (PIE, full RELRO, bind-now, stack protector, fortify, no
#     RPATH/RUNPATH) although the build's own hardening flags are off;
#   * mandoc -Tlint -W warning on every man page;
#   * the SELinux module compiles;
#   * systemd-analyze verify on the example units and the broker units, against a root
#     holding the packaged /usr/bin/portbind and a stand-in /usr/bin/app;
#   * the bash completion as packaged (tests/packaging/completion_test.sh);
#   * the packages' contents and conffiles (portbind, libportbind0, libportbind-dev);
# then installs portbind with apt and checks the capability mode (getcap, no statoverride,
# group portbind, broker units installed but not enabled, APT hook registered and
# harmless), runs tests/packaging/smoke.sh, builds launcher/client/example.c against the
# installed libportbind-dev and runs it against the installed library, exercises
# the setuid fallback (a setcap that fails as on a file system without xattrs) and an
# administrator's own dpkg-statoverride, and checks that purge removes the binary, the
# conffiles and what postinst added, and keeps the group and an administrator's drop-in.
#
# Refuses (exit 77) to run where portbind is already installed as a package, since it
# installs and purges it. Leaves the system as it found it.

# shellcheck disable=SC2016 # the bash -c/sh -c scripts take their arguments as $1, $2...
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "${1:-$here/../..}" && pwd)
deb_bin=/usr/bin/portbind
builder=nobody

if [[ $(id -u) != 0 ]]; then
  echo "1..0 # SKIP the packaging check needs root (it installs and purges the package)"
  exit 77
fi
for p in portbind libportbind0 libportbind-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed\|config-files\|half'; then
    echo "1..0 # SKIP the $p package is installed here; this check would purge it"
    exit 77
  fi
done

tests=0
failed=0
ok() {
  tests=$((tests + 1))
  echo "ok $tests - $*"
}
not_ok() {
  tests=$((tests + 1))
  failed=$((failed + 1))
  echo "not ok $tests - $*"
}
diag() { sed 's/^/#   /' <<<"$*"; }
check() {
  local desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
# check_eq EXPECTED ACTUAL DESCRIPTION
check_eq() {
  if [[ $1 == "$2" ]]; then
    ok "$3"
  else
    not_ok "$3"
    diag "expected: '$1'"
    diag "actual:   '$2'"
  fi
}
bail() {
  echo "Bail out! $*"
  exit 1
}

missing=
for tool in dpkg-buildpackage dpkg-deb lintian mandoc systemd-analyze readelf make python3 \
  setpriv unshare apt-get apt-config getcap dpkg-statoverride cc pkg-config ldd; do
  command -v "$tool" >/dev/null || missing+=" $tool"
done
[[ -r /usr/share/selinux/devel/Makefile ]] || missing+=" selinux-policy-dev"
[[ -r /usr/share/bash-completion/bash_completion ]] || missing+=" bash-completion"
[[ -z $missing ]] || bail "missing:$missing (apt-get build-dep installs them: see debian/control)"
getent passwd "$builder" >/dev/null || bail "no user '$builder' to build the package as"

work=$(mktemp -d /tmp/portbind-pkgcheck.XXXXXX)
group_existed=no
getent group portbind >/dev/null && group_existed=yes
added_overrides=()
grant_target=/usr/local/bin/portbind-pkgcheck-$$
client=pbpkg_client
stranger=pbpkg_stranger

cleanup() {
  local p
  set +e
  for p in libportbind-dev libportbind0 portbind; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed\|config-files\|half'; then
      dpkg --purge "$p" >/dev/null 2>&1
    fi
  done
  for p in "${added_overrides[@]}"; do
    dpkg-statoverride --remove "$p" >/dev/null 2>&1
  done
  rm -f /etc/portbind.d/50-admin-test.conf "$grant_target"
  for p in "$client" "$stranger"; do
    if getent passwd "$p" >/dev/null; then
      pkill -KILL -u "$p"
      userdel "$p"
    fi
    if getent group "$p" >/dev/null; then groupdel "$p"; fi
  done
  rmdir /etc/portbind.d 2>/dev/null
  if [[ $group_existed == no ]] && getent group portbind >/dev/null; then
    groupdel portbind
  fi
  rm -rf -- "$work"
}
trap cleanup EXIT

# ------------------------------------------------------------------- copy and build
# The files of the tree: git's list (tracked, and untracked but not ignored) when SRC_DIR
# is a checkout, else everything but build output.
mkdir "$work/src"
if command -v git >/dev/null && git -C "$src" rev-parse --show-toplevel >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -C "$work/src" -xf -
else
  tar -C "$src" --exclude=./build --exclude='./obj-*' --exclude=./.git \
    --exclude=./debian/tmp --exclude=./debian/portbind --exclude='./debian/libportbind*' \
    --exclude=./debian/.debhelper --exclude=./debian/files --exclude='./debian/*.substvars' \
    --exclude=./debian/debhelper-build-stamp --exclude=./selinux/tmp \
    --exclude='./selinux/*.pp' -cf - . |
    tar -C "$work/src" -xf -
fi
[[ -f $work/src/debian/control ]] || bail "copying $src failed"
mkdir "$work/home"
chown -R "$builder" "$work"

echo "# building the package from a copy of $src as $builder"
start=$SECONDS
if setpriv --reuid="$builder" --regid="$(id -g "$builder")" --clear-groups -- \
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$work/home" LANG=C.UTF-8 \
  DEB_BUILD_OPTIONS="parallel=$(nproc)" \
  bash -c 'cd "$1" && dpkg-buildpackage -us -uc -b' build "$work/src" \
  >"$work/build.log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b as $builder ($((SECONDS - start)) s)"
else
  not_ok "dpkg-buildpackage -us -uc -b as $builder"
  diag "$(tail -n 40 "$work/build.log")"
  exit 1
fi
deb=$(ls "$work"/portbind_*.deb)
lib_deb=$(ls "$work"/libportbind0_*.deb)
dev_deb=$(ls "$work"/libportbind-dev_*.deb)
changes=$(ls "$work"/portbind_*.changes)
[[ -f $deb && -f $lib_deb && -f $dev_deb && -f $changes ]] ||
  bail "missing .deb/.changes in $work: $(ls "$work")"
check "the unit tests ran during the build" grep -q 'tests passed' "$work/build.log"
if grep -q 'integration\.' "$work/build.log"; then
  not_ok "no integration test ran during the build"
  diag "$(grep 'integration\.' "$work/build.log" | head -n 5)"
else
  ok "no integration test ran during the build"
fi

# ----------------------------------------------------------------------- lintian
lint=$(setpriv --reuid="$builder" --regid="$(id -g "$builder")" --clear-groups -- \
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$work/home" LANG=C.UTF-8 \
  lintian --tag-display-limit 0 "$changes" 2>&1)
if grep -Eq '^[EW]: ' <<<"$lint"; then
  not_ok "lintian reports no error and no warning"
  diag "$lint"
else
  ok "lintian reports no error and no warning"
  [[ -z $lint ]] || diag "$lint"
fi

# ------------------------------------------------------------------ the package
mkdir "$work/root"
dpkg-deb -x "$deb" "$work/root"
contents=$(dpkg-deb -c "$deb")
check_eq "-rwxr-xr-x root/root" "$(awk '$6 == "./usr/bin/portbind" { print $1, $2 }' <<<"$contents")" \
  "usr/bin/portbind is shipped 0755 root:root (privilege is added by postinst)"
for f in ./etc/portbind.conf ./etc/portbind.d/ ./etc/apt/apt.conf.d/80portbind \
  ./usr/share/bash-completion/completions/portbind \
  ./usr/share/doc/portbind/examples/portbind.conf \
  ./usr/share/doc/portbind/examples/systemd/app-portbind.service \
  ./usr/share/doc/portbind/examples/systemd/app.socket \
  ./usr/share/doc/portbind/examples/systemd/app.service \
  ./usr/share/doc/portbind/selinux/portbind.te ./usr/share/doc/portbind/README.Debian.gz \
  ./lib/systemd/system/portbind.socket ./lib/systemd/system/portbind.service \
  ./usr/share/man/man8/portbind-serve.8.gz ./usr/share/man/man8/portbind-setcap.8.gz; do
  check "the package ships ${f#.}" grep -q " $f\$" <<<"$contents"
done
conffiles=$(dpkg-deb -I "$deb" conffiles 2>/dev/null | sort | paste -sd' ' -)
check_eq "/etc/apt/apt.conf.d/80portbind /etc/portbind.conf" "$conffiles" "the conffiles"
lib_contents=$(dpkg-deb -c "$lib_deb")
check "libportbind0 ships the shared library and nothing for development" \
  bash -c 'grep -q "/libportbind\.so\.0 -> " <<<"$1" && ! grep -Eq "\.so$|\.h$|\.pc$" <<<"$1"' _ "$lib_contents"
dev_contents=$(dpkg-deb -c "$dev_deb")
for f in /usr/include/portbind.h /libportbind.so /pkgconfig/portbind.pc /man3/portbind_bind.3.gz; do
  check "libportbind-dev ships ...$f" grep -q -- "$f" <<<"$dev_contents"
done
check "the shipped policy has the active rule 'permit :portbind port 80,443'" \
  grep -qx 'permit :portbind port 80,443' "$work/root/etc/portbind.conf"

# ---------------------------------------------------------------------- hardening
bin=$work/root/usr/bin/portbind
elf_header=$(readelf -h "$bin")
dynamic=$(readelf -d "$bin")
segments=$(readelf -lW "$bin")
symbols=$(readelf --dyn-syms -W "$bin")
check "PIE" grep -q 'Type:.*DYN' <<<"$elf_header"
check "PIE flag set" grep -q 'FLAGS_1.*PIE' <<<"$dynamic"
check "full RELRO: GNU_RELRO segment" grep -q GNU_RELRO <<<"$segments"
check "full RELRO: bind now" grep -Eq 'BIND_NOW|FLAGS_1.*NOW' <<<"$dynamic"
check "stack protector (__stack_chk_fail)" grep -q __stack_chk_fail <<<"$symbols"
check "fortify source (*_chk functions)" grep -Eq '__[a-z_]+_chk\b' <<<"$symbols"
check "no RPATH/RUNPATH" bash -c '! grep -Eq "RPATH|RUNPATH" <<<"$1"' _ "$dynamic"
check "no executable stack" bash -c 'grep -q "GNU_STACK.* RW " <<<"$1"' _ "$segments"
if command -v hardening-check >/dev/null; then
  # --nocfprotection: bookworm's C runtime objects carry no IBT/SHSTK property, so no
  # binary linked on bookworm has the note hardening-check looks for.
  if hc=$(hardening-check --nocfprotection "$bin" 2>&1); then
    ok "hardening-check finds nothing missing"
  else
    not_ok "hardening-check finds nothing missing"
  fi
  diag "$hc"
fi

# -------------------------------------------------------------------- man pages
for page in "$work"/src/man/*.[1-8]; do
  out=$(mandoc -Tlint -W warning "$page" 2>&1)
  if [[ $? == 0 && -z $out ]]; then
    ok "mandoc -Tlint -W warning $(basename "$page")"
  else
    not_ok "mandoc -Tlint -W warning $(basename "$page")"
    diag "$out"
  fi
done

# ---------------------------------------------------------------------- SELinux
mkdir "$work/selinux"
cp "$work"/src/selinux/portbind.{te,if,fc} "$work/selinux/"
if out=$(make -C "$work/selinux" -f /usr/share/selinux/devel/Makefile NAME=default \
  portbind.pp 2>&1) && [[ -s $work/selinux/portbind.pp ]]; then
  ok "the SELinux module compiles (portbind.pp)"
else
  not_ok "the SELinux module compiles (portbind.pp)"
  diag "$out"
fi

# ---------------------------------------------------------------- systemd units
# verify checks that ExecStart= binaries exist: give it a root with the packaged portbind,
# a stand-in application and the system's units (for sysinit.target and friends).
units=(app-portbind.service app.socket app.service portbind.socket portbind.service)
uroot=$work/unitroot
mkdir -p "$uroot/usr/bin" "$uroot/etc/systemd/system" "$uroot/lib/systemd"
ln -s usr/bin "$uroot/bin"
cp -a /lib/systemd/system "$uroot/lib/systemd/"
install -m 0755 "$bin" "$uroot/usr/bin/portbind"
install -m 0755 /bin/kill "$uroot/usr/bin/kill" # ExecReload= of portbind.service
printf '#!/bin/sh\nexit 0\n' >"$uroot/usr/bin/app"
chmod 0755 "$uroot/usr/bin/app"
for u in app-portbind.service app.socket app.service; do
  cp "$work/root/usr/share/doc/portbind/examples/systemd/$u" "$uroot/etc/systemd/system/"
done
cp "$work"/root/lib/systemd/system/portbind.{socket,service} "$uroot/etc/systemd/system/"
out=$(systemd-analyze verify --man=no --root="$uroot" "${units[@]}" 2>&1)
rc=$?
if [[ $rc == 0 && -z $out ]]; then
  ok "systemd-analyze verify ${units[*]}: no error, no warning"
else
  not_ok "systemd-analyze verify ${units[*]}: no error, no warning"
  diag "exit $rc: $out"
fi
check "app-portbind.service does not set NoNewPrivileges" \
  bash -c '! grep -Eiq "^NoNewPrivileges=(yes|true|on|1)" "$1"' _ "$uroot/etc/systemd/system/app-portbind.service"

# ------------------------------------------------------------- bash completion
if out=$(bash "$here/completion_test.sh" "$work/root/usr/share/bash-completion/completions/portbind" 2>&1); then
  ok "the packaged bash completion passes completion_test.sh"
else
  not_ok "the packaged bash completion passes completion_test.sh"
  diag "$(grep -v '^ok' <<<"$out")"
fi

# --------------------------------------------------------- install: capability mode
chmod 0755 "$work"
out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb" 2>&1)
rc=$?
check_eq 0 "$rc" "apt-get install ./portbind_*.deb (runs the APT hook afterwards)"
[[ $rc == 0 ]] || diag "$out"
check_eq "$deb_bin cap_net_bind_service=p" "$(getcap "$deb_bin")" "getcap: cap_net_bind_service=p"
check_eq "755 root root" "$(stat -c '%a %U %G' "$deb_bin")" "$deb_bin is 0755 root:root"
check_eq "" "$(dpkg-statoverride --list "$deb_bin")" "no dpkg-statoverride for $deb_bin"
check "no setuid-fallback record" test ! -e /var/lib/portbind/setuid-fallback
gid=$(getent group portbind | cut -d: -f3)
check "the system group portbind exists (gid $gid)" test -n "$gid" -a "${gid:-1000}" -lt 1000
check "/etc/portbind.d exists" test -d /etc/portbind.d
enabled=$(find /etc/systemd/system -name 'portbind.*' 2>/dev/null)
check_eq "" "$enabled" "the broker units are installed but not enabled"
check_eq "/etc/apt/apt.conf.d/80portbind /etc/portbind.conf" \
  "$(dpkg-query -W -f='${Conffiles}\n' portbind | awk 'NF { print $1 }' | sort | paste -sd' ' -)" \
  "dpkg registered the conffiles"

hook=$(apt-config dump | grep -F '/usr/bin/portbind setcap reapply' | sed -n 's/^DPkg::Post-Invoke:: "\(.*\)";$/\1/p')
check "the APT hook is a DPkg::Post-Invoke command" test -n "$hook"
# The hook must never make apt fail, even when portbind fails: run it with a portbind that
# fails, bind-mounted over the real one in a private mount namespace.
printf '#!/bin/sh\necho "simulated failure" >&2\nexit 3\n' >"$work/failing-portbind"
chmod 0755 "$work/failing-portbind"
out=$(unshare -m -- sh -c 'mount --bind "$1" /usr/bin/portbind && sh -c "$2"' _ \
  "$work/failing-portbind" "$hook" 2>&1)
rc=$?
check_eq 0 "$rc" "the APT hook exits 0 when 'portbind setcap reapply' fails"
check "... and says so" grep -q 'portbind: setcap reapply failed' <<<"$out"
# End to end: a grant whose capability dpkg dropped (as when it upgrades the file) is back
# after the next apt run.
install -m 0755 /bin/true "$grant_target"
if out=$(portbind setcap grant "$grant_target" 2>&1); then
  setcap -r "$grant_target"
  DEBIAN_FRONTEND=noninteractive apt-get install --reinstall -y "$deb" >/dev/null 2>&1
  check_eq "$grant_target cap_net_bind_service=ep" "$(getcap "$grant_target")" \
    "after the next apt run the APT hook restored a grant whose capability was dropped"
  portbind setcap revoke "$grant_target" >/dev/null 2>&1
else
  not_ok "portbind setcap grant $grant_target"
  diag "$out"
fi
rm -f "$grant_target"

# ------------------------------------------------------------------ smoke test
if out=$(bash "$here/smoke.sh" "$deb_bin" 2>&1); then
  ok "smoke test in capability mode"
else
  not_ok "smoke test in capability mode"
fi
diag "$out"

# ------------------------------------------------------------------ libportbind
# A program built against the installed development package, run against the installed
# library: a spec it must reject without a broker (EINVAL = 22).
out=$(dpkg -i "$lib_deb" "$dev_deb" 2>&1)
check_eq 0 "$?" "dpkg -i libportbind0 libportbind-dev"
check_eq 0.1.0 "$(pkg-config --modversion portbind 2>&1)" "pkg-config --modversion portbind"
# shellcheck disable=SC2046 # pkg-config prints a list of flags
if out=$(cc -o "$work/portbind-example" "$work/src/launcher/client/example.c" \
  $(pkg-config --cflags --libs portbind) 2>&1); then
  ok "launcher/client/example.c builds against the installed libportbind-dev"
  check_eq "error=22" "$("$work/portbind-example" 65536 2>/dev/null)" \
    "it runs against the installed libportbind.so.0 and rejects port 65536"
  check "it is linked to the installed library" \
    bash -c 'ldd "$1" | grep -Eq "libportbind\.so\.0 => (/usr)?/lib/[^ ]*/libportbind\.so\.0 "' _ "$work/portbind-example"
else
  not_ok "launcher/client/example.c builds against the installed libportbind-dev"
  diag "$out"
fi
# The broker from the portbind package, serving the library from libportbind0, in a fresh
# network namespace: a member of group portbind gets a listening socket on 443 under the
# shipped policy; another user is refused.
for u in "$client" "$stranger"; do
  if getent passwd "$u" >/dev/null; then bail "user $u already exists"; fi
done
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --user-group \
  --groups portbind "$client"
useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin --user-group "$stranger"
chmod 0755 "$work/portbind-example"
out=$(timeout -k 5 60 unshare -n -- bash -c '
    ip link set lo up && sysctl -qw net.ipv4.ip_unprivileged_port_start=1024 || exit 98
    dir=$(mktemp -d /run/portbind-pkgcheck.XXXXXX) && chmod 0755 "$dir" || exit 98
    trap '"'"'kill "$broker" 2>/dev/null; wait "$broker" 2>/dev/null; rm -rf "$dir"'"'"' EXIT
    /usr/bin/portbind serve --socket "$dir/broker.sock" --user nobody 2>"$dir/broker.err" &
    broker=$!
    for ((i = 0; i < 100; i++)); do [[ -S $dir/broker.sock ]] && break; sleep 0.05; done
    for u in "$1" "$2"; do
        echo "== $u"
        setpriv --reuid="$u" --regid="$u" --init-groups -- \
            env -i PORTBIND_SOCKET="$dir/broker.sock" "$3" --check 443 2>&1
        echo "exit=$?"
    done' _ "$client" "$stranger" "$work/portbind-example" 2>&1)
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
dpkg --purge libportbind-dev libportbind0 >/dev/null 2>&1
check "libportbind purged" bash -c '! ls /usr/lib/*/libportbind.so* >/dev/null 2>&1'

# -------------------------------------------------------------------- remove
dpkg --remove portbind >/dev/null 2>&1
check "remove: $deb_bin is gone" test ! -e "$deb_bin"
check "remove: /etc/portbind.conf stays until purge" test -e /etc/portbind.conf
out=$(sh -c "$hook" 2>&1)
rc=$?
check_eq "0:" "$rc:$out" "the APT hook does nothing, silently, once portbind is removed"

# --------------------------------------------------- setuid fallback, upgrade, remove
# A setcap that fails the way it does on a file system without extended attributes.
mkdir "$work/fakebin"
cat >"$work/fakebin/setcap" <<'EOF'
#!/bin/sh
echo "Failed to set capabilities on file '$2' (Operation not supported)" >&2
exit 1
EOF
chmod 0755 "$work/fakebin/setcap"
dpkg --purge portbind >/dev/null 2>&1
out=$(PATH="$work/fakebin:$PATH" dpkg -i "$deb" 2>&1)
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
out=$(dpkg -i "$deb" 2>&1)
check_eq 0 "$?" "reinstall where setcap works"
check_eq "$deb_bin cap_net_bind_service=p" "$(getcap "$deb_bin")" "reinstall: capability given"
check_eq "" "$(dpkg-statoverride --list "$deb_bin")" "reinstall: the fallback override is gone"
check_eq "755" "$(stat -c '%a' "$deb_bin")" "reinstall: $deb_bin is 0755 again"
check "reinstall: the fallback record is gone" test ! -e /var/lib/portbind/setuid-fallback

# Removing the package removes the fallback override it added.
PATH="$work/fakebin:$PATH" dpkg-reconfigure portbind >/dev/null 2>&1
check_eq "root root 4755 $deb_bin" "$(dpkg-statoverride --list "$deb_bin")" \
  "reconfigure where setcap fails: fallback again"
dpkg --remove portbind >/dev/null 2>&1
check_eq "" "$(dpkg-statoverride --list "$deb_bin")" "remove: the fallback override is gone"
check "remove: /var/lib/portbind is gone" test ! -e /var/lib/portbind
dpkg --purge portbind >/dev/null 2>&1

# ------------------------------------------------ an administrator's statoverride
# Not setuid: kept as is, and the capability is given on top.
dpkg-statoverride --add root portbind 750 "$deb_bin" && added_overrides+=("$deb_bin")
dpkg -i "$deb" >/dev/null 2>&1
check_eq "750 root portbind" "$(stat -c '%a %U %G' "$deb_bin")" \
  "admin override root portbind 750 is applied"
check_eq "$deb_bin cap_net_bind_service=p" "$(getcap "$deb_bin")" \
  "admin override 750: the capability is still given"
rc=0
# Through sh: setpriv itself still holds root's capabilities when it executes its command.
setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c '"$1" --version' _ "$deb_bin" \
  >/dev/null 2>&1 || rc=$?
check "admin override 750: a user outside group portbind cannot run it" test "$rc" != 0
dpkg --purge portbind >/dev/null 2>&1
check_eq "root portbind 750 $deb_bin" "$(dpkg-statoverride --list "$deb_bin")" \
  "purge keeps the administrator's override"
dpkg-statoverride --remove "$deb_bin"
# Setuid: setuid mode, nothing added.
dpkg-statoverride --add root root 4755 "$deb_bin"
out=$(dpkg -i "$deb" 2>&1)
check "admin setuid override: postinst keeps it" grep -q "keeping the administrator's" <<<"$out"
check_eq "4755" "$(stat -c '%a' "$deb_bin")" "admin setuid override: $deb_bin is 4755"
check_eq "" "$(getcap "$deb_bin")" "admin setuid override: no capability added"
check "admin setuid override: no fallback record" test ! -e /var/lib/portbind/setuid-fallback
dpkg --purge portbind >/dev/null 2>&1
check_eq "root root 4755 $deb_bin" "$(dpkg-statoverride --list "$deb_bin")" \
  "purge keeps the administrator's setuid override"
dpkg-statoverride --remove "$deb_bin"
added_overrides=()

# ----------------------------------------------------------------------- purge
dpkg -i "$deb" >/dev/null 2>&1
printf 'permit root port 25\n' >/etc/portbind.d/50-admin-test.conf
out=$(dpkg --purge portbind 2>&1)
check_eq 0 "$?" "dpkg --purge portbind"
check "purge: $deb_bin is gone" test ! -e "$deb_bin"
check "purge: the conffile /etc/portbind.conf is gone" test ! -e /etc/portbind.conf
check "purge: the APT hook is gone" test ! -e /etc/apt/apt.conf.d/80portbind
check "purge: /var/lib/portbind is gone" test ! -e /var/lib/portbind
check_eq "" "$(dpkg-statoverride --list "$deb_bin")" "purge: no statoverride left"
check "purge: the administrator's /etc/portbind.d/50-admin-test.conf is kept" \
  test -e /etc/portbind.d/50-admin-test.conf
check "purge: the group portbind is kept (see README.Debian)" bash -c "getent group portbind >/dev/null"
check "purge: dpkg no longer knows the package" \
  bash -c '! dpkg-query -W -f="\${Status}" portbind 2>/dev/null | grep -q installed'

echo "1..$tests"
if ((failed)); then
  echo "# $failed of $tests failed"
  exit 1
fi
