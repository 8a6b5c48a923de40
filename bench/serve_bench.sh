#!/usr/bin/env bash
# `darkroom serve`'s figures, in one run on this machine (BENCHMARKS.md, "The server"):
#   1. cached grid thumbnails served per second over keep-alive connections (wrk), darkroom beside Debian's nginx
#      serving the same files from the same folder;
#   2. the photo list and search at 100,000 photos (bench/make_library), p50 / p95 in ms over keep-alive requests;
#   3. the memory of `serve`: idle on the 100,000-photo library and after the load above, and with its workers busy
#      analysing the sample photos with every default model.
#
#   bench/serve_bench.sh                # DARKROOM (build/darkroom), PHOTOS (100000), DURATION (10 s), CONNS (32)
#
# Needs wrk, nginx (nginx-light) and python3 (apt-get install wrk nginx-light); the library is made once under
# SCRATCH (/tmp/scratch/serve-bench) and reused.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DARKROOM=$(realpath "${DARKROOM:-$ROOT/build/darkroom}")
MAKE_LIBRARY=$(realpath "${MAKE_LIBRARY:-$ROOT/build/bench/make_library}")
SCRATCH=${SCRATCH:-/tmp/scratch/serve-bench}
PHOTOS=${PHOTOS:-100000}
DURATION=${DURATION:-10}
CONNS=${CONNS:-32}
MODELS=${DARKROOM_MODELS:-$ROOT/.models}
for tool in wrk nginx python3; do
  command -v "$tool" >/dev/null || { echo "serve_bench: $tool is missing (apt-get install wrk nginx-light python3)" >&2; exit 2; }
done
mkdir -p "$SCRATCH"
LIB=$SCRATCH/lib$PHOTOS
[ -e "$LIB/catalog.db" ] || "$MAKE_LIBRARY" --library "$LIB" --photos "$PHOTOS" 2>&1 | tr '\r' '\n' | tail -1

echo "darkroom $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "nginx $(nginx -v 2>&1 | cut -d/ -f2), wrk -t2 -c$CONNS -d${DURATION}s, library of $PHOTOS photos"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_serve() {  # LIBRARY [ARGS...]: starts darkroom serve, sets PORT and SERVE_PID
  local lib=$1
  shift
  local out=$SCRATCH/serve.out
  "$DARKROOM" --library "$lib" --models "$MODELS" --json -q serve --listen 127.0.0.1:0 "$@" >"$out" 2>"$SCRATCH/serve.err" &
  SERVE_PID=$!
  pids+=("$SERVE_PID")
  for _ in $(seq 100); do grep -q url "$out" 2>/dev/null && break; sleep 0.1; done
  PORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"].rsplit(":",1)[1].strip("/"))' "$out")
}
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

start_serve "$LIB" --no-work
sleep 1
echo "serve idle on $PHOTOS photos: RSS $(rss_mb "$SERVE_PID") MB"

# ---- 1. thumbnails per second, beside nginx ----
NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$SCRATCH/nginx"
cat >"$SCRATCH/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $SCRATCH/nginx/nginx.pid;
error_log $SCRATCH/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { image/webp webp; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $LIB/thumbs;
    etag on;
    add_header Cache-Control "private, max-age=31536000, immutable";
  }
}
EOF
nginx -c "$SCRATCH/nginx/nginx.conf" -p "$SCRATCH/nginx"
sleep 0.5
pids+=("$(cat "$SCRATCH/nginx/nginx.pid")")
# 1,000 photos' thumbnails, the same files through both servers.
python3 - "$PORT" "$SCRATCH" <<'EOF'
import http.client, json, sys
port, scratch = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", "/api/photos?limit=1000", headers={"Host": f"127.0.0.1:{port}"})
hashes = [p["content_hash"] for p in json.loads(c.getresponse().read())["photos"]]
for name, fmt in (("darkroom", "/api/thumbs/{h}/grid"), ("nginx", "/{hh}/{h}-grid.webp")):
    paths = [fmt.format(h=h, hh=h[:2]) for h in hashes]
    with open(f"{scratch}/{name}.lua", "w") as f:
        f.write("local paths = {" + ",".join('"%s"' % p for p in paths) + "}\n")
        f.write("local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n")
EOF
for who in darkroom nginx; do
  port=$PORT
  [ "$who" = nginx ] && port=$NGINX_PORT
  rps=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" -H "Host: 127.0.0.1:$port" -s "$SCRATCH/$who.lua" "http://127.0.0.1:$port" |
    awk '/Requests\/sec/ {print $2}')
  echo "thumbnails/s $who: $rps"
done

# ---- 2. list and search latency at $PHOTOS photos ----
python3 - "$PORT" <<'EOF'
import http.client, json, statistics, sys, time
port = int(sys.argv[1])
c = http.client.HTTPConnection("127.0.0.1", port)
def get(path):
    c.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
    r = c.getresponse()
    body = r.read()
    assert r.status == 200, (path, r.status, body[:200])
    return json.loads(body)
# A cursor half-way through the library.
cursor = None
for _ in range(50):
    page = get("/api/photos?limit=1000" + (f"&cursor={cursor}" if cursor else ""))
    cursor = page["next"]
calls = [
    ("photos, first page of 100", "/api/photos?limit=100"),
    ("photos, a page of 100 at 50,000", f"/api/photos?limit=100&cursor={cursor}"),
    ("photos with label=dog, first page", "/api/photos?limit=100&label=dog"),
    ("photos from=2019&to=2019, first page", "/api/photos?limit=100&from=2019&to=2019"),
    ("search harbour (words read)", "/api/search?q=harbour"),
    ("search dogs (a label)", "/api/search?q=dogs"),
    ("search harbour market", "/api/search?q=harbour%20market"),
    ("search 2019-07 (a date)", "/api/search?q=2019-07"),
    ("status", "/api/status"),
]
for name, path in calls:
    get(path)
    times = []
    for _ in range(100):
        t = time.perf_counter()
        get(path)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"{name}: p50 {times[49]:.1f} ms, p95 {times[94]:.1f} ms")
EOF
echo "serve after the load: RSS $(rss_mb "$SERVE_PID") MB, peak $(hwm_mb "$SERVE_PID") MB"
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true

# ---- 3. serve with its workers busy on the sample photos, every default model ----
BUSY=$SCRATCH/busy
rm -rf "$BUSY"
"$DARKROOM" --library "$BUSY" init >/dev/null
"$DARKROOM" --library "$BUSY" --models "$MODELS" -q add /usr/lib/python3/dist-packages/skimage/data \
  /usr/share/doc/opencv-doc/examples/data >/dev/null 2>&1
start_serve "$BUSY"
t0=$(date +%s.%N)
peak=0
while true; do
  r=$(rss_mb "$SERVE_PID")
  peak=$(python3 -c "print(max($peak, $r))")
  pending=$(python3 -c 'import json,sys,urllib.request; p=sys.argv[1]; print(json.load(urllib.request.urlopen(f"http://127.0.0.1:{p}/api/status"))["jobs"]["queued"]+json.load(urllib.request.urlopen(f"http://127.0.0.1:{p}/api/status"))["jobs"]["running"])' "$PORT")
  [ "$pending" = 0 ] && break
  sleep 0.5
done
t1=$(date +%s.%N)
photos=$(python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/status"))["photos"])' "$PORT")
echo "serve with workers: $photos sample photos analysed in $(python3 -c "print(round($t1-$t0,1))") s; RSS peak $peak MB (VmHWM $(hwm_mb "$SERVE_PID") MB); idle after: $(rss_mb "$SERVE_PID") MB"
