#!/usr/bin/env bash
# The library part of `make demo`: a library in a scratch folder, the sample photos added (Debian's opencv-doc and
# python3-skimage images, ../shared/testdata/pdq when present), `work --until-idle` with its progress bar, then the
# status, the duplicate groups and a few searches.
#   bash scripts/library_demo.sh [DARKROOM_BINARY] [SHARED_DIR]
set -euo pipefail
DARKROOM=${1:-build/darkroom}
SHARED=${2:-../shared}
SCRATCH=$(mktemp -d /tmp/darkroom-demo-XXXXXX)
export DARKROOM_LIBRARY="$SCRATCH/library"
PHOTOS=(/usr/share/doc/opencv-doc/examples/data /usr/lib/python3/dist-packages/skimage/data)
[ -d "$SHARED/testdata/pdq" ] && PHOTOS+=("$SHARED/testdata/pdq")
run() { echo; echo "\$ darkroom $*"; "$DARKROOM" "$@"; }
run init
run add "${PHOTOS[@]}"
run work --until-idle
run status
run dupes
run search fruits
run search 2022-06 --limit 5
run search --json baboon
echo
echo "(the library is in $DARKROOM_LIBRARY; delete it with: rm -rf $SCRATCH)"
