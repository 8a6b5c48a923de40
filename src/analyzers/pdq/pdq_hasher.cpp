#include "analyzers/pdq/pdq_hasher.h"

#include <vector>

#include "image/jpeg_fast.h"

namespace dr::analyzers {

namespace {

void check_size(int w, int h, const std::string& name) {
  if (w < pdq::kMinHashableSide || h < pdq::kMinHashableSide)
    throw image::Error(name + ": image is " + std::to_string(w) + "x" + std::to_string(h) +
                       " pixels, too small for a PDQ hash (at least " + std::to_string(pdq::kMinHashableSide) + "x" +
                       std::to_string(pdq::kMinHashableSide) + " needed)");
}

bool needs_resize(int w, int h) { return w > pdq::kExactSide || h > pdq::kExactSide; }

// The reference's input rule on 8-bit pixels (`channels` 1 or 3): nearest neighbour to 512x512 when a side
// exceeds 512, luma in float, then the hash of that plane seen through `view`.
pdq::Result hash_pixels(const uint8_t* px, int w, int h, int channels, bool dihedral, pdq::Dihedral view,
                        pdq::Hasher& hasher) {
  std::vector<uint8_t> resized;
  if (needs_resize(w, h)) {
    resized = pdq::resize_nearest(px, w, h, channels, pdq::kExactSide, pdq::kExactSide);
    px = resized.data();
    w = h = pdq::kExactSide;
  }
  std::vector<float> luma(size_t(w) * h);
  if (channels == 1)
    pdq::luma_from_grey(px, w, h, size_t(w), luma.data());
  else
    pdq::luma_from_rgb(px, w, h, size_t(w) * 3, luma.data());
  return hasher.hash_luma(luma.data(), w, h, dihedral, view);
}

PdqFileHash hash_decoded(const image::Decoded& d, const std::string& name, const PdqOptions& opts,
                         pdq::Hasher& hasher) {
  PdqFileHash out;
  out.width = opts.exact ? d.info.stored_width : d.info.display_width;
  out.height = opts.exact ? d.info.stored_height : d.info.display_height;
  check_size(d.rgb.width, d.rgb.height, name);
  const pdq::Dihedral view = opts.exact ? pdq::Dihedral::original : pdq::dihedral_for_orientation(d.info.orientation);
  out.result = hash_pixels(d.rgb.pixels.data(), d.rgb.width, d.rgb.height, 3, opts.dihedral, view, hasher);
  return out;
}

PdqFileHash hash_jpeg(const uint8_t* data, size_t size, const std::string& name, const PdqOptions& opts,
                      pdq::Hasher& hasher) {
  const image::JpegHeader hd = image::jpeg_header(data, size, name, opts.limits);
  check_size(hd.width, hd.height, name);
  PdqFileHash out;
  if (opts.exact) {
    image::Pixels px = image::decode_jpeg_full(data, size, name, opts.limits);
    out.width = px.width;
    out.height = px.height;
    out.result =
        hash_pixels(px.data.data(), px.width, px.height, px.channels, opts.dihedral, pdq::Dihedral::original, hasher);
    return out;
  }
  // The stored pixels are hashed and the EXIF orientation applied to the DCT coefficients: the reference's own
  // dihedral rule, so a rotated phone photo matches the reference's dihedral hash of it. (Rotating the pixels
  // first differs from that by up to ~18 bits on the exif-rotn photos: the reference's box filter is not
  // symmetric.)
  const int orientation = image::jpeg_exif_orientation(data, size);
  const bool swap = orientation >= 5 && orientation <= 8;
  out.width = swap ? hd.height : hd.width;
  out.height = swap ? hd.width : hd.height;
  const image::Pixels px =
      needs_resize(hd.width, hd.height)
          ? image::decode_jpeg_sampled(data, size, name, pdq::nearest_positions(hd.width, pdq::kExactSide),
                                       pdq::nearest_positions(hd.height, pdq::kExactSide), opts.limits)
          : image::decode_jpeg_full(data, size, name, opts.limits);
  out.result = hash_pixels(px.data.data(), px.width, px.height, px.channels, opts.dihedral,
                           pdq::dihedral_for_orientation(orientation), hasher);
  return out;
}

image::DecodeOptions vips_options(const PdqOptions& opts) {
  // Full size, as stored (no autorotate): the orientation is applied in the DCT domain, as for JPEGs.
  image::DecodeOptions dopt;
  dopt.limits = opts.limits;
  dopt.autorotate = false;
  dopt.max_side = 0;
  return dopt;
}

}  // namespace

pdq::Result pdq_hash_rgb(const image::Rgb& rgb, bool dihedral, pdq::Hasher& hasher, const std::string& name) {
  check_size(rgb.width, rgb.height, name.empty() ? "image" : name);
  return hash_pixels(rgb.pixels.data(), rgb.width, rgb.height, 3, dihedral, pdq::Dihedral::original, hasher);
}

PdqFileHash pdq_hash_buffer(const uint8_t* data, size_t size, const std::string& name, const PdqOptions& opts,
                            pdq::Hasher& hasher) {
  if (size == 0) throw image::Error(name + ": empty file");
  if (image::looks_like_jpeg(data, size)) return hash_jpeg(data, size, name, opts, hasher);
  return hash_decoded(image::decode_buffer(data, size, name, vips_options(opts)), name, opts, hasher);
}

PdqFileHash pdq_hash_file(const std::string& path, const PdqOptions& opts, pdq::Hasher& hasher) {
  // JPEGs are read whole for TurboJPEG; everything else is left to libvips, which reads the file as it needs it.
  if (image::file_looks_like_jpeg(path)) {
    const std::vector<uint8_t> bytes = image::read_file(path);
    return hash_jpeg(bytes.data(), bytes.size(), path, opts, hasher);
  }
  return hash_decoded(image::decode(path, vips_options(opts)), path, opts, hasher);
}

}  // namespace dr::analyzers
