#!/usr/bin/env bash
# Builds the PDQ reference hasher (facebook/ThreatExchange pdq/cpp, `pdq-photo-hasher`) outside the repository,
# once, and prints its path. Used by pdq_compare.sh (speed) and pdq_agreement.py (hash agreement).
#
#   REF_REPO=/path/to/ThreatExchange(.git) bench/pdq_reference.sh
#
# Variables: REF_REPO (a clone or bare mirror of facebook/ThreatExchange), REF_COMMIT (default baefb4ed67b6, the
# commit ../shared/testdata/pdq/reference-hashes.csv came from), SCRATCH (default /tmp/scratch/pdq-compare).
# The reference is built with g++ -O3 against Debian's libjpeg62-turbo and libpng (CImg's JPEG and PNG loaders;
# other formats go through ImageMagick's `convert`, as CImg does by itself). No code of the reference enters the
# repository: it is extracted and built under SCRATCH only.
set -euo pipefail

SCRATCH=${SCRATCH:-/tmp/scratch/pdq-compare}
REF_COMMIT=${REF_COMMIT:-baefb4ed67b6}
REF=$SCRATCH/pdq-photo-hasher

if [ ! -x "$REF" ]; then
  command -v g++ > /dev/null || { echo "pdq_reference: g++ is missing" >&2; exit 2; }
  [ -n "${REF_REPO:-}" ] || { echo "pdq_reference: set REF_REPO to a checkout of facebook/ThreatExchange" >&2; exit 2; }
  mkdir -p "$SCRATCH"
  src=$SCRATCH/src
  rm -rf "$src" && mkdir -p "$src"
  # Only the C++ sources and headers (git archive would also want the PDFs, which a partial mirror may lack).
  git -C "$REF_REPO" ls-tree -r --name-only "$REF_COMMIT" pdq/cpp | grep -E '\.(cpp|h)$' | while read -r f; do
    mkdir -p "$src/$(dirname "$f")"
    git -C "$REF_REPO" show "$REF_COMMIT:$f" > "$src/$f"
  done
  (cd "$src/pdq/cpp" &&
    g++ -std=c++14 -O3 -I../.. -I. -Dcimg_use_jpeg -Dcimg_use_png -Dcimg_display=0 bin/pdq-photo-hasher.cpp \
      common/pdqhashtypes.cpp io/hashio.cpp common/pdqhamming.cpp hashing/pdqhashing.cpp \
      downscaling/downscaling.cpp io/pdqio.cpp hashing/torben.cpp common/pdqutils.cpp \
      -o "$REF.tmp" -ljpeg -lpng -lz -lpthread -lm) >&2
  mv "$REF.tmp" "$REF"
fi
echo "$REF"
