# Shared by the packaging stages (sourced, not run): TAP output, preconditions, and where a
# stage finds the packages that build.sh made.
#
# Every stage prints TAP and exits 0 when all its checks passed, 1 when one failed (its
# last line names what failed), 77 when it cannot apply here (skipped: not root, not a
# Debian system, or the packages were not built).
#
# The stages share one work directory, made by build.sh in TMPDIR (default /tmp), whose
# path it writes to STATE_DIR/workdir:
#   WORK/src/                 the copy of the tree the packages were built from
#   WORK/*.deb, *.changes     the build's output (root-owned once the build is done)
#   WORK/root/                the portbind package unpacked (dpkg-deb -x)
#   WORK/build.log            dpkg-buildpackage's output

# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are used by the stages

set -uo pipefail

# The unprivileged user the package is built and linted as.
pkg_builder=nobody
pkg_user_path=/usr/local/bin:/usr/bin:/bin
# What build.sh's mktemp names its work directory; cleanup.sh removes nothing else.
pkg_workdir_pattern='portbind-packaging.[A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9][A-Za-z0-9]'

pkg_tests=0
pkg_failures=()

ok() {
  pkg_tests=$((pkg_tests + 1))
  echo "ok $pkg_tests - $*"
}
not_ok() {
  pkg_tests=$((pkg_tests + 1))
  pkg_failures+=("$*")
  echo "not ok $pkg_tests - $*"
}
# shellcheck disable=SC2001 # every line of a multi-line text
diag() { [[ -z $* ]] || sed 's/^/#   /' <<<"$*"; }
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
# A precondition failed: nothing further can be checked. One line says why.
bail() {
  echo "Bail out! $*"
  exit 1
}
skip_all() {
  echo "1..0 # SKIP $*"
  exit 77
}
# The plan, and the exit status; on failure the last line names every failed check.
finish() {
  local IFS=';'
  echo "1..$pkg_tests"
  if ((${#pkg_failures[@]})); then
    echo "# FAILED ${#pkg_failures[@]} of $pkg_tests: ${pkg_failures[*]}"
    exit 1
  fi
  exit 0
}

# Every packaging stage runs as root on a Debian system only: a developer's unprivileged
# run skips them, and so does a machine without dpkg-buildpackage.
require_root_on_debian() {
  [[ $(id -u) == 0 ]] || skip_all "the packaging checks need root (run the tests with sudo)"
  command -v dpkg-buildpackage >/dev/null ||
    skip_all "dpkg-buildpackage is missing: not a Debian system (package dpkg-dev)"
}

# require_tools TOOL:PACKAGE...: bails out naming every missing tool and its package.
require_tools() {
  local spec missing=
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null || missing+=" ${spec%%:*} (${spec#*:})"
  done
  [[ -z $missing ]] ||
    bail "missing:$missing; 'apt-get build-dep -y .' installs them (debian/control)"
}

# delete_user NAME: deletes a throw-away user and its group, after killing its processes
# and waiting until they are gone (userdel refuses while the user runs a process).
delete_user() {
  local u=$1 i
  if getent passwd "$u" >/dev/null; then
    for ((i = 0; i < 100; i++)); do
      pkill -KILL -u "$u" || break # no process left
      sleep 0.1
    done
    userdel "$u" || echo "# userdel $u failed" >&2
  fi
  if getent group "$u" >/dev/null; then groupdel "$u"; fi
}

# Runs a command as the builder, with a clean environment and HOME=$1.
as_builder() {
  local home=$1
  shift
  setpriv --reuid="$pkg_builder" --regid="$(id -g "$pkg_builder")" --clear-groups -- \
    env -i PATH="$pkg_user_path" HOME="$home" LANG=C.UTF-8 "$@"
}

# load_packages STATE_DIR: sets work, deb, lib_deb, dev_deb, changes and pkg_root, or skips
# the stage when build.sh did not build the packages (it was skipped).
load_packages() {
  local state=$1
  [[ -r $state/workdir ]] ||
    skip_all "no packages: packaging.build did not build them here (it was skipped)"
  work=$(<"$state/workdir")
  # shellcheck disable=SC2053 # a glob pattern
  [[ $(basename "$work") == $pkg_workdir_pattern && -d $work && ! -L $work ]] ||
    bail "$state/workdir names '$work', not a work directory of build.sh; re-run packaging.build"
  deb=$(echo "$work"/portbind_*.deb)
  lib_deb=$(echo "$work"/libportbind0_*.deb)
  dev_deb=$(echo "$work"/libportbind-dev_*.deb)
  changes=$(echo "$work"/portbind_*.changes)
  pkg_root=$work/root
  [[ -f $deb && -f $lib_deb && -f $dev_deb && -f $changes && -d $pkg_root ]] ||
    bail "the packages are missing from $work: re-run packaging.build"
}
