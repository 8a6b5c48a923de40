// PDQ hashes of files and decoded images: picks the decoder (TurboJPEG for JPEGs, libvips for the rest), gives the
// hash the pixels the reference hasher (facebook/ThreatExchange pdq/cpp) gives it, and applies the EXIF
// orientation. The hash itself is pdq/pdq.h. Used by `darkroom hash`, the pdq task of `analyze` and of library
// jobs, and the fuzz target.
#pragma once
#include <cstdint>
#include <string>

#include "image/decode.h"
#include "pdq/pdq.h"

namespace dr::analyzers {

// Both modes hash what the reference hashes: the full-size pixels (JPEGs with libjpeg's accurate integer IDCT and
// fancy upsampling), resized to exactly 512x512 by nearest neighbour when a side exceeds 512, luma in float. They
// differ in two ways:
// - default: a photo with an EXIF orientation is hashed as displayed: the orientation is applied to the DCT
//   coefficients, the reference's own dihedral rule, so the hash is the reference's dihedral hash for that
//   orientation. JPEGs larger than 512 on a side are decoded only where the resize samples them
//   (image::decode_jpeg_sampled: the same bits; for a 12-MP photo 35 ms against 132 ms, and 0.3 MB of rows against
//   36 MB of pixels; BENCHMARKS.md, "PDQ").
// - exact: the reference's behaviour to the letter: EXIF orientation ignored (the photo as stored), JPEGs decoded
//   in full by TurboJPEG. Bit-identical to the reference on JPEGs.
struct PdqOptions {
  bool exact = false;
  bool dihedral = false;  // also the 8 dihedral variants (Result::dihedral)
  image::Limits limits;
};

// What the default mode computes, for a catalog to record with each hash (ModelRef::variant of the pdq task): a
// library re-hashes its photos once when it changes. Earlier hashes (no marker) came from a reduced decode and
// area averaging, up to 26 bits from the reference's on a photo.
inline constexpr const char* kPdqAlgorithm = "reference-nn512";

// The side the reference resizes to; also what the pdq task asks the shared decode for when it has no file to read.
inline constexpr int kPdqWorkingSide = pdq::kExactSide;

struct PdqFileHash {
  pdq::Result result;
  int width = 0, height = 0;  // the image as hashed (displayed orientation unless exact), before any resize
};

// Throws image::Error (naming the file and why) for anything that cannot be hashed, including images under 5x5
// pixels, for which the reference would print an all-zero hash.
PdqFileHash pdq_hash_file(const std::string& path, const PdqOptions& opts, pdq::Hasher& hasher);
PdqFileHash pdq_hash_buffer(const uint8_t* data, size_t size, const std::string& name, const PdqOptions& opts,
                            pdq::Hasher& hasher);

// Hashes already decoded RGB pixels (as displayed) with the reference's rule (nearest neighbour to 512x512 when a
// side exceeds 512). For pixels that have been resampled already (as by a shared decode at a reduced size) the hash
// is near the reference's, not equal to it: hash the file when there is one.
pdq::Result pdq_hash_rgb(const image::Rgb& rgb, bool dihedral, pdq::Hasher& hasher, const std::string& name = "");

}  // namespace dr::analyzers
