#!/usr/bin/env bash
# The soak: PHOTOS pdq jobs on generated photos (bench/make_photos), `darkroom work` killed by SIGKILL KILLS times
# at random moments and started again each time, then run until the queue is empty. It checks that every job is
# done (none lost), that each was completed once (an audit trigger in the catalog records every transition to
# done: none recorded twice) and that none failed or went dead; and it gives the time lost to the kills against one
# uninterrupted run of a copy of the same library.
#   bash bench/soak.sh [BUILD] [PHOTOS] [KILLS] [THREADS] [SEED]        e.g. bash bench/soak.sh build 100000 20 2
# The photos are kept in $SOAK_PHOTOS (default /tmp/darkroom-soak-photos-PHOTOS) for the next run.
set -euo pipefail
BUILD=${1:-build}
N=${2:-100000}
KILLS=${3:-20}
THREADS=${4:-2}
RANDOM=${5:-1}
DR=$(realpath "$BUILD/darkroom")
PHOTOS=${SOAK_PHOTOS:-/tmp/darkroom-soak-photos-$N}
SCRATCH=$(mktemp -d /tmp/darkroom-soak-XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

[ -f "$PHOTOS/.complete" ] || { rm -rf "$PHOTOS"; "$BUILD/bench/make_photos" "$PHOTOS" "$N" >/dev/null; touch "$PHOTOS/.complete"; }
LIB=$SCRATCH/lib
"$DR" --library "$LIB" -q init
t=$(now)
"$DR" --library "$LIB" -q --json add --tasks pdq "$PHOTOS" >"$SCRATCH/add.json"
echo "add: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["queued"])' "$SCRATCH/add.json") jobs queued in $(since "$t") s"
cp -r "$LIB" "$SCRATCH/baseline"

# Every transition of a job to done, in the transaction that makes it.
python3 - "$LIB/catalog.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE soak_audit(job_id INTEGER NOT NULL);
CREATE TRIGGER soak_audit_done AFTER UPDATE OF state ON jobs WHEN new.state='done' AND old.state<>'done'
BEGIN INSERT INTO soak_audit(job_id) VALUES (new.id); END;""")
db.commit()
PY

work() { "$DR" --library "$1" -q --json --threads "$THREADS" work --until-idle; }
t=$(now)
work "$SCRATCH/baseline" >/dev/null
base=$(since "$t")
echo "uninterrupted: $N jobs in $base s"

# Each run is killed after a random time in [0.05, base / KILLS] s: the kills land in about the first half of the
# work, and every one of them on a running process (a run that ends first is said, and not counted as a kill).
span_ms=$(python3 -c "print(max(100, int(1000 * $base / $KILLS)))")
t=$(now)
landed=0
for ((k = 1; k <= KILLS; ++k)); do
  work "$LIB" >/dev/null 2>&1 &
  pid=$!
  ms=$(( 50 + (RANDOM * 32768 + RANDOM) % span_ms ))
  sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then landed=$((landed + 1)); else echo "run $k had ended before its kill at $ms ms"; fi
  wait "$pid" 2>/dev/null || true
done
work "$LIB" >"$SCRATCH/last.json"
soak=$(since "$t")

python3 - "$LIB/catalog.db" "$N" "$landed" "$base" "$soak" <<'PY'
import sqlite3, sys
path, n, kills, base, soak = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
db = sqlite3.connect(path)
one = lambda q: db.execute(q).fetchone()[0]
jobs = one("SELECT count(*) FROM jobs")
done = one("SELECT count(*) FROM jobs WHERE state='done'")
bad = one("SELECT count(*) FROM jobs WHERE state IN ('failed','dead')")
audit = one("SELECT count(*) FROM soak_audit")
twice = one("SELECT count(*) FROM (SELECT job_id FROM soak_audit GROUP BY job_id HAVING count(*) > 1)")
results = one("SELECT count(*) FROM results WHERE task='pdq'")
print(f"soak: {jobs} jobs, {kills} SIGKILLs: {done} done, {jobs - done} lost, {bad} failed or dead, "
      f"{twice} completed twice ({audit} completions), {results} pdq results; "
      f"{soak:.1f} s against {base:.1f} s uninterrupted: {soak - base:.1f} s lost, {(soak - base) / kills:.2f} s a kill")
sys.exit(0 if jobs == n and done == n and bad == 0 and twice == 0 and audit == n and results == n else 1)
PY
