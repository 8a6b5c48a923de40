// The pdq task of `darkroom analyze`: the hash of the photo as displayed, the reference's (its dihedral for the EXIF
// orientation).
#include <gtest/gtest.h>

#include "pdq/pdq_test_util.h"
#include "support/cli.h"

using dr::testing::pdq_data_dir;

TEST(AnalyzePdq, HashAndQualityAsTheReferenceSeesTheDisplayedPhoto) {
  const std::string bridge = pdq_data_dir() + "reg-test-input/dih/bridge-1-original.jpg";
  const std::string phone6 = pdq_data_dir() + "reg-test-input/exif-rotn/exif-rotn-6.jpg";
  auto res = dr::test::darkroom({"analyze", "--tasks", "pdq", bridge, phone6});
  ASSERT_TRUE(res.ok()) << res.describe() << res.err;
  auto lines = dr::test::json_lines(res.out);
  ASSERT_EQ(lines.size(), 2u);
  auto refs = dr::testing::read_reference("reference-pdqdih-across.csv");
  auto ref_of = [&](const std::string& rel) {
    for (const auto& r : refs)
      if (r.path == rel) return r;
    ADD_FAILURE() << "no reference for " << rel;
    return dr::testing::RefRow{};
  };
  const auto rb = ref_of("reg-test-input/dih/bridge-1-original.jpg");
  const auto r6 = ref_of("reg-test-input/exif-rotn/exif-rotn-6.jpg");
  ASSERT_FALSE(rb.hashes.empty());
  ASSERT_FALSE(r6.hashes.empty());

  auto hb = dr::pdq::Hash256::from_hex(lines[0]["pdq"]["hash"].get<std::string>());
  ASSERT_TRUE(hb) << lines[0];
  EXPECT_EQ(*hb, rb.hashes[0]);
  EXPECT_EQ(lines[0]["pdq"]["quality"], 100);
  // Orientation 6: the photo as displayed, which is the reference's rot270 variant.
  auto h6 = dr::pdq::Hash256::from_hex(lines[1]["pdq"]["hash"].get<std::string>());
  ASSERT_TRUE(h6) << lines[1];
  EXPECT_EQ(*h6, r6.hashes[size_t(dr::pdq::Dihedral::rot270)]);
  EXPECT_GT(h6->distance(r6.hashes[0]), 31);
  EXPECT_EQ(lines[1]["width"], 3024);
}
