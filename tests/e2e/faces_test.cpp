// `darkroom analyze --tasks faces` end to end: real photos, a 40-megapixel photo, EXIF orientation, greyscale.
#include <gtest/gtest.h>

#include <vips/vips8>

#include "support/cli.h"

using dr::test::TempDir;

namespace {

std::vector<nlohmann::json> analyze(const std::vector<std::string>& files, bool embeddings = false) {
  std::vector<std::string> args = {"--models", dr::test::test_models_dir(), "--threads", "2", "analyze", "--tasks",
                                   "faces"};
  if (embeddings) args.push_back("--embeddings");
  args.insert(args.end(), files.begin(), files.end());
  auto r = dr::test::darkroom(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dr::test::json_lines(r.out);
}

bool inside(const nlohmann::json& box, double x, double y) {
  return x >= box[0].get<double>() && y >= box[1].get<double>() && x <= box[0].get<double>() + box[2].get<double>() &&
         y <= box[1].get<double>() + box[3].get<double>();
}

TEST(AnalyzeFaces, RealPhotos) {
  auto lines = analyze({dr::test::skimage_sample("astronaut.png"), dr::test::skimage_sample("camera.png"),
                        dr::test::opencv_sample("messi5.jpg"), dr::test::skimage_sample("coffee.png"),
                        dr::test::opencv_sample("fruits.jpg"), dr::test::skimage_sample("rocket.jpg")},
                       true);
  ASSERT_EQ(lines.size(), 6u);
  ASSERT_EQ(lines[0]["faces"].size(), 1u) << lines[0];
  EXPECT_TRUE(inside(lines[0]["faces"][0]["box"], 224, 121));
  EXPECT_EQ(lines[0]["faces"][0]["embedding"].size(), 128u);
  ASSERT_EQ(lines[1]["faces"].size(), 1u) << lines[1];  // camera.png is greyscale
  EXPECT_TRUE(inside(lines[1]["faces"][0]["box"], 228, 156));
  ASSERT_EQ(lines[2]["faces"].size(), 1u) << lines[2];
  EXPECT_TRUE(inside(lines[2]["faces"][0]["box"], 241, 113));
  for (int i = 3; i < 6; i++) EXPECT_EQ(lines[i]["faces"].size(), 0u) << lines[i];
  EXPECT_TRUE(lines[0]["timings_ms"].contains("faces"));
}

TEST(AnalyzeFaces, FortyMegapixelsWithExifOrientation) {
  TempDir dir;
  ASSERT_EQ(VIPS_INIT("darkroom_tests"), 0);  // the test writes the photo with libvips itself
  // The astronaut at 7744 x 5164 (40 MP, not square), stored turned a quarter and tagged with EXIF orientation 6 so
  // that it displays upright: coordinates come back in the displayed image's pixels.
  auto src = vips::VImage::new_from_file(dr::test::skimage_sample("astronaut.png").c_str());
  auto big = src.resize(7744.0 / 512, vips::VImage::option()->set("vscale", 5164.0 / 512));
  auto stored = big.rot270().copy();
  stored.set("orientation", 6);
  std::string path = dir / "big.jpg";
  stored.jpegsave(path.c_str(), vips::VImage::option()->set("Q", 85));

  auto lines = analyze({path});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["width"], 7744);
  EXPECT_EQ(lines[0]["height"], 5164);
  ASSERT_EQ(lines[0]["faces"].size(), 1u) << lines[0];
  EXPECT_TRUE(inside(lines[0]["faces"][0]["box"], 224 * 7744 / 512.0, 121 * 5164 / 512.0)) << lines[0];
  EXPECT_GT(lines[0]["faces"][0]["quality"]["size"].get<double>(), 1000);
}

TEST(AnalyzeFaces, EmbeddingsOnlyWhenAskedFor) {
  auto lines = analyze({dr::test::skimage_sample("astronaut.png")});
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0]["faces"].size(), 1u);
  EXPECT_FALSE(lines[0]["faces"][0].contains("embedding"));
  EXPECT_EQ(lines[0]["faces"][0]["landmarks"].size(), 5u);
}

}  // namespace
