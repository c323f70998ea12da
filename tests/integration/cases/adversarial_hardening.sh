#!/bin/bash
# The installed binary (and libportbind) as built by the project's own flags: a
# position-independent executable, full RELRO with immediate binding, a non-executable
# stack, the stack protector and fortified libc calls, and no RPATH or RUNPATH through which
# a writable directory could supply a library to the privileged process. (Stripping is the
# package's business; the packaging check covers the packaged binary.)
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v readelf >/dev/null || bail "readelf is not installed (binutils)"

scenario 67 documented
lib=$(readlink -f "$PB_LIBDIR/libportbind.so.0" 2>/dev/null || true)
for f in "$PB" ${lib:+"$lib"}; do
    name=${f#"$PB_ROOT"/}
    header=$(readelf -hW "$f")
    dynamic=$(readelf -dW "$f")
    segments=$(readelf -lW "$f")
    symbols=$(readelf -sW --dyn-syms "$f")
    if [ "$f" == "$PB" ]; then
        assert_match "$header" 'Type:[[:space:]]+DYN' "$name: position-independent executable"
        assert_match "$dynamic" 'FLAGS_1\).*PIE' "$name: marked PIE"
    fi
    assert_match "$segments" 'GNU_RELRO' "$name: RELRO segment"
    assert_match "$dynamic" '\(FLAGS\).*BIND_NOW|FLAGS_1\).*NOW' "$name: immediate binding (full RELRO)"
    assert_match "$segments" 'GNU_STACK.* RW  ' "$name: non-executable stack"
    assert_no_match "$dynamic" '\((RPATH|RUNPATH)\)' "$name: no RPATH or RUNPATH"
    assert_match "$symbols" ' __stack_chk_fail' "$name: built with the stack protector"
done
assert_match "$(readelf -sW --dyn-syms "$PB")" ' __[a-z]+_chk@' "portbind: fortified libc calls (_FORTIFY_SOURCE)"
assert_ne "" "$lib" "libportbind is installed next to portbind"
# Every library portbind loads resolves to a root-owned file in a root-owned directory.
while read -r dep; do
    [ -n "$dep" ] || continue
    owner=$(stat -c '%u %a' "$dep")
    assert_eq 0 "${owner%% *}" "portbind loads $dep, which root owns"
    assert_true "$dep is not writable by group or others" test $((8#${owner#* } & 8#022)) -eq 0
done < <(ldd "$PB" | awk '/=> \// { print $3 }' | xargs -r readlink -f)
