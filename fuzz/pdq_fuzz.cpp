// libFuzzer over decode + hash: any bytes, both paths (fast and --exact), with and without dihedrals. A crash, a
// sanitizer report, or a hash returned for an image the hasher says is too small is a finding. Image errors are
// the expected outcome for most inputs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "analyzers/pdq/pdq_hasher.h"
#include "image/jpeg_fast.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dr::pdq::Hasher hasher;
  dr::analyzers::PdqOptions opts;
  opts.limits.max_pixels = 4'000'000;  // keep each run small; the limit itself is part of what is fuzzed
  const uint8_t flags = size ? data[size - 1] : 0;
  opts.exact = flags & 1;
  opts.dihedral = flags & 2;
  // Also the EXIF parser on its own, which must never read past the end.
  (void)dr::image::jpeg_exif_orientation(data, size);
  try {
    auto h = dr::analyzers::pdq_hash_buffer(data, size, "fuzz", opts, hasher);
    if (h.result.quality < 0 || h.result.quality > 100) std::abort();
    if (opts.dihedral && h.result.dihedral[0] != h.result.hash) std::abort();
  } catch (const dr::image::Error&) {
  }
  return 0;
}
