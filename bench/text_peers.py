#!/usr/bin/env python3
"""OCR accuracy and speed side by side: darkroom, @gutenye/ocr-node (the same PP-OCRv4 models under Node.js) and
Tesseract 5, on the same images in the same run.

The images are made here: lines rendered with DejaVu fonts by ImageMagick (several fonts, sizes, colours, a slight
rotation; on plain backgrounds and on real photos from python3-skimage's data), the bad-input cases (photos without
text, a dense page, a very long line, a tiny image, text turned 90 and 180 degrees), plus opencv-doc's imageTextN.png
and imageTextR.png. Each image's truth is known; the score is the character error rate (edits / characters of the
truth, whitespace runs squeezed to one space).

Usage: bench/text_peers.py [--darkroom build/darkroom] [--models .models] [--peers /tmp/peers] [--out DIR]
       [--only darkroom,node,tesseract] [--repeat N]
The Node peer is installed outside the repository (see BENCHMARKS.md, section Text):
  mkdir -p /tmp/peers && cd /tmp/peers && npm init -y && npm install --ignore-scripts @gutenye/ocr-node@1.4.8
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

DEJAVU = "/usr/share/fonts/truetype/dejavu"
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
OPENCV = "/usr/share/doc/opencv-doc/examples/data"
HERE = os.path.dirname(os.path.abspath(__file__))

TEXT_N = """technical details are too complex to cover in the book itself.
In teaching our courses, we have found it useful for the students to attempt a number of
small implementation projects, which often build on one another, in order to get them used to
working with real-world images and the challenges that these present. The students are then
asked to choose an individual topic for each of their small-group, final projects. (Sometimes
these projects even turn into conference papers!) The exercises at the end of each chapter
contain numerous suggestions for smaller mid-term projects, as well as more open-ended
problems whose solutions are still active research topics. Wherever possible, I encourage
students to try their algorithms on their own personal photographs, since this better motivates
them, often leads to creative variants on the problems, and better acquaints them with the
variety and complexity of real-world imagery.
In formulating and solving computer vision problems, I have often found it useful to draw
inspiration from three high-level approaches:"""

WORDS = ("the station market river garden window coffee morning ticket museum north bridge summer photo street "
         "light city winter table open closed price hotel room number train platform exit door green red blue "
         "office library school bakery harbour road avenue square park lake mountain").split()


def squeeze(s):
    return re.sub(r"\s+", " ", s).strip()


def edits(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[len(b)]


def magick(args):
    subprocess.run(["convert"] + args, check=True)


def render(path, size, bg, lines, rotate=0.0, photo=None):
    """lines: (text, font file, point size, colour, x, y). Draws on `photo` (resized to `size`) or a plain `bg`."""
    args = [photo, "-resize", "%dx%d!" % size] if photo else ["-size", "%dx%d" % size, "xc:" + bg]
    for text, font, pt, colour, x, y in lines:
        args += ["-font", os.path.join(DEJAVU, font), "-pointsize", str(pt), "-fill", colour,
                 "-annotate", "+%d+%d" % (x, y), text]
    if rotate:
        args += ["-background", bg, "-rotate", str(rotate)]
    magick(args + ["PNG24:" + path])  # always RGB: the peers and darkroom then read the same pixels


def corpus(out):
    """Writes the images; returns [(name, path, truth, kind)] with kind 'text', 'empty' or 'bad'."""
    os.makedirs(out, exist_ok=True)
    items = []

    def add(name, truth, kind="text", **kw):
        p = os.path.join(out, name + ".png")
        render(p, **kw)
        items.append((name, p, truth, kind))

    sign = [("Harbour Street 42", "DejaVuSans-Bold.ttf", 44, "#202020", 40, 70),
            ("Open daily from 9 to 17", "DejaVuSerif.ttf", 30, "#b01e1e", 40, 140),
            ("Fresh bread and coffee", "DejaVuSansCondensed.ttf", 32, "#1e3ca0", 40, 200),
            ("Tickets at the front desk", "DejaVuSansMono.ttf", 22, "#286428", 40, 255),
            ("Platform 3 departures 18:45", "DejaVuSans.ttf", 26, "#505050", 40, 310)]
    truth = "\n".join(t for t, *_ in sign)
    add("plain_sign", truth, size=(900, 360), bg="#f5f0e4", lines=sign)
    add("plain_sign_rot3", truth, size=(900, 360), bg="#f5f0e4", lines=sign, rotate=3)
    add("plain_sign_rot-5", truth, size=(900, 360), bg="#f5f0e4", lines=sign, rotate=-5)
    light = [(t, f, pt, "#f0f0f0", x, y) for t, f, pt, _, x, y in sign]
    add("dark_sign", truth, size=(900, 360), bg="#1e2846", lines=light)
    add("sign_upside_down", truth, size=(900, 360), bg="#f5f0e4", lines=sign, rotate=180)
    add("sign_vertical", "Museum of Modern Art", size=(700, 90), bg="#fafafa",
        lines=[("Museum of Modern Art", "DejaVuSerif-Bold.ttf", 40, "#202020", 20, 60)], rotate=90)

    photos = [("coffee.png", (1200, 800), [("CAFE CENTRAL", "DejaVuSans-Bold.ttf", 64, "#ffffff", 60, 120),
                                           ("espresso 2.50", "DejaVuSerif.ttf", 44, "#fae63c", 60, 200)]),
              ("astronaut.png", (1024, 1024), [("MISSION 41-B", "DejaVuSans-Bold.ttf", 56, "#ffdc00", 40, 960)]),
              ("chelsea.png", (1200, 800), [("Lost cat", "DejaVuSans-Bold.ttf", 72, "#ffffff", 60, 110),
                                            ("call 555 0134", "DejaVuSans.ttf", 48, "#ffffff", 60, 180)]),
              ("rocket.jpg", (900, 1200), [("LAUNCH DAY", "DejaVuSansCondensed-Bold.ttf", 60, "#ffffff", 40, 90)])]
    for photo, size, lines in photos:
        src = os.path.join(SKIMAGE, photo)
        if os.path.exists(src):
            add("photo_" + photo.split(".")[0], "\n".join(t for t, *_ in lines), photo=src, size=size, bg="black",
                lines=lines)

    rnd = random.Random(6)
    dense = [" ".join(rnd.choice(WORDS) for _ in range(9)) for _ in range(32)]
    add("dense_page", "\n".join(dense), "bad", size=(1000, 1000), bg="white",
        lines=[(t, "DejaVuSans.ttf", 16, "#000000", 30, 40 + 29 * i) for i, t in enumerate(dense)])
    long_line = " ".join(rnd.choice(WORDS) for _ in range(24))
    add("very_long_line", long_line, "bad", size=(2000, 80), bg="white",
        lines=[(long_line, "DejaVuSans.ttf", 22, "#000000", 20, 50)])
    add("tiny", "OK 12", "bad", size=(60, 22), bg="white", lines=[("OK 12", "DejaVuSans.ttf", 12, "#000000", 4, 16)])

    for name in ("imageTextN.png", "imageTextR.png"):
        src = os.path.join(OPENCV, name)
        if os.path.exists(src):
            dst = os.path.join(out, name)
            shutil.copy(src, dst)
            items.append((name.split(".")[0], dst, TEXT_N, "text"))

    for photo in ("astronaut.png", "coffee.png", "motorcycle_left.png"):
        src = os.path.join(SKIMAGE, photo)
        if os.path.exists(src):
            items.append(("notext_" + photo.split(".")[0], src, "", "empty"))
    grey = os.path.join(out, "notext_grey.png")
    magick(["-size", "1600x1200", "xc:#808080", "PNG24:" + grey])
    items.append(("notext_grey", grey, "", "empty"))
    return items


def run_darkroom(exe, models, paths):
    """A process per image (one worker, ONNX Runtime on both cores, models loaded cold each time); the time per
    image is the process's own decode + text timing. Returns ({path: (text, ms)}, wall seconds of all processes)."""
    res = {}
    t0 = time.perf_counter()
    for path in paths:
        p = subprocess.run([exe, "--models", models, "analyze", "--tasks", "text", path], capture_output=True,
                           text=True)
        j = json.loads(p.stdout.splitlines()[0])
        if "error" in j:
            print("darkroom error on", j["path"], j["error"], file=sys.stderr)
        t = j.get("timings_ms", {})
        res[path] = (j.get("text", {}).get("full", ""), t.get("text", 0) + t.get("decode", 0))
    return res, time.perf_counter() - t0


def run_node(peers, paths):
    script = os.path.join(HERE, "text_peer_node.mjs")
    t0 = time.perf_counter()
    p = subprocess.run(["node", script] + paths, capture_output=True, text=True,
                       env=dict(os.environ, PEERS_DIR=peers))
    wall = time.perf_counter() - t0
    if p.returncode:
        print(p.stderr[-2000:], file=sys.stderr)
    res = {}
    for line in p.stdout.splitlines():
        j = json.loads(line)
        res[j["path"]] = (j["text"], j["ms"])
    return res, wall


def run_tesseract(paths):
    res = {}
    t0 = time.perf_counter()
    for path in paths:
        t1 = time.perf_counter()
        p = subprocess.run(["tesseract", path, "-", "-l", "eng"], capture_output=True, text=True)
        res[path] = (p.stdout, (time.perf_counter() - t1) * 1000)
    return res, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--darkroom", default="build/darkroom")
    ap.add_argument("--models", default=os.environ.get("DARKROOM_MODELS", ".models"))
    ap.add_argument("--peers", default="/tmp/peers")
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "darkroom-text-corpus"))
    ap.add_argument("--only", default="darkroom,node,tesseract")
    ap.add_argument("--json", help="also write the per-image results here")
    args = ap.parse_args()

    items = corpus(args.out)
    paths = [p for _, p, _, _ in items]
    engines = args.only.split(",")
    results, walls = {}, {}
    for e in engines:
        if e == "darkroom":
            results[e], walls[e] = run_darkroom(args.darkroom, args.models, paths)
        elif e == "node":
            if not os.path.isdir(os.path.join(args.peers, "node_modules/@gutenye/ocr-node")):
                print("skipping node: @gutenye/ocr-node is not installed in", args.peers, file=sys.stderr)
                continue
            results[e], walls[e] = run_node(args.peers, paths)
        elif e == "tesseract":
            results[e], walls[e] = run_tesseract(paths)
    engines = [e for e in engines if e in results]

    head = "| image | chars | " + " | ".join("%s CER | %s ms" % (e, e) for e in engines) + " |"
    print(head)
    print("|" + "---|" * (2 + 2 * len(engines)))
    totals = {e: {"edits": 0, "chars": 0, "ms": 0.0, "n": 0, "empty_ms": 0.0, "n_empty": 0} for e in engines}
    per_image = []
    for name, path, truth, kind in items:
        row = "| %s%s | %d |" % (name, " (no text)" if kind == "empty" else "", len(squeeze(truth)))
        rec = {"image": name, "kind": kind, "truth": truth}
        for e in engines:
            text, ms = results[e].get(path, ("", float("nan")))
            ed = edits(squeeze(text), squeeze(truth))
            rec[e] = {"text": text, "ms": ms, "edits": ed}
            t = totals[e]
            if kind == "empty":
                t["empty_ms"] += ms
                t["n_empty"] += 1
                row += " %s | %.0f |" % ("none" if not squeeze(text) else "%d chars" % ed, ms)
            else:
                t["edits"] += ed
                t["chars"] += len(squeeze(truth))
                t["ms"] += ms
                t["n"] += 1
                row += " %.3f | %.0f |" % (ed / max(1, len(squeeze(truth))), ms)
        per_image.append(rec)
        print(row)
    print()
    print("| engine | CER (all images with text) | mean ms per image with text | mean ms per photo without text | "
          "process wall s |")
    print("|---|---|---|---|---|")
    for e in engines:
        t = totals[e]
        print("| %s | %.4f (%d / %d) | %.0f | %.0f | %.1f |" % (
            e, t["edits"] / max(1, t["chars"]), t["edits"], t["chars"], t["ms"] / max(1, t["n"]),
            t["empty_ms"] / max(1, t["n_empty"]), walls[e]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(per_image, f, indent=1)


if __name__ == "__main__":
    main()
