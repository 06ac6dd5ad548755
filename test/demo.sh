#!/usr/bin/env bash
# The main job. Until rocker-image lands this runs a busybox bundle built from busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
for a in sh echo cat ls hostname id; do ln -s busybox "$work/bundle/rootfs/bin/$a"; done
node bin/rocker-runtime spec --bundle "$work/bundle"
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sh", "-c", "echo hello from rocker; hostname; id"/' "$work/bundle/config.json"
node bin/rocker-runtime run --bundle "$work/bundle" "demo-$$"
