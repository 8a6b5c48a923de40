#!/usr/bin/env python3
"""Makes pages of print for bench/text_precision (float against int8) in faces that neither the int8 calibration
(bench/text_calibration_images.py: six DejaVu faces) nor bench/text_peers.py uses: MathJax's Main (a Computer Modern
serif), SansSerif and Typewriter (Debian's fonts-mathjax), LyX's cmr10 (fonts-lyx), and DejaVu's ExtraLight, Serif
Condensed Bold and Sans Mono Bold Oblique (fonts-dejavu-extra); 12 to 40 points, dark and coloured ink, on plain backgrounds and on
washed-out python3-skimage photos. Each page.png has its truth in page.txt, one line per line. Seeded.

Usage: bench/text_precision_images.py OUT_DIR [PAGES]
"""
import os
import random
import subprocess
import sys

FONTS = ("/usr/share/fonts/opentype/mathjax/MathJax_Main-Regular.otf",
         "/usr/share/fonts/opentype/mathjax/MathJax_SansSerif-Regular.otf",
         "/usr/share/fonts/opentype/mathjax/MathJax_Typewriter-Regular.otf",
         "/usr/share/fonts/truetype/lyx/cmr10.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSans-ExtraLight.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSerifCondensed-Bold.ttf",
         "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-BoldOblique.ttf")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png")
# Letters and digits only in the words: cmr10's TeX encoding puts other glyphs at some ASCII codes.
WORDS = ("station library window garden Tuesday coffee market number ticket platform open closed daily from until "
         "north south river bridge school the and of to at for with price total street avenue museum theatre hotel "
         "bakery pharmacy parking exit entrance floor 2025 1430 No 5 1290 B7 Room 204 June October Saturday").split()


def main():
    out = sys.argv[1]
    pages = int(sys.argv[2]) if len(sys.argv) > 2 else 42
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(11)
    fonts = [f for f in FONTS if os.path.exists(f)]
    if not fonts:
        sys.exit("none of the faces is installed (Debian: fonts-mathjax, fonts-lyx, fonts-dejavu-extra)")
    photos = [os.path.join(SKIMAGE, p) for p in PHOTOS if os.path.exists(os.path.join(SKIMAGE, p))]
    for i in range(pages):
        font = fonts[i % len(fonts)]
        w, h = 1000, 600
        photo = rnd.choice(photos + [None, None])
        if photo:
            args = [photo, "-resize", "%dx%d!" % (w, h), "-fill", "white", "-colorize", "55%"]
        else:
            args = ["-size", "%dx%d" % (w, h), "xc:" + rnd.choice(["white", "#f3eee0", "#e8eef6"])]
        y, truth = 10, []
        while True:
            pt = rnd.choice([12, 14, 16, 20, 26, 32, 40])
            y += int(pt * 1.9)
            if y > h - 10:
                break
            # About 11 characters per point-width unit of 1000 px at 20 points: keep lines inside the page.
            most = max(1, int(900 / (pt * 0.62 * 7)))
            text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, most)))
            truth.append(text)
            args += ["-font", font, "-pointsize", str(pt),
                     "-fill", rnd.choice(["black", "#202020", "#a01818", "#183c80", "#1d5a1d"]),
                     "-annotate", "+%d+%d" % (rnd.randint(10, 50), y), text]
        name = os.path.join(out, "page%02d" % i)
        subprocess.run(["convert"] + args + ["PNG24:" + name + ".png"], check=True, stderr=subprocess.DEVNULL)
        with open(name + ".txt", "w") as f:
            f.write("\n".join(truth) + "\n")


if __name__ == "__main__":
    main()
