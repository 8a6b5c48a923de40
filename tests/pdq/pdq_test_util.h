// Reading the PDQ reference data in ../shared/testdata/pdq (hashes the reference hasher printed), and making JPEGs
// in memory for tests (TurboJPEG's encoder: every chroma layout, progressive, an EXIF orientation).
#pragma once
#include <turbojpeg.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "pdq/pdq.h"

namespace dr::testing {

// DARKROOM_SHARED_DIR in the environment overrides the compiled-in ../shared (e.g. for a worktree elsewhere).
inline std::string pdq_data_dir() {
  const char* env = std::getenv("DARKROOM_SHARED_DIR");
  return std::string(env && *env ? env : DARKROOM_SHARED_DIR) + "/testdata/pdq/";
}

struct RefRow {
  std::vector<pdq::Hash256> hashes;  // 1 (reference-hashes.csv) or 8 (reference-pdqdih-across.csv)
  int quality = 0;
  std::string path;  // relative to pdq_data_dir()
};

// Rows "h1,...,hk,quality,path".
inline std::vector<RefRow> read_reference(const std::string& file) {
  std::vector<RefRow> rows;
  std::ifstream in(pdq_data_dir() + file);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string item;
    while (std::getline(ss, item, ',')) f.push_back(item);
    if (f.size() < 3) continue;
    RefRow r;
    r.path = f.back();
    r.quality = std::stoi(f[f.size() - 2]);
    for (size_t i = 0; i + 2 < f.size(); i++) r.hashes.push_back(*pdq::Hash256::from_hex(f[i]));
    rows.push_back(r);
  }
  return rows;
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Encodes interleaved RGB (or grey, channels 1) pixels as a JPEG: `subsamp` is a TJSAMP_* layout.
inline std::vector<uint8_t> encode_jpeg(const std::vector<uint8_t>& px, int w, int h, int channels, int quality,
                                        int subsamp, bool progressive = false) {
  tjhandle tj = tjInitCompress();
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  const int flags = TJFLAG_ACCURATEDCT | (progressive ? TJFLAG_PROGRESSIVE : 0);
  const int rc =
      tjCompress2(tj, px.data(), w, 0, h, channels == 1 ? TJPF_GRAY : TJPF_RGB, &buf, &size, subsamp, quality, flags);
  std::vector<uint8_t> out;
  if (rc == 0) out.assign(buf, buf + size);
  tjFree(buf);
  tjDestroy(tj);
  if (rc != 0) throw std::runtime_error("tjCompress2 failed");
  return out;
}

// The same JPEG with an APP1 EXIF segment saying `orientation` (1..8) right after its SOI marker.
inline std::vector<uint8_t> with_exif_orientation(const std::vector<uint8_t>& jpeg, int orientation) {
  // "Exif\0\0", then a little-endian TIFF header and IFD0 with one entry: 0x0112 SHORT count 1.
  std::vector<uint8_t> tiff = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, uint8_t(orientation),
                               0,   0,   0,  0, 0, 0, 0};
  std::vector<uint8_t> seg = {'E', 'x', 'i', 'f', 0, 0};
  seg.insert(seg.end(), tiff.begin(), tiff.end());
  const size_t len = seg.size() + 2;
  const uint8_t marker[4] = {0xFF, 0xE1, uint8_t(len >> 8), uint8_t(len & 0xFF)};
  std::vector<uint8_t> out;
  out.reserve(jpeg.size() + 4 + seg.size());
  for (size_t i = 0; i < jpeg.size(); i++) {
    if (i == 2) {  // after SOI
      for (uint8_t b : marker) out.push_back(b);
      for (uint8_t b : seg) out.push_back(b);
    }
    out.push_back(jpeg[i]);
  }
  return out;
}

}  // namespace dr::testing
