#!/bin/bash
# Runs a command in a private root (package mode; lib.sh starts the cases that need it here):
#
#   bash private-root.sh DIR COMMAND [ARG]...
#
# In a mount namespace of its own, with no mount propagating back, DIR (an empty directory)
# gets a tmpfs that becomes the namespace's root (pivot_root), holding
#   * /etc       a copy of this machine's /etc, on the tmpfs itself;
#   * /var/lib   an empty tmpfs over the machine's /var/lib (the rest of /var is bound);
#   * every other directory at the top of / bound (recursively) from this machine, every
#     symbolic link there copied.
# So COMMAND runs the machine's own programs (the installed portbind, the test apps, the
# fixture under /opt/portbind-test) while /, /etc and /var/lib are its own: an installation
# whose policy (/etc/portbind.conf) and setcap state directory (/var/lib/portbind) are
# compiled in can be tested against unsafe directories above its policy (/ or /etc
# world-writable, foreign-owned or replaced by a symbolic link) and against a state directory
# the case creates, breaks and removes, without changing the machine's. The machine's /etc and
# /var/lib are never written here, and nothing mounted here is visible outside: when COMMAND
# exits the namespace and its mounts are gone, and DIR is an empty directory again (the
# caller removes it). The mount points carry the sources portbind-it-root and
# portbind-it-state, by which lib.sh checks, before it changes anything, that it runs here.
# Exit status: COMMAND's; 1 (saying why) when the root cannot be made. Root only.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: bash $0 DIR COMMAND [ARG]..." >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "private-root: needs root" >&2
    exit 1
fi
dir=$(cd "$1" && pwd)
if [ -n "$(find "$dir" -mindepth 1 -maxdepth 1 -print -quit)" ] || mountpoint -q "$dir"; then
    echo "private-root: $dir is not an empty directory" >&2
    exit 1
fi
shift

# shellcheck disable=SC2016  # expanded by the inner shell
exec unshare -m --propagation private -- bash -c '
set -euo pipefail
root=$1
shift
mount -t tmpfs -o mode=0755,uid=0,gid=0 portbind-it-root "$root"
for entry in /*; do
    name=${entry#/}
    if [ -L "$entry" ]; then
        cp -P -- "$entry" "$root/$name"
    elif [ "$name" == etc ]; then
        mkdir "$root/etc"
        cp -a /etc/. "$root/etc/"
    elif [ -d "$entry" ]; then
        mkdir "$root/$name"
        mount --rbind "$entry" "$root/$name"
    fi
done
# The binding of the directory that holds DIR holds a view of this root too: not in it.
if mountpoint -q "$root$root"; then
    umount -R "$root$root"
fi
if [ -L "$root/var" ] || [ ! -d "$root/var/lib" ]; then
    echo "private-root: /var/lib is not a directory below a directory /var" >&2
    exit 1
fi
mount -t tmpfs -o mode=0755,uid=0,gid=0 portbind-it-state "$root/var/lib"
# The tmpfs becomes the root of this namespace (not only of this process, as with chroot),
# so that namespaces made from it (ip netns exec) have it as their root too, and paths such
# as /proc/PID/exe read the same from all of them.
cd "$root"
mkdir .old-root
pivot_root . .old-root
umount -l /.old-root
rmdir /.old-root
cd /
exec "$@"' private-root "$dir" "$@"
