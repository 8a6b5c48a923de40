#!/usr/bin/env python3
"""OCR accuracy and speed side by side: darkroom, @gutenye/ocr-node (the same PP-OCRv4 models under Node.js) and
Tesseract 5, on the same images in the same run.

The images are made here: lines rendered with DejaVu fonts by ImageMagick (several fonts, sizes, colours, a slight
rotation; on plain backgrounds and on real photos from python3-skimage's data), the bad-input cases (photos without
text, a dense page, a very long line, a tiny image, text turned 90 and 180 degrees), plus opencv-doc's imageTextN.png
and imageTextR.png. Each image's truth is known; the score is the character error rate (edits / characters of the
truth, whitespace runs squeezed to one space).

Usage: bench/text_peers.py [--darkroom build/darkroom] [--models .models] [--peers /tmp/peers] [--out DIR]
       [--only darkroom,node,tesseract] [--json FILE] [--set text.KEY=VALUE ...]
The Node peer is installed outside the repository (see BENCHMARKS.md, section Text):
  mkdir -p /tmp/peers && cd /tmp/peers && npm init -y && npm install --ignore-scripts @gutenye/ocr-node@1.4.8
"""
import argparse
import json
import os
import random
import re
import resource
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

    # Camera-sized photos (12 MP), the usual input of a photo library.
    src = os.path.join(SKIMAGE, "coffee.png")
    if os.path.exists(src):
        big = [("CAFE CENTRAL", "DejaVuSans-Bold.ttf", 200, "#ffffff", 200, 400),
               ("espresso 2.50", "DejaVuSerif.ttf", 140, "#fae63c", 200, 650)]
        add("photo12mp_coffee", "\n".join(t for t, *_ in big), photo=src, size=(4000, 3000), bg="black", lines=big)
        add("notext12mp_coffee", "", "empty", photo=src, size=(4000, 3000), bg="black", lines=[])

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


def cpu_of(cmd, env=None, timeout=600):
    """Runs a command; returns (stdout, CPU seconds of the process and its threads, wall seconds)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        out = p.stdout
    except subprocess.TimeoutExpired:
        out = None
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), wall


class Darkroom:
    name = "darkroom"

    def __init__(self, exe, models, settings=()):
        self.exe, self.models = exe, models
        self.settings = [a for s in settings for a in ("--set", s)]

    def run(self, path):
        out, cpu, wall = cpu_of([self.exe, "--models", self.models, "analyze", "--tasks", "text"] + self.settings +
                                [path])
        if out is None:
            return None, cpu, wall, float("nan")
        j = json.loads(out.splitlines()[0])
        if "error" in j:
            print("darkroom error on", path, j["error"], file=sys.stderr)
        t = j.get("timings_ms", {})
        return j.get("text", {}).get("full", ""), cpu, wall, t.get("text", 0) + t.get("decode", 0)


class Node:
    name = "node"

    def __init__(self, peers):
        self.env = dict(os.environ, PEERS_DIR=peers)

    def run(self, path):
        out, cpu, wall = cpu_of(["node", os.path.join(HERE, "text_peer_node.mjs"), path], env=self.env, timeout=300)
        if not out:
            return None, cpu, wall, float("nan")
        j = json.loads(out.splitlines()[0])
        return j["text"], cpu, wall, j["ms"]


class Tesseract:
    name = "tesseract"

    def run(self, path):
        out, cpu, wall = cpu_of(["tesseract", path, "-", "-l", "eng"])
        return out, cpu, wall, wall * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--darkroom", default="build/darkroom")
    ap.add_argument("--models", default=os.environ.get("DARKROOM_MODELS", ".models"))
    ap.add_argument("--peers", default="/tmp/peers")
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "darkroom-text-corpus"))
    ap.add_argument("--only", default="darkroom,node,tesseract")
    ap.add_argument("--json", help="also write the per-image results here")
    ap.add_argument("--set", action="append", default=[], metavar="text.KEY=VALUE",
                    help="a setting for darkroom's text task (analyze --set), repeatable")
    args = ap.parse_args()

    items = corpus(args.out)
    engines = []
    for e in args.only.split(","):
        if e == "darkroom":
            engines.append(Darkroom(args.darkroom, args.models, args.set))
        elif e == "node":
            if os.path.isdir(os.path.join(args.peers, "node_modules/@gutenye/ocr-node")):
                engines.append(Node(args.peers))
            else:
                print("skipping node: @gutenye/ocr-node is not installed in", args.peers, file=sys.stderr)
        elif e == "tesseract":
            engines.append(Tesseract())

    # What a process costs with nothing to read (start-up, model loading): a 1x1 white image. It is subtracted
    # from each image's CPU time, so that the figures are the cost of reading the image itself.
    blank = os.path.join(args.out, "blank_1x1.png")
    magick(["-size", "1x1", "xc:white", "PNG24:" + blank])
    base = {e.name: min(e.run(blank)[1] for _ in range(2)) for e in engines}

    print("CPU seconds per image (process CPU time minus the blank-image baseline), engines interleaved image by "
          "image; ms = the engine's own timing of the image (wall clock, in-process)\n")
    print("| image | chars | " + " | ".join("%s CER | %s CPU s | %s ms" % ((e.name,) * 3) for e in engines) + " |")
    print("|" + "---|" * (2 + 3 * len(engines)))
    keys = ("edits", "chars", "cpu", "ms", "n", "e_cpu", "e_ms", "e_n")
    totals = {e.name: dict.fromkeys(keys, 0.0) for e in engines}
    per_image = []
    for name, path, truth, kind in items:
        row = "| %s%s | %d |" % (name, " (no text)" if kind == "empty" else "", len(squeeze(truth)))
        rec = {"image": name, "kind": kind, "truth": truth}
        for e in engines:
            text, cpu, wall, ms = e.run(path)
            cpu = max(0.0, cpu - base[e.name])
            t = totals[e.name]
            if text is None:
                rec[e.name] = {"text": None, "cpu": cpu, "ms": ms}
                row += " timeout | %.2f | - |" % cpu
                text = ""
            ed = edits(squeeze(text), squeeze(truth))
            rec[e.name] = {"text": text, "cpu": cpu, "ms": ms, "edits": ed}
            if kind == "empty":
                t["e_cpu"] += cpu
                t["e_ms"] += ms
                t["e_n"] += 1
                row += " %s | %.2f | %.0f |" % ("none" if not squeeze(text) else "%d chars" % ed, cpu, ms)
            else:
                t["edits"] += ed
                t["chars"] += len(squeeze(truth))
                t["cpu"] += cpu
                t["ms"] += ms
                t["n"] += 1
                row += " %.3f | %.2f | %.0f |" % (ed / max(1, len(squeeze(truth))), cpu, ms)
        per_image.append(rec)
        print(row, flush=True)
    print()
    print("| engine | CER, all images with text | CPU s per image with text | ms per image with text | "
          "CPU s per photo without text | ms per photo without text | baseline CPU s (blank image) |")
    print("|---|---|---|---|---|---|---|")
    for e in engines:
        t = totals[e.name]
        print("| %s | %.4f (%d / %d) | %.2f | %.0f | %.2f | %.0f | %.2f |" % (
            e.name, t["edits"] / max(1, t["chars"]), t["edits"], t["chars"], t["cpu"] / max(1, t["n"]),
            t["ms"] / max(1, t["n"]), t["e_cpu"] / max(1, t["e_n"]), t["e_ms"] / max(1, t["e_n"]), base[e.name]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(per_image, f, indent=1)


if __name__ == "__main__":
    main()
