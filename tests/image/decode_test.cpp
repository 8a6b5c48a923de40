#include "image/decode.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "support/cli.h"

using dr::image::decode;
using dr::image::DecodeOptions;
using dr::test::TempDir;

TEST(Decode, ShrinksToTheLongestSideKeepingAspect) {
  DecodeOptions o;
  o.max_side = 200;
  auto d = decode(dr::test::opencv_sample("messi5.jpg"), o);  // 548x342
  EXPECT_EQ(d.info.display_width, 548);
  EXPECT_EQ(d.info.display_height, 342);
  EXPECT_EQ(d.rgb.width, 200);
  EXPECT_NEAR(d.rgb.height, 342 * 200 / 548, 1);
  EXPECT_EQ(d.rgb.pixels.size(), size_t(d.rgb.width) * d.rgb.height * 3);
  EXPECT_NEAR(d.to_display(), 548.0 / 200, 1e-9);
}

TEST(Decode, AppliesExifOrientation) {
  std::string dir = dr::test::shared_dir() + "/testdata/pdq/reg-test-input/exif-rotn/";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no ../shared/testdata";
  DecodeOptions o;
  o.max_side = 256;
  auto upright = decode(dir + "exif-rotn-1.jpg", o);
  auto rot6 = decode(dir + "exif-rotn-6.jpg", o);
  EXPECT_EQ(rot6.info.orientation, 6);
  EXPECT_GT(upright.rgb.width, upright.rgb.height);
  EXPECT_LT(rot6.rgb.width, rot6.rgb.height);  // portrait once rotated
  o.autorotate = false;
  auto stored = decode(dir + "exif-rotn-6.jpg", o);
  EXPECT_GT(stored.rgb.width, stored.rgb.height);
}

TEST(Decode, GreyPaletteAlphaAnd16BitBecomeRgb) {
  for (auto f : {dr::test::skimage_sample("camera.png"), dr::test::skimage_sample("palette_color.png"),
                 dr::test::skimage_sample("chessboard_GRAY_U16.tif"), dr::test::opencv_sample("opencv-logo.png")}) {
    auto d = decode(f);
    EXPECT_GT(d.rgb.width, 0) << f;
    EXPECT_EQ(d.rgb.pixels.size(), size_t(d.rgb.width) * d.rgb.height * 3) << f;
  }
  // The logo's transparent corner is flattened on white.
  auto logo = decode(dr::test::opencv_sample("opencv-logo.png"));
  EXPECT_EQ(logo.rgb.pixels[0], 255);
}

TEST(Decode, PixelLimitIsCheckedBeforeDecoding) {
  DecodeOptions o;
  o.limits.max_pixels = 100 * 100;
  try {
    decode(dr::test::skimage_sample("astronaut.png"), o);
    FAIL() << "over the pixel limit";
  } catch (const dr::image::Error& e) {
    EXPECT_TRUE(e.permanent());
    EXPECT_NE(std::string(e.what()).find("over the limit"), std::string::npos) << e.what();
  }
}

TEST(Decode, TruncatedAndGarbageFilesAreErrors) {
  TempDir dir;
  std::string bytes;
  {
    std::ifstream in(dr::test::opencv_sample("messi5.jpg"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  dr::test::write_file(dir / "cut.jpg", bytes.substr(0, bytes.size() / 3));
  dr::test::write_file(dir / "noise.png", std::string(5000, '\x7f'));
  EXPECT_THROW(decode(dir / "cut.jpg"), dr::image::Error);
  EXPECT_THROW(decode(dir / "noise.png"), dr::image::Error);
  EXPECT_THROW(dr::image::decode_buffer(bytes.data(), 0, "empty", {}), dr::image::Error);
  auto ok = dr::image::decode_buffer(bytes.data(), bytes.size(), "messi", {});
  EXPECT_EQ(ok.rgb.width, 548);
}

// warm_up() runs once per process, from any thread, beside decodes, and leaves no error behind for them.
TEST(Decode, WarmUpBesideDecodesChangesNothing) {
  const auto before = decode(dr::test::opencv_sample("messi5.jpg"));
  std::thread a(dr::image::warm_up), b(dr::image::warm_up);
  const auto during = decode(dr::test::opencv_sample("messi5.jpg"));
  a.join();
  b.join();
  dr::image::warm_up();
  EXPECT_EQ(during.rgb.pixels, before.rgb.pixels);
  TempDir dir;
  dr::test::write_file(dir / "noise.png", std::string(5000, '\x7f'));
  try {
    decode(dir / "noise.png");
    FAIL() << "noise decoded";
  } catch (const dr::image::Error& e) {
    EXPECT_NE(std::string(e.what()).find("noise.png"), std::string::npos) << e.what();
  }
}
