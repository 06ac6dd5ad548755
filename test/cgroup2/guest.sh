#!/bin/sh
# Inside a uml-v2 guest (pure cgroup v2): the layout, then the test files given.
set -eu
echo "cgroup2 guest: $(uname -r), $(grep -c cgroup2 /proc/self/mountinfo) cgroup2 mount, controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
if grep -q ' - cgroup ' /proc/self/mountinfo; then echo "not a pure cgroup v2 guest" >&2; exit 1; fi
exec node --test --test-concurrency=1 --test-timeout="${TEST_TIMEOUT:-600000}" "$@"
