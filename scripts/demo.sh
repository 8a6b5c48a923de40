#!/usr/bin/env bash
# The demo: darkroom builds a real library from sample photos (Debian's opencv-doc and python3-skimage images, and
# ../shared/testdata/pdq when present), shows what it knows, then serves it in a browser (SERVE=0: it stops
# there). Usage: scripts/demo.sh [path/to/darkroom]
#
# The library goes where darkroom looks without being told ($DARKROOM_LIBRARY, else ~/.local/share/darkroom), so
# that `darkroom status`, `search` or `serve` afterwards find it; a library already there that the demo did not make
# is left alone and the demo uses ~/.local/share/darkroom-demo instead. DEMO_LIBRARY chooses another folder.
set -euo pipefail
DARKROOM=$(realpath "${1:-build/darkroom}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
SERVE=${SERVE:-1}
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
if [ -n "${DEMO_LIBRARY:-}" ]; then
  LIB=$DEMO_LIBRARY
else
  LIB=${DARKROOM_LIBRARY:-$DATA/darkroom}
  if [ -e "$LIB/catalog.db" ] && [ ! -e "$LIB/.made-by-the-demo" ]; then
    echo "demo: $LIB holds a library the demo did not make; using $DATA/darkroom-demo instead"
    LIB=$DATA/darkroom-demo
  fi
fi
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
touch "$LIB/.made-by-the-demo"
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
step "darkroom people"
"$DARKROOM" people
step "the library is in $LIB; darkroom finds it there (darkroom status, darkroom show PATH)"
if [ "$SERVE" = 1 ]; then
  # The sample photos' folders are the roots the page may add from.
  ROOTS=()
  for p in "${PHOTOS[@]}"; do [ -d "$p" ] && ROOTS+=(--root "$p"); done
  step "darkroom serve: open the address below in a browser; Ctrl-C ends it"
  exec "$DARKROOM" serve "${ROOTS[@]}"
fi
