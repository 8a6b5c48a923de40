#!/usr/bin/env bash
# Memory of `darkroom work` with every default task (pdq, faces, objects, text, thumbs; the models of
# $DARKROOM_MODELS, by default the tests' .models that `make test-models` installs):
#   1. peak RSS (/usr/bin/time -v) on 12-megapixel photos: the sample photos scaled to 4000x3000 by ImageMagick and
#      ../shared/testdata/pdq's four 4032x3024 JPEGs, with 1 and 2 worker threads;
#   2. RSS over a long run: PHOTOS photos made from the sample photos (bench/make_photos --from: random crops, so
#      faces and text are found and every task's whole path runs), VmRSS sampled every 2 s against the photos done;
#      it must not grow.
#   bash bench/memory.sh [BUILD] [PHOTOS] [THREADS]        e.g. bash bench/memory.sh build 20000 2
# TASKS=pdq,text,... measures other tasks; LONG_ONLY=1 skips the 12-MP part.
set -euo pipefail
BUILD=${1:-build}
N=${2:-20000}
THREADS=${3:-2}
DR=$(realpath "$BUILD/darkroom")
HERE=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH=$(mktemp -d /tmp/darkroom-memory-XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
SK=/usr/lib/python3/dist-packages/skimage/data
CV=/usr/share/doc/opencv-doc/examples/data
TASKS=${TASKS:-pdq,faces,objects,text,thumbs}
export DARKROOM_MODELS=${DARKROOM_MODELS:-$HERE/.models}

mkdir -p "$SCRATCH/12mp" "$SCRATCH/src"
for f in $SK/astronaut.png $SK/chelsea.png $SK/coffee.png $SK/rocket.jpg $SK/motorcycle_left.png $CV/fruits.jpg \
         $CV/building.jpg; do
  convert "$f" -resize '4000x3000!' -quality 90 "$SCRATCH/12mp/$(basename "${f%.*}").jpg"
done
cp "$HERE"/../shared/testdata/pdq/reg-test-input/exif-rotn/*.jpg "$SCRATCH/12mp/" 2>/dev/null || true
for threads in $([ -n "${LONG_ONLY:-}" ] || echo 1 2); do
  rm -rf "$SCRATCH/lib"
  "$DR" --library "$SCRATCH/lib" -q init
  "$DR" --library "$SCRATCH/lib" -q add --tasks "$TASKS" "$SCRATCH/12mp" >/dev/null
  /usr/bin/time -v -o "$SCRATCH/time.txt" "$DR" --library "$SCRATCH/lib" -q --json --threads "$threads" \
    work --until-idle >"$SCRATCH/work.json"
  python3 - "$SCRATCH/work.json" "$SCRATCH/time.txt" "$threads" <<'PY'
import json, re, sys
w = json.load(open(sys.argv[1]))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(sys.argv[2]).read()).group(1))
print(f"12-MP photos, {sys.argv[3]} thread(s): {w['photos']} photos, {w['done']} jobs done, {w['failed']} failed "
      f"in {w['seconds']:.1f} s; peak RSS {rss / 1024:.0f} MiB")
PY
done

# The long run: sources as JPEGs (make_photos reads JPEG), then N crops of them.
for f in $SK/*.png $SK/*.jpg $CV/*.jpg $CV/*.png; do
  convert "$f" -resize '1600x1600>' -quality 90 "$SCRATCH/src/$(basename "${f%.*}").jpg" 2>/dev/null || true
done
"$BUILD/bench/make_photos" "$SCRATCH/photos" "$N" --from "$SCRATCH/src" >/dev/null
rm -rf "$SCRATCH/lib"
"$DR" --library "$SCRATCH/lib" -q init
"$DR" --library "$SCRATCH/lib" -q add --tasks "$TASKS" "$SCRATCH/photos" >/dev/null
python3 - "$DR" "$SCRATCH/lib" "$THREADS" "$N" <<'PY'
import sqlite3, subprocess, sys, time
dr, lib, threads, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
p = subprocess.Popen([dr, "--library", lib, "-q", "--threads", threads, "work", "--until-idle"])
db = sqlite3.connect(f"file:{lib}/catalog.db?mode=ro", uri=True, timeout=30)
marks = [1000, 2000, 5000, 10000, 15000, 20000, 50000, 100000]
samples, t0 = [], time.time()
def rss():  # resident, and of it anonymous memory (the heap; the rest is mapped files)
    try:
        v = {l.split(":")[0]: int(l.split()[1]) / 1024 for l in open(f"/proc/{p.pid}/status") if l.startswith(("VmRSS:", "RssAnon:"))}
        return (v["VmRSS"], v["RssAnon"])
    except (FileNotFoundError, KeyError):
        return None
while p.poll() is None:
    time.sleep(2)
    r = rss()
    try:
        done = db.execute("SELECT count(*) FROM (SELECT photo_id FROM jobs GROUP BY photo_id "
                          "HAVING sum(state IN ('queued','running')) = 0)").fetchone()[0]
    except sqlite3.OperationalError:
        continue
    if r is not None:
        samples.append((done, r, time.time() - t0))
p.wait()
print(f"long run: {n} photos, {threads} threads, {time.time() - t0:.0f} s, exit {p.returncode}")
print("| photos done | VmRSS | of it anonymous | minutes |")
print("|---|---|---|---|")
for m in [m for m in marks if m <= n] + [samples[-1][0] if samples else 0]:
    s = next((s for s in samples if s[0] >= m), None)
    if s:
        print(f"| {s[0]:,} | {s[1][0]:.0f} MiB | {s[1][1]:.0f} MiB | {s[2] / 60:.1f} |")
if samples:
    print(f"highest sample: {max(s[1][0] for s in samples):.0f} MiB")
PY
