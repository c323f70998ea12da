#!/bin/bash
# Tests the bash completion for portbind: sources bash-completion and the completion file,
# then completes command lines the way bash does and checks the candidates offered.
#
#   bash tests/packaging/completion_test.sh [COMPLETION_FILE]
#
# COMPLETION_FILE defaults to launcher/completion/portbind in this tree. Needs no root.
# Exits 77 (skipped) when bash-completion is not installed.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
file=${1:-$here/../../launcher/completion/portbind}
framework=/usr/share/bash-completion/bash_completion

if [[ ! -r $framework ]]; then
  echo "1..0 # SKIP bash-completion is not installed ($framework)"
  exit 77
fi
if [[ ! -r $file ]]; then
  echo "Bail out! no completion file at $file"
  exit 1
fi

set +u # the framework is not written for nounset
# shellcheck source=/dev/null
. "$framework"
# shellcheck source=/dev/null
. "$file"
set -u

# Outside a real completion, compopt complains; the options it sets are not under test.
compopt() { builtin compopt "$@" 2>/dev/null || true; }

tests=0
failed=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# complete LINE: sets COMPREPLY to what bash would offer for LINE with the cursor at its
# end (LINE ending in a space completes a new, empty word).
complete_line() {
  local line=$1 spec func
  COMP_LINE=$line
  COMP_POINT=${#line}
  # Split as readline does for the words that matter here: on blanks, and around "=".
  local IFS=$' \t\n'
  read -r -a COMP_WORDS <<<"${line//=/ = }"
  if [[ $line == *' ' ]]; then
    COMP_WORDS+=("")
  fi
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  spec=$(complete -p "${COMP_WORDS[0]}" 2>/dev/null) || spec=
  func=${spec##*-F }
  func=${func%% *}
  set +u
  "$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  set -u
}

ok() {
  tests=$((tests + 1))
  echo "ok $tests - $*"
}

not_ok() {
  tests=$((tests + 1))
  failed=$((failed + 1))
  echo "not ok $tests - $*"
}

replies() {
  printf '%s\n' "${COMPREPLY[@]}" | sort -u | paste -sd' ' -
}

# expect_exactly LINE WORDS...: the candidates are exactly WORDS (any order).
expect_exactly() {
  local line=$1 want got
  shift
  complete_line "$line"
  want=$(printf '%s\n' "$@" | sort -u | paste -sd' ' -)
  got=$(replies)
  if [[ $got == "$want" ]]; then
    ok "'$line' offers exactly: $want"
  else
    not_ok "'$line' offers exactly: $want"
    echo "#   got: $got"
  fi
}

# expect_includes LINE WORDS...: every WORD is among the candidates.
expect_includes() {
  local line=$1 w missing=
  shift
  complete_line "$line"
  for w in "$@"; do
    printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$w" || missing+=" $w"
  done
  if [[ -z $missing ]]; then
    ok "'$line' offers: $*"
  else
    not_ok "'$line' offers: $*"
    echo "#   missing:$missing"
    echo "#   got: $(replies | cut -c1-300)"
  fi
}

# expect_excludes LINE WORDS...: no WORD is among the candidates.
expect_excludes() {
  local line=$1 w present=
  shift
  complete_line "$line"
  for w in "$@"; do
    printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$w" && present+=" $w"
  done
  if [[ -z $present ]]; then
    ok "'$line' does not offer: $*"
  else
    not_ok "'$line' does not offer: $*"
    echo "#   present:$present"
  fi
}

if complete -p portbind 2>/dev/null | grep -q -- '-F _portbind'; then
  ok "sourcing the file registers _portbind for portbind"
else
  not_ok "sourcing the file registers _portbind for portbind"
fi

# Options and subcommands.
expect_exactly "portbind --ac" --activate
expect_exactly "portbind --re" --reuseport
expect_includes "portbind --" --port --activate --backlog --reuseport --freebind --v6only \
  --nonblock --user --policy --broker --help --version
expect_exactly "portbind --br" --broker
expect_includes "portbind ch" check
expect_includes "portbind systemd-u" systemd-units
expect_exactly "portbind setcap " grant revoke list reapply audit
expect_exactly "portbind setcap re" reapply revoke
expect_exactly "portbind check --" --user --cmd --policy --v6only
expect_exactly "portbind serve --" --socket --user
expect_includes "portbind serve --user ro" root

# Option values: users for --user (also written --user=), files for --policy, nothing
# for --port, whose value is a socket spec and must not be taken for the command.
expect_includes "portbind --user ro" root
# A name that is a user but not a group, and one that is a group but not a user, tell
# user names from group names.
user_only=$(comm -23 <(getent passwd | cut -d: -f1 | sort -u) <(getent group | cut -d: -f1 | sort -u) | head -n1)
group_only=$(comm -13 <(getent passwd | cut -d: -f1 | sort -u) <(getent group | cut -d: -f1 | sort -u) | head -n1)
if [[ -n $user_only ]]; then
  expect_includes "portbind --user $user_only" "$user_only"
fi
if [[ -n $group_only ]]; then
  expect_excludes "portbind --user $group_only" "$group_only"
fi
expect_includes "portbind --user=ro" root
expect_includes "portbind check --user ro" root
expect_excludes "portbind --user ro" --user --activate
mkdir "$scratch/etc"
: >"$scratch/etc/policy-one.conf"
: >"$scratch/etc/policy-two.conf"
expect_exactly "portbind --policy $scratch/etc/policy-" \
  "$scratch/etc/policy-one.conf" "$scratch/etc/policy-two.conf"
expect_exactly "portbind --port " ""
# --broker takes a path only as --broker=PATH; after "--broker " the command begins.
expect_exactly "portbind --broker=$scratch/etc/policy-o" "$scratch/etc/policy-one.conf"
expect_includes "portbind --broker bas" bash
expect_includes "portbind --broker=$scratch/etc --activate bas" bash
expect_includes "portbind --broker=$scratch/etc --ac" --activate
expect_exactly "portbind --port 443 --ac" --activate

# The command: after "--" or at the first non-option word, portbind's options are over
# and the command's own completion takes over.
expect_includes "portbind --activate --port 443 -- bas" bash
expect_includes "portbind --port=443 -- bas" bash
expect_includes "portbind --port 443 ls --almost" --almost-all
expect_includes "portbind -- ls --almost" --almost-all
expect_excludes "portbind --port 443 -- ls --ac" --activate
expect_includes "portbind systemd-units web --port 443 -- bas" bash

echo "1..$tests"
if ((failed)); then
  echo "# $failed of $tests failed"
  exit 1
fi
