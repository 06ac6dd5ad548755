#!/usr/bin/env bash
# The main job: a registry on 127.0.0.1 (temporary storage) seeded with a
# busybox image built by umoci and copied in by skopeo, standing in for Docker
# Hub through a registries.json mirror, then
#   rocker-image pull busybox -> rocker-image bundle (engine defaults) -> rocker-runtime run,
# and the same image through the docker-style front: rocker run -d, ps, logs, rm -f.
# Everything it starts or creates is removed on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/rocker-demo.XXXXXX)
store=$work/store
bundle=$work/bundle
id=rocker-demo-$$
registry_pid=
# The front's containers live beside the store; its runtime state under the work dir too.
front=(node bin/rocker --root "$store" --runtime-root "$work/front-state")

cleanup() {
  local status=$?
  node bin/rocker-runtime --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
  "${front[@]}" rm -f "$id" >/dev/null 2>&1 || true
  if [ -f "$bundle/rocker-bundle.json" ]; then node bin/rocker-image --root "$store" unbundle "$bundle" || status=1; fi
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "Starting docker-registry on 127.0.0.1"
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YAML
/usr/bin/docker-registry serve "$work/registry.yml" 2>"$work/registry.log" &
registry_pid=$!
# The registry logs "listening on" once it accepts connections.
until grep -q 'listening on' "$work/registry.log"; do
  kill -0 "$registry_pid" 2>/dev/null || { cat "$work/registry.log" >&2; exit 1; }
  sleep 0.05
done
image=127.0.0.1:$port/library/busybox:latest
echo "registry at 127.0.0.1:$port (pid $registry_pid)"
mkdir -p "$store"
# The loopback registry is docker.io's mirror here, so the short name works as with docker.
printf '{"mirrors": {"docker.io": ["http://127.0.0.1:%s"]}}\n' "$port" >"$store/registries.json"
cat "$store/registries.json"

step "Seeding it with a busybox image built by umoci, copied by skopeo"
seed=$work/seed/rootfs
mkdir -p "$seed/bin" "$seed/etc" "$seed/home/demo" "$seed/tmp"
cp /bin/busybox "$seed/bin/busybox"
for applet in sh echo cat ls id hostname uname pwd grep; do ln -s busybox "$seed/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\ndemo:x:1000:1000:demo:/home/demo:/bin/sh\n' >"$seed/etc/passwd"
printf 'root:x:0:\ndemo:x:1000:\n' >"$seed/etc/group"
chown 1000:1000 "$seed/home/demo"
umoci init --layout "$work/oci"
umoci new --image "$work/oci:busybox"
umoci insert --image "$work/oci:busybox" "$seed" /
umoci config --image "$work/oci:busybox" --config.user demo --config.workingdir /home/demo \
  --config.env GREETING=hello --config.env PATH=/bin --config.stopsignal SIGTERM \
  --config.entrypoint /bin/sh --config.entrypoint -c \
  --config.cmd 'echo "$GREETING from a rocker container: $(id) in $(pwd) on $(hostname)"; grep -E "^(CapBnd|Seccomp):" /proc/self/status'
skopeo copy --quiet --dest-tls-verify=false "oci:$work/oci:busybox" "docker://$image"

step "rocker-image pull busybox   (docker.io/library/busybox:latest, through the mirror)"
node bin/rocker-image --root "$store" pull busybox

step "rocker-image bundle busybox $bundle   (the engine defaults docker and podman give)"
node bin/rocker-image --root "$store" bundle busybox "$bundle"
jq '{args: .process.args, user: .process.user, capabilities: .process.capabilities.bounding,
     seccomp: {defaultAction: .linux.seccomp.defaultAction, defaultErrnoRet: .linux.seccomp.defaultErrnoRet, rules: (.linux.seccomp.syscalls | length)},
     maskedPaths: .linux.maskedPaths, readonlyPaths: .linux.readonlyPaths, sysctl: .linux.sysctl,
     stopSignal: .annotations["org.opencontainers.image.stopSignal"]}' "$bundle/config.json"

step "rocker-runtime run --bundle $bundle $id"
node bin/rocker-runtime --root "$work/state" run --bundle "$bundle" "$id"

step "rocker run -d --name $id busybox …; rocker ps; rocker logs $id; rocker rm -f $id"
"${front[@]}" run -d --name "$id" busybox 'echo "$GREETING from a detached container"; sleep 60' >/dev/null
for _ in $(seq 50); do "${front[@]}" logs "$id" | grep -q detached && break; sleep 0.1; done
"${front[@]}" ps
"${front[@]}" logs "$id"
"${front[@]}" rm -f "$id"
