#!/bin/bash
# Packaging stage (ctest: packaging.lintian), as root, after build.sh:
#
#   bash tests/packaging/lintian.sh STATE_DIR
#
# lintian on the .changes (all three packages and the .buildinfo), run as nobody: no error
# and no warning. Informational tags are shown, not judged. Overrides are allowed only with
# a comment saying why: every override line in debian/ must follow a comment line, and
# every override lintian applied is shown.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[[ $# == 1 ]] || bail "usage: lintian.sh STATE_DIR"
require_root_on_debian
require_tools lintian:lintian setpriv:util-linux
load_packages "$1"

home=$(mktemp -d -t portbind-lintian.XXXXXX) || bail "mktemp failed"
trap 'rm -rf -- "$home"' EXIT
chown "$pkg_builder" "$home"

lint=$(as_builder "$home" lintian -I --fail-on error,warning --tag-display-limit 0 \
  --show-overrides "$changes" 2>&1)
rc=$?
if grep -Eq '^[EW]: ' <<<"$lint" || [[ $rc != 0 ]]; then
  not_ok "lintian reports no error and no warning"
  diag "exit $rc"
  diag "$lint"
else
  ok "lintian reports no error and no warning"
  diag "$lint"
fi

# Each override must say why: the line before it is a comment.
uncommented=
for f in "$work"/src/debian/*lintian-overrides "$work"/src/debian/source/lintian-overrides; do
  [[ -f $f ]] || continue
  uncommented+=$(awk -v f="${f#"$work"/src/}" '
      /^[[:space:]]*$/ { prev = ""; next }
      /^[[:space:]]*#/ { prev = "#"; next }
      prev != "#" { print f ":" NR ": " $0 }
      { prev = "" }' "$f")
done
check_eq "" "$uncommented" "every lintian override follows a comment saying why"

finish
