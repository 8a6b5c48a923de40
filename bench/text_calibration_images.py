#!/usr/bin/env python3
"""Makes the images bench/text_calibrate reads to calibrate the text recognizer's int8 ranges: 24 pictures of lines
in six DejaVu faces (serif, mono, bold, italic, condensed, sans), sizes 11 to 34 points, five colours, on plain
backgrounds and on python3-skimage's photos. Their words and layouts are not those of bench/text_peers.py's
images, so that the calibration is not made on the images the accuracy is measured on.

Usage: bench/text_calibration_images.py OUT_DIR
"""
import os
import random
import subprocess
import sys

DEJAVU = "/usr/share/fonts/truetype/dejavu"
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
WORDS = ("alpha bridge canal delta engine forest garage height island jacket kettle lemon meadow noodle orange "
         "pencil quartz rabbit saddle timber umbrella velvet walnut yellow zipper Monday April 2024 19:30 No. 7 Exit "
         "Gate B receipt total VAT 12.50 EUR Kaffee Straße café naïve résumé").split()
FONTS = ("DejaVuSerif.ttf", "DejaVuSansMono.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif-Italic.ttf",
         "DejaVuSansCondensed.ttf", "DejaVuSans.ttf")
PHOTOS = ("camera.png", "brick.png", "grass.png", "rocket.jpg", "chelsea.png", "hubble_deep_field.jpg")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(7)
    photos = [os.path.join(SKIMAGE, p) for p in PHOTOS if os.path.exists(os.path.join(SKIMAGE, p))]
    for i in range(24):
        w, h = rnd.choice([(800, 300), (1000, 400), (600, 600)])
        photo = rnd.choice(photos + [None, None])
        if photo:
            args = [photo, "-resize", "%dx%d!" % (w, h)]
        else:
            args = ["-size", "%dx%d" % (w, h), "xc:" + rnd.choice(["white", "#f0e8d0", "#202020", "#3050a0"])]
        y = 10
        while True:
            pt = rnd.choice([11, 13, 16, 20, 26, 34])
            y += int(pt * 1.6)
            if y > h - 5:
                break
            text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 9)))
            args += ["-font", os.path.join(DEJAVU, rnd.choice(FONTS)), "-pointsize", str(pt),
                     "-fill", rnd.choice(["black", "white", "#c02020", "#204080", "#e0e040"]),
                     "-annotate", "+%d+%d" % (rnd.randint(5, 60), y), text]
        subprocess.run(["convert"] + args + ["PNG24:" + os.path.join(out, "calibration%02d.png" % i)], check=True,
                       stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
