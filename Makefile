# threatd — the two commands of the README's Quick start, and a few helpers.
#   make run    set up, build (release) and run the service on http://localhost:8000
#   make test   set up, build and run every test (release: all tiers; then the
#               ASan+UBSan build: unit and integration)
# Both do all set-up themselves (scripts/setup.sh is idempotent).

JOBS ?= $(shell nproc)
NPM_STAMP := web/node_modules/.package-lock.json

.PHONY: all setup build run test test-release test-sanitize bench fuzz clean

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

# libFuzzer on the bundle loader for 60 s (clang, ASan+UBSan; cmake/ThreatdFuzz.cmake). New inputs
# go to build/fuzz/corpus, crashers to build/fuzz/crash-*: copy those into tests/fuzz/corpus/bundle/.
fuzz: setup
	CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTHREATD_FUZZ=ON -DTHREATD_BUILD_BENCH=OFF >/dev/null
	cmake --build build/fuzz --target bundle_loader_fuzzer multipart_fuzzer -j $(JOBS)
	mkdir -p build/fuzz/corpus build/fuzz/corpus-multipart
	./build/fuzz/bin/bundle_loader_fuzzer -max_total_time=60 -artifact_prefix=build/fuzz/ build/fuzz/corpus tests/fuzz/corpus/bundle
	./build/fuzz/bin/multipart_fuzzer -max_total_time=60 -artifact_prefix=build/fuzz/ build/fuzz/corpus-multipart tests/fuzz/corpus/multipart

clean:
	rm -rf build .setup-stamp
