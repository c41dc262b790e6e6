# Thin wrapper over CMake for the README's entry points.
#   make demo   build (release) and run the main job on the embedded default
#   make test   build with ASan+UBSan and -Werror (gcc) and run every test
#   make bench  build (release) and run the benchmarks beside their reference tools
#   make fuzz   build the libFuzzer targets (clang-14) and run each for FUZZ_SECONDS
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build release asan test demo bench fuzz clean

all: release

deps:
	@bash scripts/install-deps

release: deps
	cmake --preset release >/dev/null
	cmake --build build/release -j $(JOBS)

asan: deps
	CC=gcc cmake --preset asan >/dev/null
	cmake --build build/asan -j $(JOBS)

test: asan
	cd build/asan && ctest --output-on-failure -j $(JOBS)

demo: release
	bash scripts/demo build/release

bench: release
	bash bench/run-all build/release

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	bash fuzz/run-bounded build/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build
