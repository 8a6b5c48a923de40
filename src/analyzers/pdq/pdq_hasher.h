// PDQ hashes of files and decoded images: picks the decoder (the TurboJPEG fast path for JPEGs, libvips for the
// rest), brings the pixels to the size the hash needs and applies the EXIF orientation. The hash itself is
// pdq/pdq.h. Used by `darkroom hash`, the pdq task of `analyze` and the fuzz target.
#pragma once
#include <cstdint>
#include <string>

#include "image/decode.h"
#include "pdq/pdq.h"

namespace dr::analyzers {

struct PdqOptions {
  // The reference's own input path: full decode, nearest-neighbour resize to 512x512 when a side exceeds 512, EXIF
  // orientation ignored. Bit-identical to the reference on JPEGs. Otherwise the fast path: JPEGs decoded at a DCT
  // scale (1/8..1) keeping both sides >= jpeg_min_side, area-averaged, shown as displayed (EXIF orientation).
  bool exact = false;
  bool dihedral = false;    // also the 8 dihedral variants (Result::dihedral)
  int jpeg_min_side = 256;  // measured: 64 or 128 move 256x256 photos by up to 80 / 34 bits
  image::Limits limits;
};

// The longest side the fast path hashes at: larger planes are first area-averaged by an integer factor.
inline constexpr int kPdqWorkingSide = 512;

struct PdqFileHash {
  pdq::Result result;
  int width = 0, height = 0;  // the image as hashed (displayed orientation unless exact), before any reduction
};

// Throws image::Error (naming the file and why) for anything that cannot be hashed, including images under 5x5
// pixels, for which the reference would print an all-zero hash.
PdqFileHash pdq_hash_file(const std::string& path, const PdqOptions& opts, pdq::Hasher& hasher);
PdqFileHash pdq_hash_buffer(const uint8_t* data, size_t size, const std::string& name, const PdqOptions& opts,
                            pdq::Hasher& hasher);

// Hashes already decoded RGB pixels (as displayed), reducing them first when larger than kPdqWorkingSide.
pdq::Result pdq_hash_rgb(const image::Rgb& rgb, bool dihedral, pdq::Hasher& hasher, const std::string& name = "");

}  // namespace dr::analyzers
