#!/bin/bash
# Packaging stage (ctest: packaging.units), as root, after build.sh:
#
#   bash tests/packaging/units.sh STATE_DIR
#
# systemd-analyze verify, no error and no warning, on the units as packaged: the broker's
# portbind.socket and portbind.service, the examples app-portbind.service, app.socket,
# app.service and app-vendor.service with its drop-in, and what `portbind systemd-units`
# prints. verify checks that ExecStart= binaries exist, so it runs against a root
# holding the packaged /usr/bin/portbind, a stand-in /usr/bin/app and the system's units
# (for sysinit.target and friends), never against this machine's own /usr/bin.

# shellcheck disable=SC2016 # the bash -c scripts take their arguments as $1, $2...
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[[ $# == 1 ]] || bail "usage: units.sh STATE_DIR"
require_root_on_debian
require_tools systemd-analyze:systemd
[[ -d /lib/systemd/system ]] || bail "missing: /lib/systemd/system (systemd)"
load_packages "$1"

uroot=$(mktemp -d -t portbind-units.XXXXXX) || bail "mktemp failed"
trap 'rm -rf -- "$uroot"' EXIT

units=(app-portbind.service app.socket app.service app-vendor.service portbind.socket
  portbind.service)
mkdir -p "$uroot/usr/bin" "$uroot/etc/systemd/system" "$uroot/lib/systemd"
ln -s usr/bin "$uroot/bin"
cp -a /lib/systemd/system "$uroot/lib/systemd/"
install -m 0755 "$pkg_root/usr/bin/portbind" "$uroot/usr/bin/portbind"
install -m 0755 /bin/kill "$uroot/usr/bin/kill" # ExecReload= of portbind.service
printf '#!/bin/sh\nexit 0\n' >"$uroot/usr/bin/app"
chmod 0755 "$uroot/usr/bin/app"
for u in app-portbind.service app.socket app.service app-vendor.service \
  app-vendor.service.d/portbind.conf; do
  mkdir -p "$uroot/etc/systemd/system/$(dirname "$u")"
  cp "$pkg_root/usr/share/doc/portbind/examples/systemd/$u" "$uroot/etc/systemd/system/$u" ||
    bail "the package has no example unit $u"
done
cp "$pkg_root"/lib/systemd/system/portbind.{socket,service} "$uroot/etc/systemd/system/" ||
  bail "the package has no broker units"

# verify_clean DESC UNIT...: systemd-analyze verify on the UNITs in the root exits 0 and
# prints nothing (no error, no warning).
verify_clean() {
  local desc=$1 out rc
  shift
  out=$(systemd-analyze verify --man=no --root="$uroot" "$@" 2>&1)
  rc=$?
  if [[ $rc == 0 && -z $out ]]; then
    ok "$desc"
  else
    not_ok "$desc"
    diag "exit $rc: $out"
  fi
}

verify_clean "systemd-analyze verify ${units[*]}: no error, no warning" "${units[@]}"

# verify must see the units it was given: a unit it cannot load is an error, so an empty
# result above is not vacuous. Prove it once with a unit whose ExecStart= is missing.
printf '[Service]\nExecStart=/usr/bin/no-such-program\n' >"$uroot/etc/systemd/system/pb-broken.service"
out=$(systemd-analyze verify --man=no --root="$uroot" pb-broken.service 2>&1)
check "systemd-analyze verify fails on a unit whose ExecStart= is missing (not vacuous)" \
  test $? != 0 -a -n "$out"

# What `portbind systemd-units` prints (the packaged binary; two named sockets, one of them
# UDP on one address, and a user) passes verify as well, split into its files at its
# "# /etc/systemd/system/NAME" lines.
install -m 0755 /bin/true "$uroot/usr/bin/true"
gen=$("$pkg_root/usr/bin/portbind" systemd-units pbweb --port 443=https \
  --port 127.0.0.1:53/udp=dns --nonblock --user daemon -- /usr/bin/true 2>&1)
check "portbind systemd-units prints units" test $? == 0 -a -n "$gen"
mapfile -t generated < <(awk -v root="$uroot" '
  /^# \/etc\/systemd\/system\/[^\/]+$/ { file = root $2; print substr($2, 21); next }
  file != "" { print > file }' <<<"$gen")
check "it prints three units (two sockets, one service): ${generated[*]}" \
  test "${generated[*]}" == "pbweb-https.socket pbweb-dns.socket pbweb.service"
verify_clean "systemd-analyze verify on what systemd-units printed: no error, no warning" \
  "${generated[@]}"

# verify reads drop-ins too, so the one above was checked: a drop-in that names a missing
# program fails it.
mkdir "$uroot/etc/systemd/system/pb-probe.service.d"
printf '[Service]\nExecStart=/usr/bin/true\n' >"$uroot/etc/systemd/system/pb-probe.service"
printf '[Service]\nExecStart=\nExecStart=/usr/bin/no-such-program\n' \
  >"$uroot/etc/systemd/system/pb-probe.service.d/broken.conf"
out=$(systemd-analyze verify --man=no --root="$uroot" pb-probe.service 2>&1)
check "systemd-analyze verify fails on a drop-in whose ExecStart= is missing (drop-ins are read)" \
  test $? != 0 -a -n "$out"
check "the drop-in clears the packaged command and runs it under portbind, as user app" \
  bash -c 'grep -qx "User=app" "$1" && grep -qx "ExecStart=" "$1" &&
    grep -qx "ExecStart=/usr/bin/portbind --port 443 -- /usr/bin/app --listen \[::\]:443" "$1" &&
    grep -qx "ExecStart=/usr/bin/app --listen \[::\]:443" "$2"' _ \
  "$uroot/etc/systemd/system/app-vendor.service.d/portbind.conf" \
  "$uroot/etc/systemd/system/app-vendor.service"

check "app-portbind.service does not set NoNewPrivileges (portbind would get no privilege)" \
  bash -c '! grep -Eiq "^NoNewPrivileges=(yes|true|on|1)" "$1"' _ "$uroot/etc/systemd/system/app-portbind.service"
check "the broker's ExecStart= runs the packaged /usr/bin/portbind" \
  grep -Eq '^ExecStart=/usr/bin/portbind serve' "$uroot/etc/systemd/system/portbind.service"

finish
