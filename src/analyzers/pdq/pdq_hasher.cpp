#include "analyzers/pdq/pdq_hasher.h"

#include <algorithm>
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

// Area-averages a float plane by an integer factor so that its longest side comes near kPdqWorkingSide, then
// hashes it.
pdq::Result hash_plane(std::vector<float>& luma, int w, int h, bool dihedral, pdq::Dihedral view, pdq::Hasher& hasher) {
  const int f = std::max(w, h) / kPdqWorkingSide;
  if (f >= 2) {
    int rw = 0, rh = 0;
    std::vector<float> r = pdq::reduce_area(luma.data(), w, h, f, f, &rw, &rh);
    return hasher.hash_luma(r.data(), rw, rh, dihedral, view);
  }
  return hasher.hash_luma(luma.data(), w, h, dihedral, view);
}

pdq::Result hash_rgb_view(const image::Rgb& rgb, bool dihedral, pdq::Dihedral view, pdq::Hasher& hasher,
                          const std::string& name) {
  check_size(rgb.width, rgb.height, name.empty() ? "image" : name);
  std::vector<float> luma(size_t(rgb.width) * rgb.height);
  pdq::luma_from_rgb(rgb.pixels.data(), rgb.width, rgb.height, size_t(rgb.width) * 3, luma.data());
  return hash_plane(luma, rgb.width, rgb.height, dihedral, view, hasher);
}

// The reference's input: nearest-neighbour to 512x512 above 512, luma from RGB or grey.
pdq::Result hash_exact_pixels(const uint8_t* px, int w, int h, int channels, bool dihedral, pdq::Hasher& hasher) {
  std::vector<uint8_t> resized;
  if (w > pdq::kExactSide || h > pdq::kExactSide) {
    resized = pdq::resize_nearest(px, w, h, channels, pdq::kExactSide, pdq::kExactSide);
    px = resized.data();
    w = h = pdq::kExactSide;
  }
  std::vector<float> luma(size_t(w) * h);
  if (channels == 1)
    pdq::luma_from_grey(px, w, h, size_t(w), luma.data());
  else
    pdq::luma_from_rgb(px, w, h, size_t(w) * 3, luma.data());
  return hasher.hash_luma(luma.data(), w, h, dihedral);
}

PdqFileHash hash_decoded(const image::Decoded& d, const std::string& name, const PdqOptions& opts,
                         pdq::Hasher& hasher) {
  PdqFileHash out;
  out.width = opts.exact ? d.info.stored_width : d.info.display_width;
  out.height = opts.exact ? d.info.stored_height : d.info.display_height;
  check_size(d.rgb.width, d.rgb.height, name);
  out.result =
      opts.exact ? hash_exact_pixels(d.rgb.pixels.data(), d.rgb.width, d.rgb.height, 3, opts.dihedral, hasher)
                 : hash_rgb_view(d.rgb, opts.dihedral, pdq::dihedral_for_orientation(d.info.orientation), hasher, name);
  return out;
}

}  // namespace

pdq::Result pdq_hash_rgb(const image::Rgb& rgb, bool dihedral, pdq::Hasher& hasher, const std::string& name) {
  return hash_rgb_view(rgb, dihedral, pdq::Dihedral::original, hasher, name);
}

PdqFileHash pdq_hash_buffer(const uint8_t* data, size_t size, const std::string& name, const PdqOptions& opts,
                            pdq::Hasher& hasher) {
  if (size == 0) throw image::Error(name + ": empty file");
  if (image::looks_like_jpeg(data, size)) {
    const image::JpegHeader hd = image::jpeg_header(data, size, name, opts.limits);
    check_size(hd.width, hd.height, name);
    PdqFileHash out;
    if (opts.exact) {
      image::Pixels px = image::decode_jpeg_full(data, size, name, opts.limits);
      out.width = px.width;
      out.height = px.height;
      out.result = hash_exact_pixels(px.data.data(), px.width, px.height, px.channels, opts.dihedral, hasher);
      return out;
    }
    // The stored pixels are hashed and the EXIF orientation applied to the DCT coefficients: the reference's own
    // dihedral rule, so a rotated phone photo matches the reference's dihedral hash of it. (Rotating the pixels
    // first differs from that by up to ~18 bits on the exif-rotn photos: the reference's box filter is not
    // symmetric.)
    image::Grey g = image::decode_jpeg_luma(data, size, name, opts.jpeg_min_side, opts.limits);
    const int orientation = image::jpeg_exif_orientation(data, size);
    const bool swap = orientation >= 5 && orientation <= 8;
    out.width = swap ? hd.height : hd.width;
    out.height = swap ? hd.width : hd.height;
    std::vector<float> luma(g.pixels.size());
    pdq::luma_from_grey(g.pixels.data(), g.width, g.height, size_t(g.width), luma.data());
    out.result = hash_plane(luma, g.width, g.height, opts.dihedral, pdq::dihedral_for_orientation(orientation), hasher);
    return out;
  }
  // Everything else through libvips, as stored; the orientation is applied in the DCT domain as for JPEGs.
  image::DecodeOptions dopt;
  dopt.limits = opts.limits;
  dopt.autorotate = false;
  dopt.max_side = opts.exact ? 0 : kPdqWorkingSide;
  return hash_decoded(image::decode_buffer(data, size, name, dopt), name, opts, hasher);
}

PdqFileHash pdq_hash_file(const std::string& path, const PdqOptions& opts, pdq::Hasher& hasher) {
  std::vector<uint8_t> bytes = image::read_file(path);
  return pdq_hash_buffer(bytes.data(), bytes.size(), path, opts, hasher);
}

}  // namespace dr::analyzers
