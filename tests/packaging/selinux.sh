#!/bin/bash
# Packaging stage (ctest: packaging.selinux), as root:
#
#   bash tests/packaging/selinux.sh [SRC_DIR]      (default: this checkout)
#
# The SELinux module in selinux/ compiles with Debian's refpolicy development Makefile
# (make -f /usr/share/selinux/devel/Makefile), in a copy of the directory, as
# selinux/README.md tells administrators to build it. NAME=default names the policy
# the Makefile would otherwise read from /etc/selinux/config, which build machines lack.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

src=$(cd "${1:-$here/../..}" && pwd)
devel_makefile=/usr/share/selinux/devel/Makefile

require_root_on_debian
require_tools make:make checkmodule:checkpolicy semodule_package:semodule-utils
[[ -r $devel_makefile ]] ||
  bail "missing: $devel_makefile (selinux-policy-dev); 'apt-get build-dep -y .' installs it"

dir=$(mktemp -d -t portbind-selinux.XXXXXX) || bail "mktemp failed"
trap 'rm -rf -- "$dir"' EXIT
cp "$src"/selinux/portbind.{te,if,fc} "$dir/" || bail "cannot copy $src/selinux"

out=$(make -C "$dir" -f "$devel_makefile" NAME=default portbind.pp 2>&1)
rc=$?
if [[ $rc == 0 && -s $dir/portbind.pp ]]; then
  ok "the SELinux module compiles (portbind.pp)"
else
  not_ok "the SELinux module compiles (portbind.pp)"
  diag "exit $rc"
  diag "$out"
fi
# m4 and checkmodule warn without failing (an unknown interface expands to nothing).
warnings=$(grep -Ei 'warning|error|undefined' <<<"$out")
check_eq "" "$warnings" "... without a warning"

finish
