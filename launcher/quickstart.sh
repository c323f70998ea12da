#!/usr/bin/env bash
# Quick start: install portbind from this checkout and serve a web page on port 443 as the
# invoking user, with a one-line policy that allows exactly that.
#
#   sudo launcher/quickstart.sh            # from a normal user's shell; serves as that user
#   sudo launcher/quickstart.sh USER       # serve as USER instead
#
# Installs build dependencies (apt-get build-dep), builds, installs to /usr/local with
# cap_net_bind_service=p, writes /usr/local/etc/portbind.conf if there is none, explains it,
# then runs the demo server as the user until Ctrl-C.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
user=${1:-${SUDO_USER:-}}
port=443
prefix=/usr/local
policy=$prefix/etc/portbind.conf

if [[ $(id -u) -ne 0 ]]; then
  echo "quickstart: run me as root, e.g. 'sudo $0', so I can install portbind" >&2
  exit 1
fi
if [[ -z $user || $user == root ]] || ! id -u "$user" >/dev/null 2>&1; then
  echo "quickstart: tell me which unprivileged user should serve: 'sudo $0' from that" \
       "user's shell, or 'sudo $0 USER'" >&2
  exit 1
fi

echo "== Installing build dependencies"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get build-dep -y -qq "$src" >/dev/null

echo "== Building and installing portbind to $prefix (capability mode)"
build=$src/build/quickstart
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
  -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
cmake --install "$build" >"$build/install.log"
getcap "$prefix/bin/portbind"

echo "== Policy $policy"
if [[ ! -e $policy ]]; then
  install -d -m 0755 -o root -g root "$prefix/etc"
  install -m 0644 -o root -g root "$src/launcher/examples/portbind.conf" "$policy"
  printf '\n# Added by the quick start: %s may serve on port %s.\npermit %s port %s\n' \
    "$user" "$port" "$user" "$port" >>"$policy"
  echo "Wrote a starter policy. Its only active rule lets $user bind port $port;"
  echo "everything else stays denied (portbind's policy is default deny)."
else
  echo "Keeping the existing policy."
fi
grep -v '^#' "$policy" | grep -v '^[[:space:]]*$' | sed 's/^/    /'
echo "What portbind decides for $user:"
"$prefix/bin/portbind" check --user "$user" "$port" | sed 's/^/    /' || {
  echo "quickstart: the policy does not let $user bind $port; add 'permit $user port $port'" \
       "to $policy" >&2
  exit 1
}

echo "== Serving on port $port as $user: portbind binds it, drops every privilege and hands"
echo "   the socket to an unprivileged python server (see launcher/examples/hello-activate.py)"
app=$(mktemp -d)
trap 'rm -rf "$app"' EXIT
install -m 0755 "$src/launcher/examples/hello-activate.py" "$app/"
chmod 0755 "$app"
setpriv --reuid="$user" --regid="$user" --init-groups --reset-env -- \
  "$prefix/bin/portbind" --activate --port "$port" -- /usr/bin/python3 "$app/hello-activate.py"
