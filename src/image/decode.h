// Decoding photos for analysis: libvips with shrink-on-load, EXIF orientation applied, a pixel limit checked
// before any pixel is decoded. Every failure is an image::Error whose message is one sentence about the file.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dr::image {

class Error : public std::runtime_error {
 public:
  // permanent: the file itself is the problem (not an image, truncated, a pixel bomb); retrying cannot help.
  Error(const std::string& what, bool permanent = true) : std::runtime_error(what), permanent_(permanent) {}
  bool permanent() const { return permanent_; }

 private:
  bool permanent_;
};

struct Limits {
  // Images with more pixels than this (as stored) are refused before decoding. 0 = no limit.
  uint64_t max_pixels = 178'956'970;  // 2^31 / 12: a 32-bit float RGB buffer stays addressable
};

// What the file's header says; nothing is decoded.
struct Info {
  std::string format;  // "jpeg", "png", "webp", "heif", "tiff", ...
  int stored_width = 0, stored_height = 0;
  int orientation = 1;                        // EXIF orientation 1..8
  int display_width = 0, display_height = 0;  // after orientation
};

// 8-bit RGB pixels, interleaved, rows top to bottom, as the photo is displayed (orientation applied).
struct Rgb {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3
  const uint8_t* row(int y) const { return pixels.data() + size_t(y) * width * 3; }
};

struct Decoded {
  Info info;
  Rgb rgb;  // possibly reduced: rgb.width <= info.display_width
  // Multiply a coordinate in rgb's pixels by this to get the displayed image's pixels.
  double to_display() const { return rgb.width ? double(info.display_width) / rgb.width : 1.0; }
};

Info read_info(const std::string& path, const Limits& limits = {});

// A PNG's chunks other than its pixels (text, ICC profile, EXIF, private ones) may hold at most kPngChunkMax bytes
// each and kPngMetadataMax in all: a 16x16 image with a 64 MiB text chunk cost 381 MB and 16 s in `work` before
// (libpng reads such a chunk whole, libvips and exiv2 copy it). The chunk headers are walked, nothing is read
// whole. read_info and decode_buffer check it; `add` before exiv2 reads the file. Throws Error (permanent).
constexpr uint64_t kPngChunkMax = 16u << 20, kPngMetadataMax = 64u << 20;
void check_png_chunks(const std::string& path);
void check_png_chunks(const void* data, size_t size, const std::string& name);

// A progressive JPEG of more than kJpegMaxScans scans is refused, as TurboJPEG's TJFLAG_LIMITSCANS refuses it on
// the JPEG fast path (image/jpeg_fast.h): libvips' decoder has no such limit. The scans are counted from the
// markers; read_info and decode_buffer check it. Throws Error (permanent).
constexpr int kJpegMaxScans = 500;
void check_jpeg_scans(const std::string& path);
void check_jpeg_scans(const void* data, size_t size, const std::string& name);

// For a program's start, before it starts threads: libvips' optional format modules (HEIF among them) are then
// loaded the first time a file needs one, and no environment variable is changed later, while other threads may
// read the environment. Reading works without it: libvips then sets that variable itself when it starts.
void prepare_decoder();

// Starts libvips and reads a 2x2 PNG and JPEG made in memory: the first photo of a process then does not pay for
// libvips' start and its loaders' first use (about 5 ms, most of what a tiny image's decode took). For a thread of
// its own while the models load. Once per process; never throws (a decoder that cannot start says so on the first
// photo).
void warm_up();

// Starts libvips (once per process) as decode() does; for the other users of libvips in image/ (thumbnail.h).
// Throws Error when it cannot start.
void start_vips();

struct DecodeOptions {
  int max_side = 0;        // longest side at most this (0 = full size); JPEGs shrink on load (DCT scaling)
  bool autorotate = true;  // apply EXIF orientation (false: pixels as stored, as the PDQ reference does)
  Limits limits;
};

// Decodes a photo; shrinks on load where the format can, then resamples with area averaging. Alpha is flattened
// on white; greyscale, palette, 16-bit, CMYK come out as 8-bit RGB.
Decoded decode(const std::string& path, const DecodeOptions& opts = {});

// Decodes an in-memory encoded image (same rules); `name` is only used in error messages.
Decoded decode_buffer(const void* data, size_t size, const std::string& name, const DecodeOptions& opts = {});

}  // namespace dr::image
