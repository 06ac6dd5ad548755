#!/bin/sh
# make test-cgroup2: the suites that depend on the cgroup layout, run for real on
# pure cgroup v2 inside User-Mode Linux guests (UML_V2, the shared uml-v2/run:
# its own kernel and cgroup2 tree, so this machine's tree is never touched).
# The guest is ~10x slower: the files are split over GUESTS guests run side by
# side, waits scale with TEST_SLOWDOWN, and each guest prints its own TAP.
#   test/cgroup2/run.sh FILE...
set -eu
cd "$(dirname "$0")/../.."
: "${UML_V2:=../shared/tools/uml-v2/run}"
: "${GUESTS:=3}"
[ -x "$UML_V2" ] || { echo "test-cgroup2: no $UML_V2 (set UML_V2 to uml-v2/run)" >&2; exit 2; }
export TEST_SLOWDOWN="${TEST_SLOWDOWN:-10}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Round-robin over the guests, the slowest files first (as given).
i=0
for f in "$@"; do
  echo "$f" >>"$out/files.$((i % GUESTS))"
  i=$((i + 1))
done
pids=""
for list in "$out"/files.*; do
  n=${list##*.}
  # shellcheck disable=SC2046
  "$UML_V2" test/cgroup2/guest.sh $(cat "$list") >"$out/log.$n" 2>&1 &
  pids="$pids $!"
done
rc=0
n=0
for p in $pids; do
  wait "$p" || rc=1
done
for log in "$out"/log.*; do
  echo "=== guest ${log##*.}: $(tr '\n' ' ' <"$out/files.${log##*.}")"
  cat "$log"
done
exit $rc
