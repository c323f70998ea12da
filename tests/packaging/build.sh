#!/bin/bash
# Packaging stage 1 (ctest: packaging.build), as root:
#
#   bash tests/packaging/build.sh STATE_DIR [SRC_DIR]      (default: this checkout)
#
# Builds the Debian packages with "dpkg-buildpackage -us -uc -b" from a copy of the tree in
# a new work directory (the tree itself stays clean: the build writes ../*.deb and debian/
# build directories), as the unprivileged user nobody (Rules-Requires-Root: no), and writes
# the work directory's path to STATE_DIR/workdir for the later stages (see lib.sh).
#
# The build runs with DEB_BUILD_OPTIONS=nocheck and the nocheck build profile: the package's
# own test run (debian/rules: the tests labelled "unit") is part of the normal test run
# already, and this stage is itself a test of that run; the nocheck build also proves the
# package builds without the test-only Build-Depends path (-DBUILD_TESTING=OFF).
#
# Once the build is done the work directory becomes root-owned, so nothing running as nobody
# can change the packages that a later stage installs as root.

# shellcheck disable=SC2016 # the bash -c scripts take their arguments as $1, $2...
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[[ $# -ge 1 ]] || bail "usage: build.sh STATE_DIR [SRC_DIR]"
state=$1
src=$(cd "${2:-$here/../..}" && pwd)

require_root_on_debian
require_tools dpkg-deb:dpkg dh:debhelper setpriv:util-linux tar:tar
getent passwd "$pkg_builder" >/dev/null || bail "no user '$pkg_builder' to build the package as"
[[ -f $src/debian/control ]] || bail "$src has no debian/control"

# A previous run's work directory, if its cleanup never ran.
mkdir -p "$state"
bash "$here/cleanup.sh" "$state" >/dev/null
work=$(mktemp -d -t portbind-packaging.XXXXXX) || bail "mktemp failed"
chmod 0755 "$work"

# ------------------------------------------------------------------------- the copy
# The files of the tree: git's list (tracked, and untracked but not ignored) when SRC_DIR is
# a checkout, else everything but build output.
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
[[ -f $work/src/debian/control ]] || bail "copying $src to $work/src failed"
mkdir "$work/home"
chown -R "$pkg_builder" "$work"

# ------------------------------------------------------------------------ the build
echo "# building the packages from a copy of $src in $work as $pkg_builder (nocheck)"
start=$SECONDS
if as_builder "$work/home" DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
  DEB_BUILD_PROFILES=nocheck bash -c 'cd "$1" && dpkg-buildpackage -us -uc -b' build \
  "$work/src" >"$work/build.log" 2>&1; then
  ok "dpkg-buildpackage -us -uc -b as $pkg_builder ($((SECONDS - start)) s)"
else
  chown -R root:root "$work"
  not_ok "dpkg-buildpackage -us -uc -b as $pkg_builder"
  diag "$(tail -n 40 "$work/build.log")"
  rm -rf -- "$work"
  finish
fi
chown -R root:root "$work"

deb=$(echo "$work"/portbind_*.deb)
check "the build made portbind, libportbind0, libportbind-dev and the .changes" \
  test -f "$deb" -a -f "$(echo "$work"/libportbind0_*.deb)" \
  -a -f "$(echo "$work"/libportbind-dev_*.deb)" -a -f "$(echo "$work"/portbind_*.changes)"
check "the nocheck build ran no test" bash -c '! grep -Eq "^ *(Start|Test) +#?[0-9]+:" "$1"' _ \
  "$work/build.log"

mkdir "$work/root"
if dpkg-deb -x "$deb" "$work/root"; then
  ok "dpkg-deb -x $(basename "$deb")"
else
  not_ok "dpkg-deb -x $(basename "$deb")"
fi

if ((${#pkg_failures[@]})); then
  rm -rf -- "$work"
else
  echo "$work" >"$state/workdir"
  echo "# work directory: $work"
fi
finish
