#!/bin/bash
# Packaging stage (ctest: packaging.contents), as root, after build.sh:
#
#   bash tests/packaging/contents.sh STATE_DIR
#
# What the packages ship, without installing them:
#   * portbind: the binary 0755 root:root (the privilege is added by postinst), the policy,
#     the APT hook, man pages, completion, examples, units, the SELinux sources, and
#     exactly the conffiles /etc/apt/apt.conf.d/80portbind and /etc/portbind.conf;
#   * libportbind0 the shared library only; libportbind-dev the header, .so, .pc, man page;
#   * the binary is hardened (PIE, full RELRO, bind-now, stack protector, fortify, no
#     RPATH/RUNPATH, no executable stack) although the build's own hardening flags are
#     off (debian/rules: dpkg-buildflags supplies them);
#   * the bash completion as packaged passes completion_test.sh.

# shellcheck disable=SC2016 # the bash -c scripts take their arguments as $1, $2...
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[[ $# == 1 ]] || bail "usage: contents.sh STATE_DIR"
require_root_on_debian
require_tools dpkg-deb:dpkg readelf:binutils hardening-check:devscripts
[[ -r /usr/share/bash-completion/bash_completion ]] ||
  bail "missing: /usr/share/bash-completion/bash_completion (bash-completion); 'apt-get build-dep -y .' installs it"
load_packages "$1"

# ---------------------------------------------------------------------- portbind
contents=$(dpkg-deb -c "$deb")
check_eq "-rwxr-xr-x root/root" "$(awk '$6 == "./usr/bin/portbind" { print $1, $2 }' <<<"$contents")" \
  "usr/bin/portbind is shipped 0755 root:root (privilege is added by postinst)"
check_eq "" "$(awk '$1 ~ /^-..[sS]|^-.....[sS]/ { print $6 }' <<<"$contents")" \
  "the package ships no setuid or setgid file"
for f in ./etc/portbind.conf ./etc/portbind.d/ ./etc/apt/apt.conf.d/80portbind \
  ./usr/share/bash-completion/completions/portbind \
  ./usr/share/doc/portbind/examples/portbind.conf \
  ./usr/share/doc/portbind/examples/systemd/app-portbind.service \
  ./usr/share/doc/portbind/examples/systemd/app.socket \
  ./usr/share/doc/portbind/examples/systemd/app.service \
  ./usr/share/doc/portbind/examples/systemd/app-vendor.service \
  ./usr/share/doc/portbind/examples/systemd/app-vendor.service.d/portbind.conf \
  ./usr/share/doc/portbind/selinux/portbind.te ./usr/share/doc/portbind/selinux/portbind.if \
  ./usr/share/doc/portbind/selinux/portbind.fc ./usr/share/doc/portbind/README.Debian.gz \
  ./lib/systemd/system/portbind.socket ./lib/systemd/system/portbind.service \
  ./usr/share/man/man1/portbind.1.gz ./usr/share/man/man5/portbind.conf.5.gz \
  ./usr/share/man/man8/portbind-serve.8.gz ./usr/share/man/man8/portbind-setcap.8.gz; do
  check "the package ships ${f#.}" grep -q " $f\$" <<<"$contents"
done
conffiles=$(dpkg-deb -I "$deb" conffiles 2>/dev/null | sort | paste -sd' ' -)
check_eq "/etc/apt/apt.conf.d/80portbind /etc/portbind.conf" "$conffiles" "the conffiles"
check "the shipped policy has the active rule 'permit :portbind port 80,443'" \
  grep -qx 'permit :portbind port 80,443' "$pkg_root/etc/portbind.conf"
check_eq "permit :portbind port 80,443" "$(grep -Ev '^[[:space:]]*(#|$)' "$pkg_root/etc/portbind.conf")" \
  "... and no other active rule"

# ------------------------------------------------------------------ libportbind
lib_contents=$(dpkg-deb -c "$lib_deb")
check "libportbind0 ships the shared library and nothing for development" \
  bash -c 'grep -q "/libportbind\.so\.0 -> " <<<"$1" && ! grep -Eq "\.so$|\.h$|\.pc$" <<<"$1"' _ "$lib_contents"
dev_contents=$(dpkg-deb -c "$dev_deb")
for f in /usr/include/portbind.h /libportbind.so /pkgconfig/portbind.pc /man3/portbind_bind.3.gz; do
  check "libportbind-dev ships ...$f" grep -q -- "$f" <<<"$dev_contents"
done

# -------------------------------------------------------------------- hardening
bin=$pkg_root/usr/bin/portbind
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
# Only libc is shared (CMakeLists.txt, PORTBIND_STATIC_DEPS); what is linked in is declared.
needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$dynamic")
check_eq "" "$(grep -Ev '^(libc\.so\.6|ld-linux[-a-z0-9_.]*\.so\.[0-9]+)$' <<<"$needed")" \
  "portbind needs no shared library but glibc's libc and loader"
check "... and does need libc" grep -qx libc.so.6 <<<"$needed"
built_using=$(dpkg-deb -f "$deb" Built-Using)
for source in "gcc-[0-9]+" "boost1\.[0-9]+" libcap2 libseccomp; do
  check "Built-Using names $source with its exact version" \
    grep -Eq "(^|, )$source \(= [^)]+\)" <<<"$built_using"
done
# --nocfprotection: bookworm's C runtime objects carry no IBT/SHSTK property, so no binary
# linked on bookworm has the note hardening-check looks for.
if hc=$(hardening-check --nocfprotection "$bin" 2>&1); then
  ok "hardening-check finds nothing missing"
else
  not_ok "hardening-check finds nothing missing"
fi
diag "$hc"

# ---------------------------------------------------------------- bash completion
if out=$(bash "$here/completion_test.sh" "$pkg_root/usr/share/bash-completion/completions/portbind" 2>&1); then
  ok "the packaged bash completion passes completion_test.sh"
else
  not_ok "the packaged bash completion passes completion_test.sh"
  diag "$(grep -v '^ok' <<<"$out")"
fi

finish
