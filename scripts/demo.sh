#!/usr/bin/env bash
# The demo: darkroom builds a real library from sample photos (Debian's opencv-doc and python3-skimage images, and
# ../shared/testdata/pdq when present), then shows what it knows. Usage: scripts/demo.sh [path/to/darkroom]
set -euo pipefail
DARKROOM=$(realpath "${1:-build/darkroom}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
LIB=${DEMO_LIBRARY:-$(mktemp -d /tmp/darkroom-demo.XXXXXX)}
export DARKROOM_LIBRARY=$LIB

# DEMO_PHOTOS (folders or files, space-separated) replaces the sample photos (the end-to-end test uses it).
PHOTOS=()
if [ -n "${DEMO_PHOTOS:-}" ]; then
  read -r -a PHOTOS <<<"$DEMO_PHOTOS"
else
  for d in /usr/lib/python3/dist-packages/skimage/data /usr/share/doc/opencv-doc/examples/data; do
    [ -d "$d" ] && PHOTOS+=("$d")
  done
  [ -d "$SHARED/testdata/pdq" ] && PHOTOS+=("$SHARED/testdata/pdq")
fi
if [ ${#PHOTOS[@]} -eq 0 ]; then
  echo "demo: no sample photos; run scripts/setup.sh (it installs opencv-doc and python3-skimage)" >&2
  exit 1
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "darkroom init  (library in $LIB)"
"$DARKROOM" init
step "darkroom add ${PHOTOS[*]}"
"$DARKROOM" add "${PHOTOS[@]}"
step "darkroom work --until-idle"
"$DARKROOM" work --until-idle
step "darkroom status"
"$DARKROOM" status
step "darkroom dupes"
"$DARKROOM" dupes
for q in "bridge" "cat" "person" "2019"; do
  step "darkroom search $q"
  "$DARKROOM" search "$q" || true
done
if "$DARKROOM" --help | grep -q '^  people'; then
  step "darkroom people"
  "$DARKROOM" people
fi
step "done: the library is in $LIB (DARKROOM_LIBRARY=$LIB darkroom show PATH to see one photo)"
