# threatd — the two commands of the README's Quick start, and a few helpers.
#   make run    set up, build (release) and run the service on http://localhost:8000
#   make test   set up, build and run every test (release: all tiers; then the
#               ASan+UBSan build: unit and integration)
# Both do all set-up themselves (scripts/setup.sh is idempotent).

JOBS ?= $(shell nproc)
NPM_STAMP := web/node_modules/.package-lock.json

.PHONY: all setup build run test test-release test-sanitize bench clean

all: build

setup: .setup-stamp $(NPM_STAMP)

.setup-stamp: scripts/setup.sh
	bash scripts/setup.sh
	@touch $@

$(NPM_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

build: setup
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

run: build
	./build/release/bin/threatd serve

test: test-release test-sanitize

test-release: build
	ctest --preset release -j $(JOBS)

test-sanitize: setup
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)
	ctest --preset debug -j $(JOBS)

bench: build
	bash bench/run.sh

clean:
	rm -rf build .setup-stamp
