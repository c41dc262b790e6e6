# Thin wrapper over CMake for the README's entry points.
#   make demo   build (release) and run the main job on the embedded default
#   make test   build with ASan+UBSan and -Werror (gcc) and run every test; the stream tests again
#               (and the generator's threaded writers) under ThreadSanitizer
#   make bench  build (release) and run the benchmarks beside their reference tools
#   make fuzz   build the libFuzzer targets (clang-14) and run each for FUZZ_SECONDS
#   make check  STYLE.md by machine: scripts/check-style (format, banned calls, exported symbols of
#               the asan build) and scripts/check-layers (DESIGN.md's include table)
#   make clang  build the CLI and every test with clang-14 -Werror (compile only; gcc runs them)
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build release asan tsan test demo bench fuzz check clang clean

all: release

deps:
	@bash scripts/install-deps

release: deps
	cmake --preset release >/dev/null
	cmake --build build/release -j $(JOBS)

asan: deps
	CC=gcc cmake --preset asan >/dev/null
	cmake --build build/asan -j $(JOBS)

# The shared-memory stream code also runs under ThreadSanitizer (its Python tests skip themselves
# there: a TSan libard.so cannot be loaded into python), and so does the generator's threaded
# writer path (tsan_survey_generate).
tsan: deps
	CC=gcc cmake --preset tsan >/dev/null
	cmake --build build/tsan -j $(JOBS) --target test_stream test_survey test_core ard_cli

# Each ctest run ends with what it skipped, whole or in part (scripts/test-skips runs ctest: a
# part that skips inside a passing test shows only in the test's output otherwise).
test: asan tsan
	cd build/asan && python3 ../../scripts/test-skips --ctest build/asan --output-on-failure -j $(JOBS)
	cd build/tsan && python3 ../../scripts/test-skips --ctest build/tsan --output-on-failure \
	  -R '^stream|^tsan_'


# CHECK_STYLE_SKIP: checks of scripts/check-style to leave out (e.g. "banned"), see .ci/run.
CHECK_STYLE_SKIP ?=
check: asan
	bash scripts/check-style $(foreach c,$(CHECK_STYLE_SKIP),--skip $(c)) build/asan
	python3 scripts/check-layers

clang: deps
	cmake --preset clang >/dev/null
	cmake --build build/clang -j $(JOBS) --target ard_cli ard_tests

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
