#!/bin/bash
# `caviar completion bash` sourced in a real bash: commands, options,
# --format choices and file arguments complete as the binary accepts them.
# Usage: completion_test.sh PATH/TO/caviar
set -u
CAVIAR="$1"
failures=0

# complete WORDS...: what bash offers for the last word, sorted, space-separated.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMPREPLY=()
  _caviar
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect() {  # expect "WANT" WORDS...
  local want="$1"; shift
  local got
  got="$(complete_words "$@")"
  if [[ "$got" != "$want" ]]; then
    echo "FAIL: '$*' completes to '$got', want '$want'"
    failures=$((failures + 1))
  else
    echo "ok: '$*' -> '$got'"
  fi
}

expect_has() {  # expect_has WORD WORDS...: WORD is among the completions
  local want="$1"; shift
  local got
  got=" $(complete_words "$@") "
  if [[ "$got" != *" $want "* ]]; then
    echo "FAIL: '$*' completes to '$got', which lacks '$want'"
    failures=$((failures + 1))
  else
    echo "ok: '$*' offers '$want'"
  fi
}

source <("$CAVIAR" completion bash) || { echo "FAIL: the script does not source"; exit 1; }
complete -p caviar | grep -q -- '-F _caviar' || { echo "FAIL: not registered"; exit 1; }

expect "trial trials" caviar tri
expect "export" caviar exp
expect_has completion caviar ""
expect_has --coordinator caviar --
expect "--format" caviar trials quad --form
expect_has --limit caviar trials quad --
expect_has --output caviar export quad --
expect "csv json table" caviar importance quad --format ""
expect "csv" caviar regions quad --format c
expect "csv jsonl" caviar export quad --format ""
expect "json text yaml" caviar study quad --format ""
expect "bash zsh" caviar completion ""
# Global options before the command are skipped with their values.
expect "--sort" caviar --coordinator h:1 trials quad --so
# Files where a file is wanted.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/spec.yaml"
expect "$tmp/spec.yaml" caviar submit "$tmp/sp"
expect "$tmp/spec.yaml" caviar export quad -o "$tmp/sp"
expect "" caviar trials "$tmp/sp"
# Every command of `caviar --help` completes.
for command in $("$CAVIAR" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}'); do
  expect_has "$command" caviar "${command:0:2}"
done

# zsh: the same script through bashcompinit.
"$CAVIAR" completion zsh | head -2 | grep -q bashcompinit ||
  { echo "FAIL: zsh script does not load bashcompinit"; failures=$((failures + 1)); }

if (( failures )); then echo "$failures failures"; exit 1; fi
echo "all completions as expected"
