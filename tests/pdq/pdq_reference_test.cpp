// Our hashes of the shared photos against what the reference hasher printed for them (../shared/testdata/pdq).
#include <gtest/gtest.h>

#include "analyzers/pdq/pdq_hasher.h"
#include "image/jpeg_fast.h"
#include "pdq/pdq_test_util.h"

using dr::analyzers::pdq_hash_file;
using dr::analyzers::PdqOptions;
using dr::testing::ends_with;
using dr::testing::pdq_data_dir;
using dr::testing::read_reference;

namespace {

// JPEGs: the reference decodes them with the same libjpeg, so --exact must give the very same bits (CMYK included:
// both take the Adobe-inverted channels as they are).
bool plain_jpeg(const std::string& rel) { return ends_with(rel, ".jpg"); }

}  // namespace

TEST(PdqReference, ExactModeIsBitIdenticalOnPlainJpegs) {
  auto rows = read_reference("reference-hashes.csv");
  ASSERT_GT(rows.size(), 40u);
  PdqOptions o;
  o.exact = true;
  dr::pdq::Hasher hs;
  int checked = 0;
  for (const auto& r : rows) {
    if (!plain_jpeg(r.path)) continue;
    auto h = pdq_hash_file(pdq_data_dir() + r.path, o, hs);
    EXPECT_EQ(h.result.hash.hex(), r.hashes[0].hex()) << r.path;
    EXPECT_EQ(h.result.quality, r.quality) << r.path;
    checked++;
  }
  EXPECT_GE(checked, 36);  // every JPEG
}

TEST(PdqReference, ExactDihedralsEqualTheReference) {
  auto rows = read_reference("reference-pdqdih-across.csv");
  PdqOptions o;
  o.exact = true;
  o.dihedral = true;
  dr::pdq::Hasher hs;
  int checked = 0;
  for (const auto& r : rows) {
    if (!plain_jpeg(r.path)) continue;
    ASSERT_EQ(r.hashes.size(), 8u);
    auto h = pdq_hash_file(pdq_data_dir() + r.path, o, hs);
    for (int k = 0; k < 8; k++)
      EXPECT_EQ(h.result.dihedral[size_t(k)].hex(), r.hashes[size_t(k)].hex())
          << r.path << " " << dr::pdq::dihedral_name(dr::pdq::Dihedral(k));
    EXPECT_EQ(h.result.quality, r.quality) << r.path;
    checked++;
  }
  EXPECT_GE(checked, 36);
}

TEST(PdqReference, ExactModeEqualsTheReferenceOnEveryOtherFile) {
  // PNG and WebP: decoded by libvips here, by libpng or ImageMagick there; the same 8-bit pixels.
  auto rows = read_reference("reference-hashes.csv");
  PdqOptions o;
  o.exact = true;
  dr::pdq::Hasher hs;
  int checked = 0;
  for (const auto& r : rows) {
    if (plain_jpeg(r.path)) continue;
    auto h = pdq_hash_file(pdq_data_dir() + r.path, o, hs);
    EXPECT_EQ(h.result.hash.hex(), r.hashes[0].hex()) << r.path;
    EXPECT_EQ(h.result.quality, r.quality) << r.path;
    checked++;
  }
  EXPECT_GE(checked, 12);
}

TEST(PdqReference, DefaultIsTheReferencesDihedralForTheExifOrientation) {
  // The default shows photos as displayed: for EXIF-rotated photos the reference hash it gives is the reference's
  // dihedral hash for that orientation (the reference ignores EXIF orientation); for the others, its hash. Bit for
  // bit, at every quality: the default hashes the reference's pixels, JPEGs included (decoded only where sampled).
  auto rows = read_reference("reference-pdqdih-across.csv");
  PdqOptions o;
  dr::pdq::Hasher hs;
  int checked = 0, rotated = 0;
  for (const auto& r : rows) {
    const std::string path = pdq_data_dir() + r.path;
    int orientation = 1;
    if (ends_with(r.path, ".jpg")) {
      auto bytes = dr::image::read_file(path);
      orientation = dr::image::jpeg_exif_orientation(bytes.data(), bytes.size());
    }
    auto h = pdq_hash_file(path, o, hs);
    const auto& want = r.hashes[size_t(dr::pdq::dihedral_for_orientation(orientation))];
    EXPECT_EQ(h.result.hash.hex(), want.hex()) << r.path << " (orientation " << orientation << ")";
    EXPECT_EQ(h.result.quality, r.quality) << r.path;
    rotated += orientation != 1;
    checked++;
  }
  EXPECT_GE(checked, 48);
  EXPECT_EQ(rotated, 3);  // exif-rotn-3, -6, -8
}

TEST(PdqReference, ExifOrientationIsRead) {
  for (int o : {1, 3, 6, 8}) {
    auto bytes =
        dr::image::read_file(pdq_data_dir() + "reg-test-input/exif-rotn/exif-rotn-" + std::to_string(o) + ".jpg");
    EXPECT_EQ(dr::image::jpeg_exif_orientation(bytes.data(), bytes.size()), o);
  }
}

TEST(PdqReference, DefaultReportsTheDisplayedSize) {
  PdqOptions o;
  dr::pdq::Hasher hs;
  auto h6 = pdq_hash_file(pdq_data_dir() + "reg-test-input/exif-rotn/exif-rotn-6.jpg", o, hs);
  EXPECT_EQ(h6.width, 3024);
  EXPECT_EQ(h6.height, 4032);
  o.exact = true;
  auto e6 = pdq_hash_file(pdq_data_dir() + "reg-test-input/exif-rotn/exif-rotn-6.jpg", o, hs);
  EXPECT_EQ(e6.width, 4032);
  EXPECT_EQ(e6.height, 3024);
}
