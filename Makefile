# The two commands a new machine needs: `make demo` and `make test`.
# Both install what they need first (Debian packages, npm packages, build).

SHELL := /bin/bash
NODE_BIN := node_modules/.bin

.PHONY: all deps build install demo demo-kernel test test-unit test-integration bench clean \
	format integration-dind integration-dind-clean

all: build

deps: node_modules/.installed .deps/debian

.deps/debian: scripts/install-deps.sh
	bash scripts/install-deps.sh
	@mkdir -p .deps && touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: node_modules/.installed
	rm -rf dist/bundle
	$(NODE_BIN)/tsc -p tsconfig.json
	node scripts/bundle.mjs

install: deps build
	ln -sf "$(CURDIR)/bin/flow-sandbox" /usr/local/bin/flow-sandbox

demo: deps build
	node dist/scripts/demo.js

# The same demo with SRT made unavailable (bwrap hidden from PATH): auto
# falls back to the kernel engine.
demo-kernel: deps build
	node dist/scripts/demo.js --without-srt

test: deps build
	$(NODE_BIN)/ava

test-unit: deps build
	$(NODE_BIN)/ava 'dist/test/**/*.test.js'

test-integration: deps build
	$(NODE_BIN)/ava --serial 'dist/integration/**/*.test.js'

bench: deps build
	npm run bench

format: node_modules/.installed
	$(NODE_BIN)/prettier --write 'src/**/*.ts' 'test/**/*.ts' 'integration/**/*.ts' 'scripts/**/*.ts'

# flow-sandbox inside job containers, started the way runners start them
# (root; installs and starts Docker if needed; see scripts/dind/run.sh).
integration-dind:
	bash scripts/dind/run.sh

# Removes the images integration-dind keeps on purpose (base, runner, caches).
integration-dind-clean:
	bash scripts/dind/clean.sh

clean:
	rm -rf dist .deps
