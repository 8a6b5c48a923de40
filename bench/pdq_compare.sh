#!/usr/bin/env bash
# PDQ end to end beside its peers, with hyperfine: `djpeg -scale 1/8` (the JPEG decoding floor), `darkroom hash`
# (fast path, 1 and 2 threads; --exact) and the reference hasher (facebook/ThreatExchange pdq/cpp, built here from
# a checkout outside the repository by bench/pdq_reference.sh), on the 12-MP phone photos, 1.6-MP and
# 256x256 JPEGs and PNGs of ../shared/testdata/pdq; then peak memory with /usr/bin/time -v.
#
#   REF_REPO=/path/to/ThreatExchange(.git) bench/pdq_compare.sh      # figures go to BENCHMARKS.md, section PDQ
#
# Variables: DARKROOM (default build/darkroom), REF_REPO (a clone or bare mirror of facebook/ThreatExchange; the
# reference is built once into SCRATCH), REF_COMMIT (default baefb4ed67b6, the commit reference-hashes.csv came
# from), SCRATCH (default /tmp/scratch/pdq-compare), RUNS (default 10), DARKROOM_SHARED_DIR (default ../shared).
# No code of the reference enters the repository: it is extracted and built under SCRATCH only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${DARKROOM_SHARED_DIR:-$ROOT/../shared}  # as the CMake cache variable of the same name
DATA=$SHARED/testdata/pdq
DARKROOM=${DARKROOM:-$ROOT/build/darkroom}
SCRATCH=${SCRATCH:-/tmp/scratch/pdq-compare}
REF_COMMIT=${REF_COMMIT:-baefb4ed67b6}
RUNS=${RUNS:-10}

for tool in hyperfine djpeg /usr/bin/time g++; do
  command -v "$tool" > /dev/null || { echo "pdq_compare: $tool is missing (apt-get install hyperfine libjpeg-turbo-progs time g++)" >&2; exit 2; }
done
[ -x "$DARKROOM" ] || { echo "pdq_compare: no $DARKROOM; build it first (cmake --build build --target darkroom)" >&2; exit 2; }
mkdir -p "$SCRATCH"

# ---- the reference, built once (bench/pdq_reference.sh) ----
REF=$(SCRATCH=$SCRATCH REF_COMMIT=$REF_COMMIT "$ROOT/bench/pdq_reference.sh")
echo "reference: $REF (facebook/ThreatExchange $REF_COMMIT, g++ -O3, libjpeg $(dpkg-query -W -f='${Version}' libjpeg62-turbo 2>/dev/null || echo '?'))"
echo "darkroom:  $DARKROOM ($(git -C "$ROOT" rev-parse --short HEAD))"
echo "machine:   $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

PHONE=("$DATA"/reg-test-input/exif-rotn/exif-rotn-{1,3,6,8}.jpg)
BRIDGE=("$DATA"/reg-test-input/dih/bridge-*.jpg)
SMALL=("$DATA"/reg-test-input/labelme-subset/q*.jpg)
# PNGs the reference can read (its CImg build stops at RGBA: "Internal coding error" on pen-and-coaster.png, c.png).
PNGS=("$DATA"/misc-images/modes/L.png "$DATA"/misc-images/modes/P.png)

djpeg_all() {  # one djpeg process per file, like one hasher process per file
  local scale=$1
  shift
  printf "sh -c 'for f in %s; do djpeg -scale %s -outfile /dev/null \"\$f\"; done'" "$*" "$scale"
}

run() {  # name, then hyperfine commands
  local name=$1
  shift
  echo
  echo "== $name"
  hyperfine -N -w 2 -r "$RUNS" --export-markdown "$SCRATCH/$name.md" "$@" 2>&1 | grep -vE '^\s*$'
}

run phone-12mp \
  "$(djpeg_all 1/8 "${PHONE[@]}")" \
  "$DARKROOM --threads 1 hash ${PHONE[*]}" \
  "$DARKROOM --threads 2 hash ${PHONE[*]}" \
  "$DARKROOM --threads 1 hash --exact ${PHONE[*]}" \
  "$REF ${PHONE[*]}" \
  "sh -c 'printf \"%s\\n\" ${PHONE[*]} | xargs -P2 -n2 $REF'"

run bridge-1.6mp \
  "$(djpeg_all 1/8 "${BRIDGE[@]}")" \
  "$(djpeg_all 1/2 "${BRIDGE[@]}")" \
  "$DARKROOM --threads 1 hash ${BRIDGE[*]}" \
  "$DARKROOM --threads 2 hash ${BRIDGE[*]}" \
  "$REF ${BRIDGE[*]}"

run small-256 \
  "$(djpeg_all 1/1 "${SMALL[@]}")" \
  "$DARKROOM --threads 1 hash ${SMALL[*]}" \
  "$REF ${SMALL[*]}"

run png \
  "$DARKROOM --threads 1 hash ${PNGS[*]}" \
  "$DARKROOM --threads 1 hash --exact ${PNGS[*]}" \
  "$REF ${PNGS[*]}"

run startup "$DARKROOM --version" "djpeg -version"

echo
echo "== peak memory (maximum resident set size, KiB), 12-MP photos"
peak() { /usr/bin/time -v "$@" 2>&1 > /dev/null | awk -F': ' '/Maximum resident/ {print $2}'; }
printf "%-48s %s\n" "djpeg -scale 1/8 (one photo)" "$(peak djpeg -scale 1/8 -outfile /dev/null "${PHONE[0]}")"
printf "%-48s %s\n" "darkroom --threads 1 hash (4 photos)" "$(peak "$DARKROOM" --threads 1 hash "${PHONE[@]}")"
printf "%-48s %s\n" "darkroom --threads 2 hash (4 photos)" "$(peak "$DARKROOM" --threads 2 hash "${PHONE[@]}")"
printf "%-48s %s\n" "darkroom --threads 1 hash --exact (4 photos)" "$(peak "$DARKROOM" --threads 1 hash --exact "${PHONE[@]}")"
printf "%-48s %s\n" "reference (4 photos)" "$(peak "$REF" "${PHONE[@]}")"
printf "%-48s %s\n" "darkroom --threads 1 hash (PNGs)" "$(peak "$DARKROOM" --threads 1 hash "${PNGS[@]}")"
printf "%-48s %s\n" "reference (PNGs)" "$(peak "$REF" "${PNGS[@]}")"
