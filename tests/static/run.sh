#!/bin/bash
# Static analysis of portbind's own code (policy/ and launcher/): clang-tidy with the
# repository's .clang-tidy, then cppcheck with tests/static/cppcheck-suppressions.txt.
# Exits 0 when both are clean, 1 on any finding, 2 on a usage or setup error.
#
#   tests/static/run.sh [BUILD_DIR]
#
# BUILD_DIR holds compile_commands.json (the fuzz and asan presets export it; any build
# configured with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON does). When it has none, the project is
# configured there first (configure only, nothing is compiled). Default: build/static.
#
# Environment: JOBS (parallel clang-tidy processes, default: nproc), CLANG_TIDY and CPPCHECK
# (the programs to run), STATIC_ONLY=clang-tidy|cppcheck to run one of the two.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${1:-$SRC/build/static}
JOBS=${JOBS:-$(nproc)}
CLANG_TIDY=${CLANG_TIDY:-clang-tidy}
CPPCHECK=${CPPCHECK:-cppcheck}
ONLY=${STATIC_ONLY:-}

die() {
    echo "static: $*" >&2
    exit 2
}

for tool in "$CLANG_TIDY" "$CPPCHECK" python3; do
    command -v "$tool" >/dev/null || die "missing tool: $tool (apt-get install clang-tidy cppcheck)"
done

if [ ! -f "$BUILD/compile_commands.json" ]; then
    cmake -S "$SRC" -B "$BUILD" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null ||
        die "configuring $BUILD failed"
fi
DB=$BUILD/compile_commands.json
[ -f "$DB" ] || die "$DB missing: configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON"

# The project's own translation units, once each (the fuzz build compiles the core twice).
mapfile -t FILES < <(python3 - "$DB" "$SRC" <<'EOF'
import json, os, sys
db, src = sys.argv[1], os.path.realpath(sys.argv[2])
seen = set()
for entry in json.load(open(db)):
    path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    rel = os.path.relpath(path, src)
    if rel.split(os.sep)[0] in ("policy", "launcher") and path.endswith(".cc") and path not in seen:
        seen.add(path)
        print(path)
EOF
)
[ "${#FILES[@]}" -gt 0 ] || die "no policy/ or launcher/ sources in $DB"

status=0
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

if [ "$ONLY" != cppcheck ]; then
    echo "static: clang-tidy on ${#FILES[@]} files ($JOBS jobs)"
    # One log per file, printed in order, so parallel output does not interleave.
    # shellcheck disable=SC2016  # the inner script's $1..$4 are expanded by sh -c
    printf '%s\n' "${FILES[@]}" |
        xargs -P "$JOBS" -I{} sh -c \
            '"$1" -p "$2" --quiet "$3" >"$4/$(echo "$3" | tr / _).log" 2>&1 || echo "$3" >>"$4/failed"' \
            sh "$CLANG_TIDY" "$BUILD" {} "$OUT"
    for f in "${FILES[@]}"; do
        # clang-tidy prints "N warnings generated" for suppressed system-header noise.
        grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Use -system-headers' \
            "$OUT/$(echo "$f" | tr / _).log" || true
    done
    if [ -s "$OUT/failed" ]; then
        echo "static: clang-tidy found problems in $(sort -u "$OUT/failed" | wc -l) files:"
        sort -u "$OUT/failed" | sed "s|^$SRC/|  |"
        status=1
    else
        echo "static: clang-tidy clean"
    fi
fi

if [ "$ONLY" != clang-tidy ]; then
    echo "static: cppcheck"
    # --project brings each file's own defines and include paths; system headers (Boost,
    # libstdc++) are not read, which keeps it fast and free of their noise.
    # The database is named by a path relative to the source tree: cppcheck then names the
    # files relative to it, which the file filters and the suppressions' file names are.
    DB_REL=$(realpath --relative-to="$SRC" "$DB") || die "cannot locate $DB from $SRC"
    if ! (cd "$SRC" && "$CPPCHECK" --project="$DB_REL" \
        --file-filter='policy/*' --file-filter='launcher/*' \
        --std=c++20 --library=posix \
        --enable=warning,style,performance,portability \
        --inline-suppr --suppressions-list="$HERE/cppcheck-suppressions.txt" \
        --error-exitcode=1 --quiet -j "$JOBS" \
        --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
        --cppcheck-build-dir="$OUT"); then
        status=1
        echo "static: cppcheck found problems"
    else
        echo "static: cppcheck clean"
    fi
fi

exit $status
