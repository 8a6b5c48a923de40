#!/usr/bin/env bash
# `make bench`: the in-process benchmarks, briefly (BENCHMARKS.md gives each one's full command and figures).
# The long ones (1,000,000 PDQ hashes or CLIP vectors, the peers side by side) are run by their own commands there.
set -euo pipefail
BUILD=${1:-build}
for b in pdq_bench queue_bench faces_bench objects_clip_bench text_bench; do
  echo "== $b"
  "$BUILD/bench/$b" --benchmark_min_time=0.3
done
echo "== darkroom work on the sample photos (pdq only)"
bash "$(dirname "$0")/library_work.sh" "$BUILD" pdq 2
# The page's timeline in headless Chromium, on a small synthetic library (BENCHMARKS.md, "The page": 100,000 photos).
if [ -x "$BUILD/bench/make_library" ]; then
  echo "== the page's timeline (10,000 photos)"
  tmp=$(mktemp -d)
  "$BUILD/bench/make_library" --library "$tmp/lib" --photos 10000 >/dev/null 2>&1
  node "$(dirname "$0")/web_timeline.mjs" --darkroom "$BUILD/darkroom" --library "$tmp/lib" --runs 3 --seconds 3 \
    --deep false | tail -n +2
  rm -rf "$tmp"
fi
