#!/usr/bin/env bash
# A library on PostgreSQL, measured (BENCHMARKS.md, "Many machines: PostgreSQL"):
#   1. the queue with analysis switched off, durable commits (fsync on): lease and complete, one job per
#      transaction and 16 at a time; the worker pool's own loop (build/bench/postgres_queue_bench);
#   2. throughput against the number of worker processes (1 to 64), each its own connection as separate machines
#      would be, with the test build's `wait` task (a task that only waits WAIT_MS: needs -DDARKROOM_TEST_HOOKS=ON,
#      as `make build` configures);
#   3. search, dupes and people on the same synthetic library (bench/make_library, PHOTOS photos) in SQLite and in
#      PostgreSQL, side by side (hyperfine, whole commands).
#
#   bench/postgres_bench.sh        # DARKROOM (build/darkroom), PHOTOS (20000), WAIT_MS (200), PER_PROCESS (40)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
DARKROOM=$(realpath "${DARKROOM:-$BUILD/darkroom}")
SCRATCH=${SCRATCH:-/tmp/scratch/pg-bench}
PHOTOS=${PHOTOS:-20000}
WAIT_MS=${WAIT_MS:-200}
PER_PROCESS=${PER_PROCESS:-40}  # photos per worker process in part 2: every run lasts about as long
for tool in hyperfine psql python3; do
  command -v "$tool" >/dev/null || { echo "postgres_bench: $tool is missing (apt-get install hyperfine postgresql-client)" >&2; exit 2; }
done
mkdir -p "$SCRATCH"
echo "darkroom $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

# A server of our own, with PostgreSQL's durable defaults (fsync, synchronous commits).
bash "$ROOT/scripts/test_postgres.sh" start "$SCRATCH/server" --durable >/dev/null
trap 'bash "$ROOT/scripts/test_postgres.sh" stop "$SCRATCH/server"' EXIT
SERVER=$(cat "$SCRATCH/server/url")
db() {  # db NAME: a fresh database, its URL on stdout
  psql -q "$SERVER" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null 2>&1
  echo "${SERVER/@\/postgres?/@/$1?}"
}
echo "PostgreSQL $(psql -Atc 'show server_version' "$SERVER"), fsync $(psql -Atc 'show fsync' "$SERVER"), synchronous_commit $(psql -Atc 'show synchronous_commit' "$SERVER")"

# ---- 1. the queue alone ----
DARKROOM_BENCH_PG=$SERVER "$BUILD/bench/postgres_queue_bench" --benchmark_counters_tabular=true 2>&1 | grep -E '^BM_|^Benchmark|^---'

# ---- 2. worker processes sharing one library ----
python3 - "$SCRATCH/photos" "$PER_PROCESS" <<'EOF'
import os, random, struct, sys, zlib
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rng = random.Random(7)
def png(w, h, px):
    raw = b"".join(b"\0" + bytes(px[y * w * 3:(y + 1) * w * 3]) for y in range(h))
    chunk = lambda t, b: struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
for i in range(64 * int(sys.argv[2])):
    p = f"{d}/p{i}.png"
    if not os.path.exists(p):
        open(p, "wb").write(png(16, 16, [rng.randrange(256) for _ in range(16 * 16 * 3)]))
EOF
echo "worker processes (1 thread each), $PER_PROCESS photos of one job each per process, the wait task ${WAIT_MS} ms: photos/s (ideal: processes x $((1000 / WAIT_MS)))"
for procs in 1 2 4 8 16 32 64; do
  url=$(db "workers$procs")
  "$DARKROOM" --library "$url" init -q
  psql -q "$url" -c "UPDATE darkroom_meta SET value='{\"queue\": {\"lease_seconds\": 60}}' WHERE key='settings'" >/dev/null
  n=$((procs * PER_PROCESS))
  files=()
  for ((i = 0; i < n; i++)); do files+=("$SCRATCH/photos/p$i.png"); done
  "$DARKROOM" --library "$url" -q add --tasks wait "${files[@]}" >/dev/null
  t0=$(date +%s.%N)
  pids=()
  for ((i = 0; i < procs; i++)); do
    DARKROOM_TEST_WAIT_MS=$WAIT_MS "$DARKROOM" --library "$url" --threads 1 -q work --until-idle &
    pids+=($!)
  done
  wait "${pids[@]}"
  t1=$(date +%s.%N)
  done_jobs=$(psql -Atc "SELECT count(*) FROM jobs WHERE state='done'" "$url")
  python3 -c "import sys; p,n,t=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print(f'  {p:3d} processes: {n} photos in {t:.1f} s = {n/t:.1f} photos/s ({n/t/(p*1000/int(sys.argv[4]))*100:.0f}% of ideal)')" "$procs" "$done_jobs" "$(echo "$t1 - $t0" | bc)" "$WAIT_MS"
done

# ---- 3. the same library in both catalogs ----
SQ=$SCRATCH/lib-sqlite-$PHOTOS
[ -e "$SQ/catalog.db" ] || "$BUILD/bench/make_library" --library "$SQ" --photos "$PHOTOS" 2>&1 | tr '\r' '\n' | tail -1
PG=$(db "lib$PHOTOS")
"$BUILD/bench/make_library" --library "$PG" --photos "$PHOTOS" 2>&1 | tr '\r' '\n' | tail -1
echo "the same $PHOTOS-photo synthetic library (bench/make_library, seed 1) in SQLite and in PostgreSQL:"
hyperfine -N -w 2 -r 10 --export-markdown "$SCRATCH/side-by-side.md" \
  -n "sqlite search harbour" "$DARKROOM --library $SQ search harbour" \
  -n "postgres search harbour" "$DARKROOM --library $PG search harbour" \
  -n "sqlite search dogs" "$DARKROOM --library $SQ search dogs" \
  -n "postgres search dogs" "$DARKROOM --library $PG search dogs" \
  -n "sqlite dupes" "$DARKROOM --library $SQ dupes" \
  -n "postgres dupes" "$DARKROOM --library $PG dupes" \
  -n "sqlite people" "$DARKROOM --library $SQ people" \
  -n "postgres people" "$DARKROOM --library $PG people" >/dev/null
cat "$SCRATCH/side-by-side.md"
