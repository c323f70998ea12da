#!/bin/bash
# Packaging cleanup (ctest: packaging.cleanup):
#
#   bash tests/packaging/cleanup.sh STATE_DIR
#
# Removes the work directory that build.sh made and recorded in STATE_DIR/workdir, and that
# record. It removes nothing else: a record that does not name a work directory of build.sh
# is reported and left alone.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[[ $# == 1 ]] || bail "usage: cleanup.sh STATE_DIR"
state=$1
[[ -e $state/workdir ]] || skip_all "nothing to clean up"
work=$(<"$state/workdir")
# shellcheck disable=SC2053 # a glob pattern
if [[ $(basename "$work") != $pkg_workdir_pattern || -L $work ]]; then
  bail "$state/workdir names '$work', not a work directory of build.sh: left alone"
fi
if [[ -d $work ]]; then
  rm -rf -- "$work"
fi
rm -f -- "$state/workdir"
check "removed the work directory $work" test ! -e "$work"
finish
