// libFuzzer over a photo file as darkroom reads one: any bytes, written to a file (a memfd, read by its /proc path),
// then what `add` does with it (its metadata through exiv2) and what `analyze` and the library's workers do (the
// shared decode through libvips at the side the tasks want, shrink-on-load and EXIF orientation included; the pdq
// task's own read of the file, TurboJPEG for JPEGs; the thumbs task's WebP thumbnails of the decoded pixels). The
// last byte chooses the decode side and which steps run.
//
// Findings: a crash, a sanitizer report, a hang or unbounded memory (libFuzzer's -timeout and -rss_limit_mb), or
// decoded pixels that break the promises of image/decode.h (their count, their size against the displayed size).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "analyzers/pdq/pdq_hasher.h"
#include "analyzers/task.h"
#include "image/decode.h"
#include "image/metadata.h"
#include "image/thumbnail.h"

namespace {

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "image_fuzz: %s\n", why.c_str());
  std::abort();
}

// The file the bytes are written to.
struct File {
  int fd = -1;
  std::string path;
  File() {
    fd = memfd_create("photo", 0);
    if (fd < 0) fail("memfd_create failed");
    path = "/proc/self/fd/" + std::to_string(fd);
  }
  void write(const uint8_t* data, size_t size) {
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != ssize_t(size)) fail("cannot write the memfd");
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  dr::image::prepare_decoder();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static File file;
  static dr::pdq::Hasher hasher;
  file.write(data, size);
  const uint8_t flags = size ? data[size - 1] : 0;

  // `add`: the header's facts, never an exception.
  const dr::image::Metadata m = dr::image::read_metadata(file.path);
  if (m.format.empty() && m.error.empty()) fail("no format and no reason");
  if (m.orientation < 1 || m.orientation > 8) fail("an orientation outside 1..8");

  // `analyze` / `work`: one decode at the largest side the tasks want (pdq 512, the detectors about 640, text 1600,
  // or full size), then each task. Small limits keep each run short; the limit itself is fuzzed with the rest.
  static const int sides[] = {512, 640, 1600, 0};
  dr::image::Limits limits;
  limits.max_pixels = 4'000'000;
  try {
    auto in = dr::analyzers::read_photo(file.path, sides[flags & 3], limits, false);
    const auto& img = in.img;
    const auto& rgb = img.rgb;
    if (rgb.width <= 0 || rgb.height <= 0 || rgb.pixels.size() != size_t(rgb.width) * rgb.height * 3)
      fail("decoded pixels that do not fill their image");
    if (rgb.width > img.info.display_width || rgb.height > img.info.display_height)
      fail("decoded pixels larger than the image as displayed");
    if (uint64_t(img.info.stored_width) * uint64_t(img.info.stored_height) > limits.max_pixels)
      fail("an image over the pixel limit was decoded");
    if (flags & 4) {
      // The pdq task reads the file itself (the caller's decode checked the limit).
      dr::analyzers::PdqOptions o;
      o.dihedral = flags & 8;
      o.limits.max_pixels = 0;
      auto h = dr::analyzers::pdq_hash_file(file.path, o, hasher);
      if (h.result.quality < 0 || h.result.quality > 100) fail("a PDQ quality outside 0..100");
    }
    if (flags & 16) {
      auto t = dr::image::webp_thumbnail(rgb, 250, 750);
      if (t.bytes.empty() || t.width > rgb.width || t.height > rgb.height) fail("a thumbnail larger than its photo");
    }
  } catch (const dr::image::Error&) {
  }
  return 0;
}
