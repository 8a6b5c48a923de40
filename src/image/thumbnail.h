// Thumbnails: decoded pixels reduced and encoded as WebP (the grid's and the preview's), and crops of an encoded
// thumbnail (a face for the people page). libvips does the work, one thread per call as everywhere in darkroom.
#pragma once
#include <string>

#include "image/decode.h"

namespace dr::image {

struct Encoded {
  std::string bytes;  // the file's bytes
  int width = 0, height = 0;
};

// Reduces `rgb` (never enlarges) so that its shorter side is at most `max_short` and its longer side at most
// `max_long` (0: no bound), with a Lanczos kernel, and encodes it as WebP at `quality` (1..100).
Encoded webp_thumbnail(const Rgb& rgb, int max_short, int max_long, int quality = 80);

// Cuts a square around the box (x, y, w, h, in the encoded image's pixels; `margin` of the box's larger side added
// on each side; clamped to the image) out of an encoded image and encodes it as a side x side WebP. Throws Error
// when the bytes are not an image.
Encoded webp_crop(const std::string& encoded, double x, double y, double w, double h, int side, double margin = 0.25,
                  int quality = 80);

}  // namespace dr::image
