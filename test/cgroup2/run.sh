#!/bin/sh
# make test-cgroup2: the suites that depend on the cgroup layout, run for real on
# pure cgroup v2 inside User-Mode Linux guests (UML_V2, the shared uml-v2/run:
# its own kernel and cgroup2 tree, so this machine's tree is never touched).
# The guest is ~10x slower, so each argument is the files of one guest, and the
# guests run side by side; waits scale with TEST_SLOWDOWN. Each guest's TAP is
# printed in turn, then one line per guest.
#   test/cgroup2/run.sh "FILE..." "FILE..." ...
set -eu
cd "$(dirname "$0")/../.."
: "${UML_V2:=../shared/tools/uml-v2/run}"
[ -x "$UML_V2" ] || { echo "test-cgroup2: no $UML_V2 (set UML_V2 to the path of uml-v2/run)" >&2; exit 2; }
export TEST_SLOWDOWN="${TEST_SLOWDOWN:-10}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0
for files in "$@"; do
  n=$((n + 1))
  echo "$files" >"$out/files.$n"
  # $files is split into its file names on purpose.
  # shellcheck disable=SC2086
  # -w: the guest's /tmp, /run, /root… are its own tmpfs, which would hide a clone made there,
  # or the uml-v2 tools beside it (the guest loads modules such as overlay through them).
  ( start=$(date +%s); rc=0; "$UML_V2" -w . -w "$(dirname "$UML_V2")" test/cgroup2/guest.sh $files >"$out/log.$n" 2>&1 || rc=$?
    echo "$rc $(($(date +%s) - start))" >"$out/rc.$n" ) &
done
wait
rc=0
for i in $(seq "$n"); do
  echo "=== guest $i: $(cat "$out/files.$i")"
  cat "$out/log.$i"
done
for i in $(seq "$n"); do
  read -r code secs <"$out/rc.$i"
  echo "test-cgroup2: guest $i $( [ "$code" = 0 ] && echo passed || echo "FAILED ($code)") in ${secs}s: $(grep -h '^# \(pass\|fail\|skipped\) ' "$out/log.$i" | tr '\n' ' ')"
  [ "$code" = 0 ] || rc=1
done
# The skips, by reason (each names the host feature the guest lacks).
grep -h '# SKIP' "$out"/log.* | sed 's/.*# SKIP *//' | sort | uniq -c | sed 's/^ *\([0-9]*\) \(.*\)/test-cgroup2: skipped \1 — \2/'
# One closing line for all guests, in the plain form CI reads.
total() { grep -h "^# $1 " "$out"/log.* | awk '{ n += $3 } END { print n + 0 }'; }
echo "test-cgroup2: $(total pass) passed, $(total fail) failed, $(total skipped) skipped"
exit $rc
