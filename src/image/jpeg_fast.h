// The JPEG fast path: libjpeg-turbo's TurboJPEG API straight from the file's bytes, no libvips. Used where decode
// speed is the point (PDQ hashing): the pixels PDQ samples are decoded without upsampling and converting the rest
// (decode_jpeg_sampled), and the EXIF orientation is read by a small parser of our own. Every failure is an
// image::Error naming the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "image/decode.h"

namespace dr::image {

// A JPEG file larger than this is refused before it is read (the largest real photos are a few hundred MB).
inline constexpr uint64_t kMaxJpegFileBytes = uint64_t(1) << 30;

// Reads a whole file; throws image::Error ("cannot read FILE: reason") when it cannot, when it is empty, or when it
// is larger than max_bytes.
std::vector<uint8_t> read_file(const std::string& path, uint64_t max_bytes = kMaxJpegFileBytes);

// Whether the file starts like a JPEG (reads 4 bytes); throws image::Error when it cannot be opened or is empty.
bool file_looks_like_jpeg(const std::string& path);

bool looks_like_jpeg(const uint8_t* data, size_t size);  // starts with the SOI marker and another marker

// The EXIF orientation (1..8) from the APP1 segment, 1 when there is none or it cannot be read. Never reads past
// `size`.
int jpeg_exif_orientation(const uint8_t* data, size_t size);

struct JpegHeader {
  int width = 0, height = 0;  // as stored
  bool cmyk = false;          // CMYK or YCCK (Adobe-inverted, converted without colour management)
  bool grey = false;
  bool ycbcr = false;  // YCbCr colours (the usual case)
};
// Throws image::Error when the header cannot be read or the image exceeds limits.max_pixels.
JpegHeader jpeg_header(const uint8_t* data, size_t size, const std::string& name, const Limits& limits = {});

// Full-size pixels as stored, with libjpeg's default accurate integer IDCT and fancy upsampling: the pixels the
// PDQ reference hashes. RGB (channels 3), or channels 1 for a greyscale JPEG; CMYK is converted to RGB.
struct Pixels {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> data;
};
Pixels decode_jpeg_full(const uint8_t* data, size_t size, const std::string& name, const Limits& limits = {});

// The pixels of decode_jpeg_full() at the columns `xs` and rows `ys` only (any order, repeats allowed): a
// xs.size() x ys.size() image, bit for bit what picking them out of the full decode gives. For YCbCr and greyscale
// JPEGs it reads libjpeg's raw output (the same integer IDCT, before chroma upsampling and colour conversion) one
// iMCU row (8 or 16 pixel rows) at a time, and upsamples and converts only the sampled pixels, with libjpeg's
// arithmetic (its "fancy" interpolation for 2:1 chroma, replication for other factors, fixed-point YCbCr->RGB):
// no full-size image is ever held. What PDQ's 512x512 nearest-neighbour sample of a 12-MP photo needs. Other JPEGs
// (CMYK, RGB) go through the full decode. Coordinates must be inside the image.
Pixels decode_jpeg_sampled(const uint8_t* data, size_t size, const std::string& name, const std::vector<int>& xs,
                           const std::vector<int>& ys, const Limits& limits = {});

}  // namespace dr::image
