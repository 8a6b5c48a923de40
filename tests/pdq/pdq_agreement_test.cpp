// The default hash against the reference hasher's, beyond ../shared/testdata: Debian's sample photos (the
// reference's hashes of them are data here, made by bench/pdq_agreement.py with the reference built outside the
// repository) and JPEGs made here from them in every chroma layout, quality and size, where the default must give
// what --exact gives (which is the reference's, bit for bit, on JPEGs: pdq_reference_test.cpp).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "analyzers/pdq/pdq_hasher.h"
#include "image/jpeg_fast.h"
#include "pdq/pdq_test_util.h"
#include "support/cli.h"
#include "util/sha256.h"

using dr::analyzers::pdq_hash_buffer;
using dr::analyzers::pdq_hash_file;
using dr::analyzers::PdqOptions;
using dr::testing::encode_jpeg;

namespace {

struct DebianRow {
  std::string hash;
  int quality = 0;
  std::string sha256_prefix, path;
};

std::vector<DebianRow> debian_rows() {
  std::ifstream in(std::string(DARKROOM_SOURCE_DIR) + "/tests/pdq/data/debian-reference.csv");
  std::vector<DebianRow> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    DebianRow r;
    std::string q;
    std::getline(ss, r.hash, ',');
    std::getline(ss, q, ',');
    std::getline(ss, r.sha256_prefix, ',');
    std::getline(ss, r.path);
    r.quality = std::stoi(q);
    rows.push_back(r);
  }
  return rows;
}

// 8-bit RGB pixels of a photo, as stored.
dr::image::Rgb photo(const std::string& path) {
  dr::image::DecodeOptions o;
  o.autorotate = false;
  return dr::image::decode(path, o).rgb;
}

}  // namespace

TEST(PdqAgreement, DebianSamplePhotosHashAsTheReferenceHashesThem) {
  const auto rows = debian_rows();
  ASSERT_GE(rows.size(), 100u);
  PdqOptions o;
  dr::pdq::Hasher hs;
  int checked = 0, jpegs = 0, missing = 0, changed = 0;
  for (const auto& r : rows) {
    if (!std::filesystem::exists(r.path)) {
      missing++;
      continue;
    }
    if (dr::util::sha256_file(r.path).substr(0, 16) != r.sha256_prefix) {  // another version of the package
      changed++;
      continue;
    }
    auto h = pdq_hash_file(r.path, o, hs);
    EXPECT_EQ(h.result.hash.hex(), r.hash) << r.path;
    EXPECT_EQ(h.result.quality, r.quality) << r.path;
    checked++;
    jpegs += dr::image::file_looks_like_jpeg(r.path);
  }
  if (checked == 0) GTEST_SKIP() << "Debian's opencv-doc and python3-skimage photos are not installed";
  EXPECT_EQ(changed, 0) << "sample photos changed since the reference hashed them: run bench/pdq_agreement.py "
                           "--test-csv tests/pdq/data/debian-reference.csv";
  EXPECT_GE(checked, 100) << missing << " missing";
  EXPECT_GE(jpegs, 60);
}

TEST(PdqAgreement, DefaultEqualsExactOnReencodingsAndResizes) {
  // What the reference does on JPEGs (--exact) and what the default does must agree on any JPEG: 4:4:4 to 4:1:1,
  // grey, progressive, low and high quality, smaller than 512 (decoded in full), larger (decoded where sampled),
  // sides that are not whole MCUs.
  const std::string src = dr::test::opencv_sample("baboon.jpg");  // 512x512, fur: every coefficient busy
  const std::string src2 = dr::test::skimage_sample("chelsea.png");
  if (!std::filesystem::exists(src) || !std::filesystem::exists(src2)) GTEST_SKIP() << "Debian samples missing";
  struct Variant {
    int w, h, quality, subsamp;
    bool progressive;
  };
  const Variant variants[] = {
      {1301, 977, 92, TJSAMP_420, false}, {1301, 977, 80, TJSAMP_422, true}, {2017, 1519, 95, TJSAMP_444, false},
      {700, 1100, 85, TJSAMP_440, false}, {1024, 600, 75, TJSAMP_411, true}, {900, 513, 90, TJSAMP_GRAY, false},
      {513, 700, 60, TJSAMP_420, true},   {333, 251, 95, TJSAMP_420, false}, {511, 512, 85, TJSAMP_444, false},
  };
  PdqOptions def, exact;
  exact.exact = true;
  dr::pdq::Hasher hs;
  int n = 0;
  for (const auto& path : {src, src2}) {
    const dr::image::Rgb rgb = photo(path);
    for (const Variant& v : variants) {
      auto px = dr::pdq::resize_nearest(rgb.pixels.data(), rgb.width, rgb.height, 3, v.w, v.h);
      int channels = 3;
      if (v.subsamp == TJSAMP_GRAY) {
        std::vector<uint8_t> grey(size_t(v.w) * v.h);
        for (size_t i = 0; i < grey.size(); i++) grey[i] = px[3 * i + 1];
        px = std::move(grey);
        channels = 1;
      }
      const auto jpeg = encode_jpeg(px, v.w, v.h, channels, v.quality, v.subsamp, v.progressive);
      const auto d = pdq_hash_buffer(jpeg.data(), jpeg.size(), "variant.jpg", def, hs);
      const auto e = pdq_hash_buffer(jpeg.data(), jpeg.size(), "variant.jpg", exact, hs);
      EXPECT_EQ(d.result.hash.hex(), e.result.hash.hex())
          << path << " as " << v.w << "x" << v.h << " q" << v.quality << " layout " << v.subsamp;
      EXPECT_EQ(d.result.quality, e.result.quality);
      n++;
    }
  }
  EXPECT_EQ(n, 18);
}

TEST(PdqAgreement, EveryExifOrientationGivesTheReferencesDihedral) {
  // One photo carrying each of the 8 orientations: the default hash is the reference's dihedral hash of the stored
  // pixels for that orientation (--exact --dihedral gives the reference's 8), and the size is as displayed.
  const std::string src = dr::test::opencv_sample("fruits.jpg");  // 512x480
  if (!std::filesystem::exists(src)) GTEST_SKIP() << "Debian samples missing";
  const dr::image::Rgb rgb = photo(src);
  const int w = 1200, h = 700;
  const auto px = dr::pdq::resize_nearest(rgb.pixels.data(), rgb.width, rgb.height, 3, w, h);
  const auto plain = encode_jpeg(px, w, h, 3, 90, TJSAMP_420);
  PdqOptions def, exact;
  exact.exact = true;
  exact.dihedral = true;
  dr::pdq::Hasher hs;
  const auto all = pdq_hash_buffer(plain.data(), plain.size(), "plain.jpg", exact, hs).result.dihedral;
  std::set<std::string> distinct;
  for (int o = 1; o <= 8; o++) {
    const auto jpeg = dr::testing::with_exif_orientation(plain, o);
    ASSERT_EQ(dr::image::jpeg_exif_orientation(jpeg.data(), jpeg.size()), o);
    const auto d = pdq_hash_buffer(jpeg.data(), jpeg.size(), "rotated.jpg", def, hs);
    EXPECT_EQ(d.result.hash.hex(), all[size_t(dr::pdq::dihedral_for_orientation(o))].hex()) << "orientation " << o;
    EXPECT_EQ(d.width, o >= 5 ? h : w) << "orientation " << o;
    distinct.insert(d.result.hash.hex());
    // --exact ignores the orientation, as the reference does.
    const auto e = pdq_hash_buffer(jpeg.data(), jpeg.size(), "rotated.jpg", exact, hs);
    EXPECT_EQ(e.result.hash.hex(), all[0].hex()) << "orientation " << o;
  }
  EXPECT_EQ(distinct.size(), 8u);
}
