#!/usr/bin/env bash
# The demo: darkroom on real sample photos (Debian's opencv-doc and python3-skimage, ../shared/testdata/pdq).
set -euo pipefail
DARKROOM=${1:-build/darkroom}
PHOTOS=(
  /usr/lib/python3/dist-packages/skimage/data/{astronaut,camera,chelsea,coffee,motorcycle_left,rocket}.png
  /usr/lib/python3/dist-packages/skimage/data/rocket.jpg
  /usr/share/doc/opencv-doc/examples/data/{messi5,fruits,left01,right01,baboon,lena}.jpg
  /usr/share/doc/opencv-doc/examples/data/{imageTextN,imageTextR}.png
)
existing=()
for p in "${PHOTOS[@]}"; do [ -f "$p" ] && existing+=("$p"); done
echo "== darkroom analyze on ${#existing[@]} sample photos"
set +e
"$DARKROOM" analyze "${existing[@]}" >/tmp/darkroom-demo.jsonl
status=$?
set -e
python3 - /tmp/darkroom-demo.jsonl <<'PY'
import json, os, sys
for line in open(sys.argv[1]):
    j = json.loads(line)
    name = os.path.basename(j["path"])
    if "error" in j and "width" not in j:
        print(f"  {name:22s} error: {j['error']}")
        continue
    parts = [f"{j['width']}x{j['height']}"]
    if "pdq" in j: parts.append(f"pdq {j['pdq']['hash'][:12]}… q{j['pdq']['quality']}")
    if "faces" in j: parts.append(f"{len(j['faces'])} face(s)")
    if "objects" in j:
        labels = sorted({o['label'] for o in j['objects']})
        parts.append("objects: " + (", ".join(labels) if labels else "none"))
    if "text" in j:
        full = j["text"].get("full", "").replace("\n", " / ")
        parts.append(f"text: {full[:40]!r}" if full else "no text")
    total = sum(v for k, v in j.get("timings_ms", {}).items())
    parts.append(f"{total:.0f} ms")
    print(f"  {name:22s} " + " · ".join(parts))
    if "error" in j: print(f"  {'':22s} error: {j['error']}")
PY
echo "(full JSON lines in /tmp/darkroom-demo.jsonl; exit status $status)"
