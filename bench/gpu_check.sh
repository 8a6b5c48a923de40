#!/bin/bash
# The GPU path against the CPU on one machine: per-photo timings at new and repeated input shapes, the cuDNN search
# modes, `analyze` of 12 photos twice, and a library of the sample photos worked through on each device, with the GPU's
# and the CPU's results compared. BENCHMARKS.md, "The GPU path", has its output on an H200.
# Usage: bench/gpu_check.sh DARKROOM MODELS PHOTOS OUT
#   PHOTOS holds cv/ (opencv-doc's examples/data) and sk/ (skimage's data); OUT receives the JSON outputs.
#   The CUDA provider must sit beside libonnxruntime (scripts/setup.sh --gpu), with CUDA 13 and cuDNN 9 on the
#   library path.
set -u
D=$(realpath "$1")
export DARKROOM_MODELS=$(realpath "$2")
P=$(realpath "$3")
OUT=$(realpath "$4")
mkdir -p "$OUT"
sec() { date +%s.%N; }
el() { python3 -c "print(f'{$(sec)-$1:.2f} s')"; }
nvidia-smi -L 2>/dev/null
nproc
"$D" --version || exit 1
A=$P/sk/astronaut.png
DIFF="$P/cv/messi5.jpg $P/cv/basketball2.png $P/sk/coffee.png $P/cv/fruits.jpg $P/cv/licenseplate_motion.jpg $P/sk/page.png $P/cv/starry_night.jpg $P/sk/chelsea.png"
IM="$P/cv/imageTextN.png $P/cv/imageTextR.png $P/sk/astronaut.png $P/cv/messi5.jpg $P/cv/basketball2.png $P/sk/coffee.png $P/cv/fruits.jpg $P/cv/licenseplate_motion.jpg $P/sk/page.png $P/sk/text.png $P/sk/hubble_deep_field.jpg $P/cv/starry_night.jpg"
summ() { python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
k=sys.argv[2]
print('  ', k, 'ms per image:', ' '.join(f\"{r.get('timings_ms',{}).get(k,-1):.0f}\" for r in rows))
" "$1" "$2"; }
echo "== doctor (probes: --device auto times each model on the GPU and the CPU; then --device cuda)"
s=$(sec); timeout 120 "$D" doctor 2>/dev/null; echo "rc=$? $(el "$s")"
"$D" --json doctor >"$OUT/doctor_auto.json" 2>/dev/null
s=$(sec); timeout 120 "$D" --device cuda doctor 2>/dev/null | grep -E "Provider"; echo "rc=$? $(el "$s")"
# The GPU's own timings: --device cuda, since --device auto may leave a model on the CPU.
echo "== one thread, faces (canvas): 8 photos of different sizes, then astronaut twice"
s=$(sec); timeout 60 "$D" --device cuda --threads 1 --json analyze --tasks faces $DIFF $A $A >/tmp/e2.jsonl; echo "rc=$? $(el "$s")"; summ /tmp/e2.jsonl faces
echo "== one thread, text (detector at each photo's shape): 8 photos, then astronaut twice"
s=$(sec); timeout 60 "$D" --device cuda --threads 1 --json analyze --tasks text $DIFF $A $A >/tmp/e4.jsonl; echo "rc=$? $(el "$s")"; summ /tmp/e4.jsonl text
echo "== one thread, CPU: the same two"
timeout 60 "$D" --device cpu --threads 1 --json analyze --tasks faces $DIFF $A $A >/tmp/e5.jsonl; summ /tmp/e5.jsonl faces
timeout 60 "$D" --device cpu --threads 1 --json analyze --tasks text $DIFF $A $A >/tmp/e6.jsonl; summ /tmp/e6.jsonl text
echo "== EXHAUSTIVE, one thread, faces (one canvas shape)"
s=$(sec); DARKROOM_CUDNN_ALGO_SEARCH=EXHAUSTIVE timeout 90 "$D" --device cuda --threads 1 --json analyze --tasks faces $DIFF $A $A >/tmp/e7.jsonl; echo "rc=$? $(el "$s")"; summ /tmp/e7.jsonl faces
for dev in auto cuda cpu; do
  echo "== analyze --device $dev, 16 threads, faces,objects,text, 12 photos twice"
  s=$(sec); timeout 100 "$D" --device $dev --json analyze --tasks faces,objects,text $IM $IM >"$OUT/an_$dev.jsonl"; echo "rc=$? $(el "$s")"
done
for dev in auto cuda cpu; do
  echo "== library, --device $dev: init, add, work --until-idle (every task)"
  L=/tmp/lib_$dev
  rm -rf "$L"
  export DARKROOM_LIBRARY=$L
  "$D" -q init && "$D" -q add "$P" >/dev/null
  s=$(sec); timeout 120 "$D" --device $dev -q work --until-idle; echo "work rc=$? $(el "$s")"
  "$D" --json status >"$OUT/status_$dev.json"
  "$D" status | head -7
done
unset DARKROOM_LIBRARY
echo "== --device cuda against --device cpu, per image (second pass), ms faces/objects/text"
python3 - "$OUT" <<'EOF2'
import json, sys
o = sys.argv[1]
def load(p):
    rows = [json.loads(l) for l in open(p) if l.strip()]
    return rows[len(rows)//2:]
g, c = load(f"{o}/an_cuda.jsonl"), load(f"{o}/an_cpu.jsonl")
for a, b in zip(g, c):
    name = a['path'].split('/')[-1]
    ta, tb = a.get('timings_ms', {}), b.get('timings_ms', {})
    tim = ' '.join(f"{k} {ta.get(k,0):.0f}/{tb.get(k,0):.0f}" for k in ('faces','objects','text'))
    fa, fb = a.get('faces', []), b.get('faces', [])
    gap = max([max(abs(x - y) for x, y in zip(p['box'], q['box'])) for p, q in zip(fa, fb)] or [0])
    same = a.get('text',{}).get('full') == b.get('text',{}).get('full')
    print(f"{name}: ms gpu/cpu {tim}; faces {len(fa)}/{len(fb)} gap {gap:.1f}px; objects {len(a.get('objects',[]))}/{len(b.get('objects',[]))}; same text {same}")
    if not same:
        print('  gpu:', repr(a.get('text',{}).get('full','')[:150])); print('  cpu:', repr(b.get('text',{}).get('full','')[:150]))
EOF2
echo "== end"
