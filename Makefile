# rocker build: TypeScript (tsc), the schema validators (ajv standalone) and the
# nsexec helper (CMake through cmake-js).
NODE_BIN := node_modules/.bin
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION := $(shell node -p "require('./package.json').version")

.PHONY: all deps install ts bundle validators protos nsexec fsops cgroup-helpers lock monitor shim-start shim-holder check test test-cgroup2 bench demo clean

# Debian packages the build, the tests and the benchmarks use (run as root).
APT_PACKAGES := build-essential cmake ninja-build pkg-config libjson-c-dev libseccomp-dev \
	busybox-static runc crun skopeo umoci docker-registry containerd podman \
	containernetworking-plugins iptables iproute2 procps util-linux zstd jq \
	apache2-utils hyperfine time openssl tar debootstrap

all: ts validators protos bundle nsexec fsops cgroup-helpers lock monitor shim-start shim-holder dist/build-info.json

# Everything a fresh Debian 12 machine needs, as root. Recommends are kept: podman
# and containerd are tested with what Debian installs alongside them by default.
deps:
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES)
	npm ci

# The bins on PATH (containerd finds containerd-shim-rocker-v2 there), as links into
# this tree: each bin finds dist/ beside itself.
PREFIX ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	for b in rocker rocker-runtime rocker-image containerd-shim-rocker-v2; do ln -sf $(CURDIR)/bin/$$b $(DESTDIR)$(PREFIX)/bin/$$b; done

node_modules/.package-lock.json: package.json package-lock.json
	npm ci

ts: node_modules/.package-lock.json
	$(NODE_BIN)/tsc -p tsconfig.json

validators: dist/schemas/validators.js

# The containerd shim's protobuf descriptors, from the vendored .proto files (schemas/containerd/).
protos: dist/schemas/containerd-proto.json
dist/schemas/containerd-proto.json: tools/proto-descriptors.mjs $(shell find schemas/containerd -name '*.proto') node_modules/.package-lock.json
	node tools/proto-descriptors.mjs $@

# rocker-runtime and rocker-image as CommonJS bundles (tools/bundle.mjs): no
# per-module ESM resolution on the start-up path. --noCheck: `ts` type-checks.
# The runtime's light verbs (state, kill, list, delete, start) read only the first
# file, the cgroup manager is a chunk of its own (delete, kill --all, pause), and so is
# exec with the nsexec channel (create and run read it too, with the rest).
# The network hook (bin/rocker-network-hook) runs twice per networked container.
# The front (bin/rocker, front/) reuses the image tool's bundle code as a library.
# The containerd shim's `start` and `delete` run once per container: its light first file
# has what `start` needs, the rest is read when the server or `delete` asks for it;
# it shares the monitor's client (front/monitor/) with the front.
# Then their V8 code caches (tools/code-cache.mjs), which bin/load-bundle.cjs reads.
RUNTIME_LIGHT := runtime/cli/commands/state.js,runtime/cli/commands/kill.js,runtime/cli/commands/list.js,runtime/cli/commands/delete.js,runtime/cli/commands/start.js
bundle: ts validators
	rm -rf build/cjs dist/rocker-*.cjs dist/rocker-*.cjs.cache
	$(NODE_BIN)/tsc -p tsconfig.json --module commonjs --moduleResolution bundler --noCheck --removeComments --outDir build/cjs
	node tools/bundle.mjs --core $(RUNTIME_LIGHT) --chunk cgroups:runtime/cgroups/index.js --chunk exec:runtime/cli/commands/exec.js \
		build/cjs dist runtime/cli/main.js dist/rocker-runtime.cjs runtime
	node tools/bundle.mjs build/cjs dist imagetool/cli/main.js dist/rocker-image.cjs imagetool runtime
	node tools/bundle.mjs build/cjs dist imagetool/network/hook-main.js dist/rocker-network-hook.cjs imagetool runtime
	node tools/bundle.mjs build/cjs dist front/cli/main.js dist/rocker.cjs front imagetool runtime
	node tools/bundle.mjs build/cjs dist shim/main.js dist/containerd-shim-rocker-v2.cjs shim runtime front/monitor
	node --random-seed=1 tools/code-cache.mjs dist/rocker-*.cjs dist/containerd-shim-rocker-v2*.cjs dist/schemas/validators/*.cjs

dist/schemas/validators.js: schemas/compile-validators.mjs $(wildcard schemas/*/*.json) node_modules/.package-lock.json
	node schemas/compile-validators.mjs $@

# cmake-js configures only when CMakeCache.txt is missing, so a configure that failed
# (e.g. `make` before `make deps`) would leave a build dir that never builds: one
# without build files is removed first. Pointing cmake-js at the headers Node ships
# keeps it offline. $(1): source dir, $(2): build dir.
define cmake_build
	@test -f $(2)/build.ninja || test -f $(2)/Makefile || rm -rf $(2)
	npm_config_nodedir=$${npm_config_nodedir:-/usr} $(NODE_BIN)/cmake-js build --directory $(1) --out $(2)
endef

# nsexec is a plain executable.
nsexec: node_modules/.package-lock.json
	$(call cmake_build,nsexec,build/nsexec)
	install -D -m 0755 build/nsexec/nsexec dist/nsexec

# rocker-fsops: mknod and xattrs for the image tool (Node has no API for them).
fsops: node_modules/.package-lock.json
	$(call cmake_build,imagetool/fsops,build/fsops)
	install -D -m 0755 build/fsops/rocker-fsops dist/rocker-fsops

# Small C helpers for what Node cannot do (bpf(2), eventfd(2)), used by runtime/cgroups/.
cgroup-helpers: node_modules/.package-lock.json
	$(call cmake_build,runtime/cgroups/native,build/cgroup-helpers)
	install -D -m 0755 build/cgroup-helpers/rocker-devfilter dist/rocker-devfilter
	install -D -m 0755 build/cgroup-helpers/rocker-oomwatch dist/rocker-oomwatch

# rocker-monitor: the per-container process of the `rocker` front (docs/front.md).
monitor: node_modules/.package-lock.json
	npm_config_nodedir=$${npm_config_nodedir:-/usr} $(NODE_BIN)/cmake-js build --directory front/monitor --out build/monitor
	install -D -m 0755 build/monitor/rocker-monitor dist/rocker-monitor

# containerd-shim-rocker-v2: the C front of the containerd shim (docs/shim.md); bin/ links to it.
shim-start: node_modules/.package-lock.json
	$(call cmake_build,shim/start,build/shim-start)
	install -D -m 0755 build/shim-start/containerd-shim-rocker-v2 dist/containerd-shim-rocker-v2

# rocker-shim-holder: the resident C half of the containerd shim (docs/shim.md, "The holder's channel").
shim-holder: node_modules/.package-lock.json
	$(call cmake_build,shim/holder,build/shim-holder)
	install -D -m 0755 build/shim-holder/rocker-shim-holder dist/rocker-shim-holder

# rocker-lock.node: open file description locks for the container and store locks
# (runtime/state/file-lock.ts; Node has no API for them).
lock: node_modules/.package-lock.json
	npm_config_nodedir=$${npm_config_nodedir:-/usr} $(NODE_BIN)/cmake-js build --directory runtime/state/native --out build/lock
	install -D -m 0755 build/lock/Release/rocker-lock.node dist/rocker-lock.node

# Rewritten only when the version or commit changed, so --version never goes stale.
dist/build-info.json: FORCE
	@mkdir -p dist
	@printf '{"version":"%s","commit":"%s","spec":"1.3.0"}\n' '$(VERSION)' '$(COMMIT)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

FORCE:

# Tests run through tools/test-reporter.mjs: node's own spec (terminal) or TAP output,
# then the skips summed up by reason and, for a file that timed out, the test it was in.
# --test-timeout is per file in Node 20 (the runner kills the file's process).
# ROCKER_CHECK_PROTOCOL: the runtime checks every init message against its schema.
NODE_TEST = ROCKER_CHECK_PROTOCOL=1 node --test --test-concurrency=1 --test-reporter=./tools/test-reporter.mjs

# The fast tier, what a contributor runs first: test/check/ holds the tests that need
# no root, no service and no container (parsers, schemas, config generation, the
# protocol messages, seccomp compilation); seconds in all.
check: ts validators
	$(NODE_TEST) --test-timeout=$(CHECK_TIMEOUT_MS) $(CHECK_FILES)

# Everything else needs root (namespaces, mounts, cgroups) and the packages .ci/run installs.
# The timeout is one file's budget on a 2-core machine under heavy load (the longest files
# take one to two minutes under a load average of 15); tests that can hang have their own.
test: all check
	$(NODE_TEST) --test-timeout=$(TEST_TIMEOUT_MS) $(TEST_FILES)

CHECK_FILES ?= $(shell find test/check -name '*.test.mjs' | sort)
TEST_FILES ?= $(shell find test -name '*.test.mjs' -not -path 'test/check/*' | sort)
CHECK_TIMEOUT_MS ?= 60000
TEST_TIMEOUT_MS ?= 600000

# The suites that depend on the cgroup layout, on pure cgroup v2 in User-Mode Linux
# guests (this machine's cgroup tree is never touched): ../shared/tools/uml-v2/run,
# or UML_V2=<path>. One guest per group, side by side (test/cgroup2/run.sh); the
# last group is containerd with each shim, as on a stock Debian 12 (pure v2).
CGROUP2_GROUPS := "test/cgroups/runtime-run.test.mjs test/cgroups/runtime-create.test.mjs" \
	"test/cgroups/runtime-pause.test.mjs test/cgroups/exec.test.mjs test/cgroups/memory-floor.test.mjs" \
	"test/cgroups/commands.test.mjs test/cgroups/manager.test.mjs test/cgroups/device-bpf.test.mjs" \
	"test/shim/ctr.test.mjs test/clients/containerd.test.mjs"
test-cgroup2: all
	test/cgroup2/run.sh $(CGROUP2_GROUPS)

# The main job: pull an image from a registry on loopback that it seeds, bundle it, run it.
demo: all
	bash test/demo.sh

bench: all
	node bench/run.mjs

clean:
	rm -rf dist build
