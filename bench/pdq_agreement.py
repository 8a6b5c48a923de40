#!/usr/bin/python3
"""How close darkroom's PDQ hashes are to the reference hasher's, on a broad set of photos.

    REF_REPO=/path/to/ThreatExchange bench/pdq_agreement.py [--darkroom build/darkroom] [--mode default|exact]

The set: every sample photo of Debian's opencv-doc, python3-skimage and python3-matplotlib that is installed, the
shared PDQ test photos (../shared/testdata/pdq), and copies of them made here with ImageMagick's `convert`: JPEG at
qualities 95, 85 (4:2:0) and 70, progressive JPEG, PNG, half and double size, greyscale, and 12-megapixel
enlargements of some. Each file is hashed by `darkroom hash` and by the reference (bench/pdq_reference.sh builds
it outside the repository; one process per file, since it exits on images it cannot read, such as RGBA PNGs).

darkroom's default hash shows a photo as displayed (EXIF orientation applied) while the reference hashes the
stored pixels, so a photo with an EXIF orientation is compared with the reference's dihedral hash for that
orientation (`--pdqdih-across`), as BENCHMARKS.md describes; --exact is compared with the reference's own hash.

Prints the distance distribution (median, 95th percentile, maximum) over the files whose reference quality is at
least 80, overall and by kind, and the worst files. --csv FILE writes every file's distances; --test-csv FILE
writes the rows tests/pdq/data/debian-reference.csv holds (the Debian packages' own photos, which a test finds on any
machine set up by scripts/setup.sh). Everything generated goes under SCRATCH (default
/tmp/scratch/pdq-agreement); the set is made once and reused.
"""

import argparse
import concurrent.futures as cf
import glob
import hashlib
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SET_VERSION = 2  # bump when the recipe below changes: the set is made again

DEBIAN_DIRS = [
    "/usr/share/doc/opencv-doc/examples/data",
    "/usr/lib/python3/dist-packages/skimage/data",
    "/usr/share/matplotlib/mpl-data/sample_data",
]
RASTER = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp")


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def identify(path):
    """(width, height, channels-with-alpha?) of the first frame, or None when ImageMagick cannot read it."""
    try:
        out = sh(["identify", "-format", "%w %h %A\n", path + "[0]"])
    except subprocess.CalledProcessError:
        return None
    w, h, alpha = out.split("\n")[0].split()
    return int(w), int(h), alpha.lower() not in ("undefined", "false")


def sources(shared):
    out = []
    for d in DEBIAN_DIRS:
        for p in sorted(glob.glob(d + "/*")):
            if p.lower().endswith(RASTER) and os.path.isfile(p):
                out.append(p)
    for p in sorted(glob.glob(shared + "/testdata/pdq/**/*", recursive=True)):
        if p.lower().endswith(RASTER) and os.path.isfile(p):
            out.append(p)
    return out


def safe_name(p):
    base = p
    for d in DEBIAN_DIRS:
        if p.startswith(d + "/"):
            base = d.split("/")[-2] + "/" + p[len(d) + 1:]
    if "/testdata/pdq/" in p:
        base = "shared/" + p.split("/testdata/pdq/", 1)[1]
    return base.replace("/", "__").replace(" ", "_").replace(",", "_")


def recipes(src, info, k):
    """(suffix, convert arguments) for the copies made of one source; k numbers the sources."""
    w, h, _ = info
    flat = ["-background", "white", "-alpha", "remove", "-alpha", "off", "-strip"]
    r = [
        ("q95.jpg", flat + ["-quality", "95"]),
        ("q85-420.jpg", flat + ["-quality", "85", "-sampling-factor", "2x2"]),
        ("q70.jpg", flat + ["-quality", "70"]),
        ("prog.jpg", flat + ["-quality", "90", "-interlace", "JPEG"]),
        ("rgb.png", flat + ["-type", "TrueColor"]),
    ]
    if min(w, h) >= 128:
        r.append(("half.jpg", flat + ["-resize", "50%", "-quality", "90"]))
    if max(w, h) <= 1600:
        r.append(("double.jpg", flat + ["-resize", "200%", "-quality", "90"]))
    if k % 3 == 0:
        r.append(("grey.jpg", flat + ["-colorspace", "Gray", "-quality", "90"]))
    if k % 4 == 0 and min(w, h) >= 200:
        r.append(("12mp.jpg", flat + ["-resize", "4032x4032", "-quality", "92"]))
    if k % 5 == 0 and min(w, h) >= 64:
        r.append(("odd.png", flat + ["-resize", "77%", "-type", "TrueColor"]))
    return r


def make_set(scratch, shared):
    setdir = os.path.join(scratch, "set")
    stamp = os.path.join(setdir, ".version")
    listing = os.path.join(setdir, "files.json")
    if os.path.exists(stamp) and open(stamp).read().strip() == str(SET_VERSION) and os.path.exists(listing):
        return json.load(open(listing))
    os.makedirs(setdir, exist_ok=True)
    files = []  # {path, origin, kind}
    jobs = []
    for k, src in enumerate(sources(shared)):
        info = identify(src)
        if info is None or min(info[0], info[1]) < 16:
            continue
        name = safe_name(src)
        if src.lower().endswith((".jpg", ".jpeg", ".png")):
            files.append({"path": src, "origin": src, "kind": "original"})
        else:  # other formats: the reference would go through `convert` itself; a PNG copy is the same test
            jobs.append((src, os.path.join(setdir, name + ".png"), ["-strip", "-type", "TrueColor"], "original"))
        for suffix, args in recipes(src, info, k):
            jobs.append((src, os.path.join(setdir, name + "." + suffix), args, suffix))

    def run(job):
        src, dst, args, kind = job
        if not os.path.exists(dst):
            subprocess.run(["convert", src + "[0]"] + args + [dst + ".tmp." + dst.rsplit(".", 1)[1]],
                           check=True, capture_output=True)
            os.rename(dst + ".tmp." + dst.rsplit(".", 1)[1], dst)
        return {"path": dst, "origin": src, "kind": kind}

    with cf.ThreadPoolExecutor(2) as ex:
        for f in ex.map(run, jobs):
            files.append(f)
    json.dump(files, open(listing, "w"), indent=0)
    open(stamp, "w").write(str(SET_VERSION))
    return files


def jpeg_orientation(path):
    """EXIF orientation of a JPEG (1 when absent), by a small parser of APP1."""
    with open(path, "rb") as f:
        d = f.read(1 << 17)
    if d[:2] != b"\xff\xd8":
        return 1
    p = 2
    while p + 4 <= len(d):
        if d[p] != 0xFF:
            return 1
        m = d[p + 1]
        if m == 0xFF:
            p += 1
            continue
        if m in (0xDA, 0xD9) or 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC):
            return 1
        ln = int.from_bytes(d[p + 2:p + 4], "big")
        seg = d[p + 4:p + 2 + ln]
        if m == 0xE1 and seg[:6] == b"Exif\0\0":
            t = seg[6:]
            le = t[:2] == b"II"
            order = "little" if le else "big"
            ifd = int.from_bytes(t[4:8], order)
            n = int.from_bytes(t[ifd:ifd + 2], order)
            for i in range(n):
                e = ifd + 2 + 12 * i
                if int.from_bytes(t[e:e + 2], order) == 0x0112:
                    v = int.from_bytes(t[e + 8:e + 10], order)
                    return v if 1 <= v <= 8 else 1
            return 1
        p += 2 + ln
    return 1


# The reference's dihedral for an EXIF orientation (its order: original, rot90, rot180, rot270, flipX, flipY,
# flipPlus1, flipMinus1), as src/pdq's dihedral_for_orientation.
DIHEDRAL_FOR_ORIENTATION = {1: 0, 2: 5, 3: 2, 4: 4, 5: 6, 6: 3, 7: 7, 8: 1}


def file_key(path):
    st = os.stat(path)
    return "%s|%d|%d" % (path, st.st_size, int(st.st_mtime))


def reference_hashes(ref, files, scratch):
    cache_path = os.path.join(scratch, "reference-cache.json")
    cache = json.load(open(cache_path)) if os.path.exists(cache_path) else {}

    def one(path):
        key = file_key(path)
        if key in cache:
            return path, cache[key]
        p = subprocess.run([ref, "--pdqdih-across", path], capture_output=True, text=True)
        if p.returncode != 0 or not p.stdout.strip():
            return path, None
        f = p.stdout.strip().split("\n")[0].split(",")
        return path, {"hashes": f[:8], "quality": int(f[8])}

    out = {}
    with cf.ThreadPoolExecutor(2) as ex:
        for path, r in ex.map(one, [f["path"] for f in files]):
            out[path] = r
            cache[file_key(path)] = r
    json.dump(cache, open(cache_path, "w"))
    return out


def darkroom_hashes(darkroom, files, mode, threads):
    out = {}
    paths = [f["path"] for f in files]
    extra = ["--exact"] if mode == "exact" else []
    for i in range(0, len(paths), 200):
        chunk = paths[i:i + 200]
        p = subprocess.run([darkroom, "--threads", str(threads), "hash"] + extra + chunk, capture_output=True,
                           text=True)
        for line in p.stdout.splitlines():
            h, q, path = line.split(",", 2)
            out[path] = {"hash": h, "quality": int(q)}
    return out


def distance(a, b):
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return 0
    k = min(len(xs) - 1, max(0, int(round(q * (len(xs) - 1)))))
    return xs[k]


def summary(rows, label):
    d = [r["distance"] for r in rows]
    if not d:
        return "%-28s %5d" % (label, 0)
    return "%-28s %5d   %6.1f  %4d  %4d   %4d  %5.1f%%" % (
        label, len(d), statistics.median(d), pct(d, 0.95), max(d), sum(x > 10 for x in d),
        100.0 * sum(x > 10 for x in d) / len(d))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--darkroom", default=os.path.join(ROOT, "build/darkroom"))
    ap.add_argument("--mode", choices=["default", "exact"], default="default")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--scratch", default=os.environ.get("SCRATCH_AGREEMENT", "/tmp/scratch/pdq-agreement"))
    ap.add_argument("--shared", default=os.environ.get("DARKROOM_SHARED_DIR", os.path.join(ROOT, "../shared")))
    ap.add_argument("--min-quality", type=int, default=80)
    ap.add_argument("--worst", type=int, default=15)
    ap.add_argument("--csv", help="write every file's distance here")
    ap.add_argument("--test-csv", help="write the rows of tests/pdq/data/agreement.csv here")
    a = ap.parse_args()

    ref = sh([os.path.join(ROOT, "bench/pdq_reference.sh")]).strip()
    os.makedirs(a.scratch, exist_ok=True)
    files = make_set(a.scratch, os.path.abspath(a.shared))
    refs = reference_hashes(ref, files, a.scratch)
    ours = darkroom_hashes(a.darkroom, files, a.mode, a.threads)

    rows, unread_ref, unread_ours = [], 0, 0
    for f in files:
        r, o = refs.get(f["path"]), ours.get(f["path"])
        if r is None:
            unread_ref += 1
            continue
        if o is None:
            unread_ours += 1
            continue
        orient = jpeg_orientation(f["path"]) if a.mode == "default" else 1
        want = r["hashes"][DIHEDRAL_FOR_ORIENTATION[orient]]
        head = open(f["path"], "rb").read(32)
        is_jpeg = head[:2] == b"\xff\xd8"
        png16 = head[:8] == b"\x89PNG\r\n\x1a\n" and head[24] == 16
        rows.append(dict(f, distance=distance(o["hash"], want), ref_quality=r["quality"], quality=o["quality"],
                         orientation=orient, jpeg=is_jpeg, png16=png16, ref_hash=want, hash=o["hash"]))

    # 16-bit PNGs: the reference's image library casts each 16-bit sample to 8 bits (keeping the low byte), so
    # it hashes noise; darkroom (libvips) keeps the high byte, the image. Shown apart, not counted.
    png16 = [r for r in rows if r["png16"]]
    rows = [r for r in rows if not r["png16"]]
    good = [r for r in rows if r["ref_quality"] >= a.min_quality]
    print("darkroom %s (%s), mode %s; reference %s" % (
        a.darkroom, sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip(), a.mode, ref))
    print("files: %d made or found, %d the reference could not read, %d darkroom could not read, %d compared, "
          "%d of reference quality >= %d" % (len(files), unread_ref, unread_ours, len(rows), len(good),
                                             a.min_quality))
    print()
    print("%-28s %5s   %6s  %4s  %4s   %4s  %6s" % ("set (quality >= %d)" % a.min_quality, "files", "median",
                                                     "p95", "max", ">10", ""))
    print(summary(good, "all"))
    print(summary([r for r in good if r["jpeg"]], "JPEG"))
    print(summary([r for r in good if not r["jpeg"]], "not JPEG"))
    for kind in sorted({r["kind"] for r in good}):
        print(summary([r for r in good if r["kind"] == kind], "  " + kind))
    print(summary([r for r in good if r["orientation"] != 1], "EXIF-rotated"))
    print(summary([r for r in rows if r["ref_quality"] < a.min_quality], "(quality < %d)" % a.min_quality))
    print(summary([r for r in png16 if r["ref_quality"] >= a.min_quality], "(16-bit PNG, not counted)"))
    print()
    print("worst:")
    for r in sorted(good, key=lambda r: -r["distance"])[:a.worst]:
        print("  %3d  q%3d  %s" % (r["distance"], r["ref_quality"], r["path"]))
    if a.csv:
        with open(a.csv, "w") as out:
            out.write("distance,ref_quality,quality,orientation,kind,path\n")
            for r in rows:
                out.write("%d,%d,%d,%d,%s,%s\n" % (r["distance"], r["ref_quality"], r["quality"], r["orientation"],
                                                   r["kind"], r["path"]))
    if a.test_csv:
        # The sample photos of the Debian packages scripts/setup.sh installs (the shared photos have their own
        # reference files), with the first 16 hex digits of each file's sha256 so that a test can tell a changed
        # file from a wrong hash.
        with open(a.test_csv, "w") as out:
            out.write("# hash,quality,sha256 prefix,path: the PDQ reference's hashes (its dihedral for the EXIF "
                      "orientation) of Debian's sample photos; written by bench/pdq_agreement.py --test-csv\n")
            for r in sorted(rows, key=lambda r: r["path"]):
                if r["kind"] != "original" or not r["path"].startswith(tuple(DEBIAN_DIRS[:2])):
                    continue
                out.write("%s,%d,%s,%s\n" % (r["ref_hash"], r["ref_quality"], sha256(r["path"])[:16], r["path"]))


if __name__ == "__main__":
    sys.exit(main())
