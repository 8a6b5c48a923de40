#include "image/decode.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "image/metadata.h"
#include "pdq/pdq_test_util.h"
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

namespace {
// A PNG chunk: length, type, data, CRC.
std::string png_chunk(const std::string& type, const std::string& data) {
  auto be = [](uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; };
  std::string td = type + data;
  return be(uint32_t(data.size())) + td +
         be(uint32_t(crc32(0, reinterpret_cast<const Bytef*>(td.data()), uInt(td.size()))));
}
}  // namespace

// A small PNG with a huge text chunk, or many large ones, is refused from its chunk headers before libpng, libvips
// or exiv2 read the chunk whole (a 64 MiB tEXt cost 381 MB and 16 s in `work`). Up to the limits it decodes.
TEST(Decode, PngMetadataChunksHaveALimit) {
  TempDir dir;
  std::string png;
  {
    std::ifstream in(dr::test::skimage_sample("coins.png"), std::ios::binary);
    png.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_EQ(png.substr(12, 4), "IHDR");
  auto with = [&](const std::string& chunks) { return png.substr(0, 33) + chunks + png.substr(33); };
  const std::string ok = with(png_chunk("tEXt", "Comment" + std::string(1, '\0') + std::string(1 << 20, 'a')));
  const std::string big = with(png_chunk("tEXt", "Comment" + std::string(1, '\0') + std::string(17 << 20, 'a')));
  std::string many_chunks;
  for (int i = 0; i < 5; ++i) many_chunks += png_chunk("zzZz", std::string(15 << 20, char(i)));
  const std::string many = with(many_chunks);
  dr::test::write_file(dir / "ok.png", ok);
  dr::test::write_file(dir / "big.png", big);
  dr::test::write_file(dir / "many.png", many);

  EXPECT_EQ(decode(dir / "ok.png").rgb.width, 384);
  EXPECT_EQ(dr::image::decode_buffer(ok.data(), ok.size(), "ok", {}).rgb.width, 384);
  EXPECT_TRUE(dr::image::read_metadata(dir / "ok.png").error.empty());
  auto refused = [](auto&& f, const std::string& want) {
    try {
      f();
      ADD_FAILURE() << "not refused: " << want;
    } catch (const dr::image::Error& e) {
      EXPECT_TRUE(e.permanent());
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  refused([&] { decode(dir / "big.png"); }, "big.png: the PNG has a tEXt chunk of 17 MiB; darkroom reads at most 16");
  refused([&] { dr::image::decode_buffer(big.data(), big.size(), "big", {}); }, "tEXt chunk of 17 MiB");
  refused([&] { dr::image::read_info(dir / "many.png"); }, "more than 64 MiB of metadata");
  EXPECT_NE(dr::image::read_metadata(dir / "big.png").error.find("tEXt chunk of 17 MiB"), std::string::npos);
}

// A progressive JPEG of more than 500 scans is refused from its markers before libvips decodes it (libvips has no
// scan limit; a few KB of scans can cost minutes), with the same limit as the JPEG fast path. Its own scans decode.
TEST(Decode, JpegScansHaveALimit) {
  std::vector<uint8_t> px(96 * 64 * 3);
  for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(i * 7 % 251);
  const auto prog = dr::testing::encode_jpeg(px, 96, 64, 3, 90, TJSAMP_420, true);
  const std::string jpeg(prog.begin(), prog.end());
  EXPECT_EQ(dr::image::decode_buffer(jpeg.data(), jpeg.size(), "progressive", {}).rgb.width, 96);
  // Its last scan, again and again.
  const size_t last = jpeg.rfind("\xff\xda"), end = jpeg.rfind("\xff\xd9");
  ASSERT_NE(last, std::string::npos);
  std::string many = jpeg.substr(0, end);
  for (int i = 0; i < 600; ++i) many += jpeg.substr(last, end - last);
  many += "\xff\xd9";
  TempDir dir;
  dr::test::write_file(dir / "scans.jpg", many);
  for (auto f : {+[](const std::string&path, const std::string&) { decode(path); },
                 +[](const std::string&, const std::string&bytes) {
                   dr::image::decode_buffer(bytes.data(), bytes.size(), "scans.jpg", {});
                 }}) {
    try {
      f(dir / "scans.jpg", many);
      ADD_FAILURE() << "600 scans decoded";
    } catch (const dr::image::Error& e) {
      EXPECT_TRUE(e.permanent());
      EXPECT_NE(std::string(e.what()).find("scans.jpg: the progressive JPEG has more than 500 scans"),
                std::string::npos)
          << e.what();
    }
  }
}

// A 16x16 TIFF that declares 18928x18928 tiles (a gigabyte each, RGB): libvips refuses the tile size from the header
// before it allocates a tile, and darkroom says so in its sentence. (A HEIC's tiles are libheif's to bound.)
TEST(Decode, TiffWithHugeTilesIsRefusedBeforeAllocating) {
  auto u16 = [](uint16_t v) { return std::string{char(v & 0xff), char(v >> 8)}; };
  auto u32 = [](uint32_t v) {
    return std::string{char(v & 0xff), char(v >> 8 & 0xff), char(v >> 16 & 0xff), char(v >> 24)};
  };
  struct Tag {
    uint16_t tag, type;
    uint32_t count, value;
  };
  const uint32_t tile = 18928, n = 11, bps = 8 + 2 + n * 12 + 4, data = bps + 6;
  const Tag tags[] = {{256, 3, 1, 16},   {257, 3, 1, 16},   {258, 3, 3, bps}, {259, 3, 1, 1},
                      {262, 3, 1, 2},    {277, 3, 1, 3},    {284, 3, 1, 1},   {322, 4, 1, tile},
                      {323, 4, 1, tile}, {324, 4, 1, data}, {325, 4, 1, 1000}};
  std::string tiff = "II*" + std::string(1, '\0') + u32(8) + u16(uint16_t(n));
  for (const auto& t : tags)
    tiff += u16(t.tag) + u16(t.type) + u32(t.count) +
            (t.type == 3 && t.count == 1 ? u16(uint16_t(t.value)) + u16(0) : u32(t.value));
  tiff += u32(0) + u16(8) + u16(8) + u16(8) + std::string(1000, '\0');
  TempDir dir;
  dr::test::write_file(dir / "tiles.tif", tiff);
  try {
    decode(dir / "tiles.tif");
    FAIL() << "decoded";
  } catch (const dr::image::Error& e) {
    EXPECT_NE(std::string(e.what()).find("tiles.tif: tiff2vips: tile size out of range"), std::string::npos)
        << e.what();
  }
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
