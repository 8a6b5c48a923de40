#!/usr/bin/env bash
# End-to-end `darkroom work` throughput on the sample photos (Debian's opencv-doc and python3-skimage images, and
# ../shared/testdata/pdq when present): a fresh library, `add`, then `work --until-idle` under /usr/bin/time -v.
# Prints photos per second (work alone, from its own clock) and peak memory (maximum resident set size).
#   bash bench/library_work.sh [BUILD_DIR] [TASKS] [THREADS]      e.g. bash bench/library_work.sh build pdq 2
set -euo pipefail
BUILD=${1:-build}
TASKS=${2:-pdq}
THREADS=${3:-2}
DR=$(realpath "$BUILD/darkroom")
HERE=$(cd "$(dirname "$0")/.." && pwd)
SCRATCH=$(mktemp -d /tmp/darkroom-workbench-XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
PHOTOS=(/usr/share/doc/opencv-doc/examples/data /usr/lib/python3/dist-packages/skimage/data)
[ -d "$HERE/../shared/testdata/pdq" ] && PHOTOS+=("$HERE/../shared/testdata/pdq")
LIB="$SCRATCH/lib"
"$DR" --library "$LIB" -q init
"$DR" --library "$LIB" --json add --tasks "$TASKS" "${PHOTOS[@]}" >"$SCRATCH/add.json"
/usr/bin/time -v -o "$SCRATCH/time.txt" "$DR" --library "$LIB" --json -q --threads "$THREADS" work --until-idle \
  >"$SCRATCH/work.json"
python3 - "$SCRATCH" "$TASKS" "$THREADS" <<'PY'
import json, re, sys
d, tasks, threads = sys.argv[1:]
add = json.load(open(f"{d}/add.json"))
work = json.load(open(f"{d}/work.json"))
t = open(f"{d}/time.txt").read()
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
print(f"tasks={tasks} threads={threads}: {work['photos']} photos ({add['found']} files), "
      f"{work['done']} jobs done, {work['failed']} failed, in {work['seconds']:.2f} s = "
      f"{work['photos'] / work['seconds']:.1f} photos/s; process wall {wall}; peak RSS {rss / 1024:.0f} MiB")
PY
