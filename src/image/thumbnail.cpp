#include "image/thumbnail.h"

#include <algorithm>
#include <cmath>
#include <vips/vips8>

namespace dr::image {
namespace {

Encoded encode(const vips::VImage& im, int quality) {
  void* buf = nullptr;
  size_t len = 0;
  if (vips_webpsave_buffer(im.get_image(), &buf, &len, "Q", quality, "strip", TRUE, nullptr) != 0) {
    std::string why = vips_error_buffer();
    vips_error_clear();
    throw Error("could not encode a WebP thumbnail: " + why, false);
  }
  Encoded e;
  e.bytes.assign(static_cast<const char*>(buf), len);
  g_free(buf);
  e.width = im.width();
  e.height = im.height();
  return e;
}

}  // namespace

Encoded webp_thumbnail(const Rgb& rgb, int max_short, int max_long, int quality) {
  start_vips();
  if (rgb.width <= 0 || rgb.height <= 0 || rgb.pixels.size() != size_t(rgb.width) * rgb.height * 3)
    throw Error("no pixels to make a thumbnail of", false);
  try {
    auto im = vips::VImage::new_from_memory(const_cast<uint8_t*>(rgb.pixels.data()), rgb.pixels.size(), rgb.width,
                                            rgb.height, 3, VIPS_FORMAT_UCHAR);
    double scale = 1;
    int shorter = std::min(rgb.width, rgb.height), longer = std::max(rgb.width, rgb.height);
    if (max_short > 0 && shorter > max_short) scale = std::min(scale, double(max_short) / shorter);
    if (max_long > 0 && longer > max_long) scale = std::min(scale, double(max_long) / longer);
    if (scale < 1) im = im.resize(scale, vips::VImage::option()->set("kernel", VIPS_KERNEL_LANCZOS3));
    return encode(im, quality);
  } catch (const vips::VError& e) {
    vips_error_clear();
    throw Error(std::string("could not make a thumbnail: ") + e.what(), false);
  }
}

Encoded webp_crop(const std::string& encoded, double x, double y, double w, double h, int side, double margin,
                  int quality) {
  start_vips();
  try {
    auto im = vips::VImage::new_from_buffer(encoded.data(), encoded.size(), "");
    if (im.bands() > 3) im = im.extract_band(0, vips::VImage::option()->set("n", 3));
    double s = std::max(w, h) * (1 + 2 * margin);
    s = std::clamp(s, 1.0, double(std::min(im.width(), im.height())));
    double cx = x + w / 2, cy = y + h / 2;
    int left = int(std::lround(std::clamp(cx - s / 2, 0.0, im.width() - s)));
    int top = int(std::lround(std::clamp(cy - s / 2, 0.0, im.height() - s)));
    int size = std::max(1, int(std::lround(s)));
    size = std::min({size, im.width() - left, im.height() - top});
    auto crop = im.extract_area(left, top, size, size);
    if (size != side)
      crop = crop.resize(double(side) / size, vips::VImage::option()->set("kernel", VIPS_KERNEL_LANCZOS3));
    return encode(crop, quality);
  } catch (const vips::VError& e) {
    vips_error_clear();
    throw Error(std::string("could not crop the thumbnail: ") + e.what());
  }
}

}  // namespace dr::image
