// `darkroom analyze --tasks text` end to end: the JSON contract, and boxes in the displayed image's pixels for a
// JPEG whose EXIF orientation turns it.
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <vips/vips8>

#include "support/cli.h"
#include "support/text_images.h"

using dr::test::TempDir;

namespace {

bool ocr_models_installed() {
  return std::filesystem::exists(dr::test::test_models_dir() + "/ocr/ch_PP-OCRv4_det_infer.onnx");
}

// Writes an RGB image as a file libvips can read (PNG or JPEG by the extension), with an EXIF orientation if given.
void save(const cv::Mat& rgb, const std::string& path, int orientation = 0) {
  cv::Mat c = rgb.clone();
  auto v = vips::VImage::new_from_memory(c.data, c.total() * 3, c.cols, c.rows, 3, VIPS_FORMAT_UCHAR).copy();
  if (orientation) v.set("orientation", orientation);
  v.write_to_file(path.c_str());
}

TEST(AnalyzeText, PrintsTheContractsFields) {
  if (!ocr_models_installed()) GTEST_SKIP() << "PP-OCRv4 models not installed";
  auto img = dr::test::plain_sample();
  TempDir dir;
  save(img.rgb, dir / "sign.png");
  std::string photo = dr::test::skimage_sample("astronaut.png");
  auto r = dr::test::darkroom(
      {"--models", dr::test::test_models_dir(), "analyze", "--tasks", "text", dir / "sign.png", photo});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = dr::test::json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  const auto& t = lines[0]["text"];
  ASSERT_TRUE(t["lines"].is_array()) << lines[0];
  EXPECT_EQ(t["lines"].size(), 6u) << t;
  for (auto& l : t["lines"]) {
    EXPECT_TRUE(l["text"].is_string());
    EXPECT_GT(l["score"].get<double>(), 0.5);
    ASSERT_EQ(l["box"].size(), 4u);
    for (auto& p : l["box"]) {
      EXPECT_GE(p[0].get<double>(), 0);
      EXPECT_LE(p[0].get<double>(), 860);
      EXPECT_GE(p[1].get<double>(), 0);
      EXPECT_LE(p[1].get<double>(), 560);
    }
  }
  std::string full = t["full"];
  EXPECT_EQ(full.rfind("Harbour Street 42\nOpen daily from 9 to 17\n", 0), 0u) << full;
  EXPECT_TRUE(lines[0]["timings_ms"].contains("text"));
  // A photo without text: an empty list and an empty string, not a missing field.
  if (std::filesystem::exists(photo)) {
    EXPECT_TRUE(lines[1]["text"]["lines"].empty()) << lines[1];
    EXPECT_EQ(lines[1]["text"]["full"], "");
  }
}

TEST(AnalyzeText, BoxesFollowExifOrientation) {
  if (!ocr_models_installed()) GTEST_SKIP() << "PP-OCRv4 models not installed";
  // The sample sign stored turned a quarter counter-clockwise, with EXIF orientation 6 to show it upright.
  auto img = dr::test::plain_sample();
  cv::Mat stored;
  cv::rotate(img.rgb, stored, cv::ROTATE_90_COUNTERCLOCKWISE);
  stored = stored.clone();
  TempDir dir;
  std::string f = dir / "turned.jpg";
  auto v =
      vips::VImage::new_from_memory(stored.data, stored.total() * 3, stored.cols, stored.rows, 3, VIPS_FORMAT_UCHAR);
  v = v.copy();
  v.set("orientation", 6);
  v.jpegsave(f.c_str(), vips::VImage::option()->set("Q", 95));

  auto r = dr::test::darkroom({"--models", dr::test::test_models_dir(), "analyze", "--tasks", "text", f});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = dr::test::json_lines(r.out).at(0);
  EXPECT_EQ(j["width"], 860);
  EXPECT_EQ(j["height"], 560);
  auto& lines = j["text"]["lines"];
  ASSERT_FALSE(lines.empty()) << j;
  EXPECT_EQ(lines[0]["text"], "Harbour Street 42");
  EXPECT_NEAR(lines[0]["box"][0][0].get<double>(), 40, 15);
  EXPECT_NEAR(lines[0]["box"][0][1].get<double>(), 40, 15);
  EXPECT_LE(dr::test::cer(j["text"]["full"], img.truth), 0.05) << j["text"]["full"];
}

}  // namespace
