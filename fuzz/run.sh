#!/usr/bin/env bash
# The fuzz targets as a regression check (`make test-fuzz`): the seed corpora written afresh from the files on this
# machine (make_seeds), then for each target every input that once crashed it (fuzz/regressions/<target>/, each run
# once) and a short run of the fuzzer from its seeds (a fixed seed, SECONDS of mutation). Fails on the first crash,
# sanitizer report, hang (10 s per input) or input that takes more than 2 GiB; the input is kept under
# BUILD/fuzz-artifacts/.
#   fuzz/run.sh BUILD [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz/run.sh BUILD [SECONDS] [TARGET...]}
seconds=${2:-20}
shift $(( $# < 2 ? $# : 2 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pdq_fuzz image_fuzz onnx_fuzz tokenizer_fuzz manifest_fuzz settings_fuzz http_fuzz)
shared=${DARKROOM_SHARED_DIR:-$(cd .. && pwd)/shared}
models=${DARKROOM_MODELS:-$PWD/.models}
export DARKROOM_MODELS=$models
# ONNX Runtime, libvips and glib keep allocations for the life of the process (tests/lsan.supp).
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Seeds and each target's corpus live in a folder of this run's own (two runs may go side by side).
scratch=$(mktemp -d /tmp/darkroom-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
seeds=$scratch/seeds
ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/make_seeds" "$seeds" "$shared" "$models"
mkdir -p "$build/fuzz-artifacts"

# target: seed folder, dictionary, longest input
declare -A seed_dir=([pdq_fuzz]=image [image_fuzz]=image [onnx_fuzz]=onnx [tokenizer_fuzz]=tokenizer
                     [manifest_fuzz]=manifest [settings_fuzz]=settings [http_fuzz]=http)
declare -A dict=([pdq_fuzz]=jpeg [image_fuzz]=jpeg [onnx_fuzz]=onnx [tokenizer_fuzz]=json [manifest_fuzz]=json
                 [settings_fuzz]=json [http_fuzz]=http)
declare -A max_len=([pdq_fuzz]=65536 [image_fuzz]=65536 [onnx_fuzz]=65536 [tokenizer_fuzz]=65536
                    [manifest_fuzz]=65536 [settings_fuzz]=16384 [http_fuzz]=20000)

for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  common=(-timeout=10 -rss_limit_mb=2048 -max_len="${max_len[$t]}" -dict="fuzz/dict/${dict[$t]}.dict"
          -artifact_prefix="$build/fuzz-artifacts/$t-" -print_final_stats=1)
  start=$(date +%s)
  shopt -s nullglob
  regressions=(fuzz/regressions/"$t"/*)
  shopt -u nullglob
  if [ ${#regressions[@]} -gt 0 ]; then
    "$bin" "${common[@]}" "${regressions[@]}" >"$build/fuzz-artifacts/$t-regressions.log" 2>&1 ||
      { tail -50 "$build/fuzz-artifacts/$t-regressions.log"; echo "$t: an input of fuzz/regressions/$t fails again"; exit 1; }
  fi
  work=$scratch/corpus-$t
  mkdir -p "$work"
  "$bin" "${common[@]}" -seed=1 -max_total_time="$seconds" "$work" "$seeds/${seed_dir[$t]}" \
    >"$build/fuzz-artifacts/$t.log" 2>&1 ||
    { tail -60 "$build/fuzz-artifacts/$t.log"; echo "$t: the fuzzer found a failure (see $build/fuzz-artifacts)"; exit 1; }
  stats=$(grep -E '^stat::(number_of_executed_units|new_units_added)' "$build/fuzz-artifacts/$t.log" | awk '{print $2}' | paste -sd/)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$build/fuzz-artifacts/$t.log" | tail -1)
  echo "$t: ${#regressions[@]} regression inputs pass; $stats runs/new units in $(( $(date +%s) - start )) s, $cov"
done
