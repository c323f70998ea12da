#!/bin/bash
# Every packaging stage in one command, as root (exit 77 = skipped otherwise):
#
#   bash tests/packaging/check.sh [SRC_DIR]        (default: this checkout)
#
# The same stages ctest runs as packaging.* (tests/packaging/CMakeLists.txt), in order:
# build.sh, lintian.sh, contents.sh, units.sh, selinux.sh, install_smoke_purge.sh, then
# cleanup.sh. Each prints TAP; this prints one summary line per stage and exits 0 when
# none failed, 1 when one did, 77 when all were skipped.

set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "${1:-$here/../..}" && pwd)

state=$(mktemp -d -t portbind-packaging-state.XXXXXX) || exit 1
trap 'bash "$here/cleanup.sh" "$state" >/dev/null; rm -rf -- "$state"' EXIT

failed=()
skipped=0
stages=(build lintian contents units selinux install_smoke_purge)
for stage in "${stages[@]}"; do
  case $stage in
    selinux) args=("$src") ;;
    build) args=("$state" "$src") ;;
    *) args=("$state") ;;
  esac
  start=$SECONDS
  echo "# packaging.$stage"
  bash "$here/$stage.sh" "${args[@]}"
  rc=$?
  case $rc in
    0) echo "# packaging.$stage: passed ($((SECONDS - start)) s)" ;;
    77) echo "# packaging.$stage: skipped" && skipped=$((skipped + 1)) ;;
    *) echo "# packaging.$stage: FAILED ($((SECONDS - start)) s)" && failed+=("$stage") ;;
  esac
  [[ $stage == build && $rc != 0 && $rc != 77 ]] && break
done

if ((${#failed[@]})); then
  echo "# failed: ${failed[*]}"
  exit 1
fi
((skipped == ${#stages[@]})) && exit 77
exit 0
