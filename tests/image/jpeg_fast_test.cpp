// The sampled JPEG decode against TurboJPEG's full decode: the same bits at every pixel asked for, in every chroma
// layout, progressive or not, at sizes that are not whole MCUs; and its errors.
#include "image/jpeg_fast.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <random>

#include "pdq/pdq.h"
#include "pdq/pdq_test_util.h"

using dr::image::decode_jpeg_full;
using dr::image::decode_jpeg_sampled;
using dr::image::Pixels;
using dr::testing::encode_jpeg;

namespace {

// A test card that exercises what the decoder rounds and clamps: noise (every coefficient busy), smooth ramps,
// saturated colours (YCbCr->RGB clamps there) and sharp edges between them.
std::vector<uint8_t> test_card(int w, int h, int channels) {
  std::mt19937 rng(7);
  std::vector<uint8_t> px(size_t(w) * h * channels);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      uint8_t* p = &px[(size_t(y) * w + x) * channels];
      const int band = (x * 5 / w) + 5 * (y * 3 / h);  // 15 regions
      for (int c = 0; c < channels; c++) {
        int v;
        switch (band % 5) {
          case 0:
            v = int(rng() % 256);
            break;
          case 1:
            v = (x * (c + 1) + y * 2) % 256;
            break;
          case 2:
            v = c == band / 5 ? 255 : 0;  // pure red, green or blue
            break;
          case 3:
            v = ((x / 3 + y / 5) & 1) ? 250 : 5;
            break;
          default:
            v = 128 + int(rng() % 21) - 10;
        }
        p[c] = uint8_t(v);
      }
    }
  }
  return px;
}

std::vector<int> iota(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// How many samples differ between the sampled decode and the same pixels picked from the full decode.
int differing(const std::vector<uint8_t>& jpeg, const std::vector<int>& xs, const std::vector<int>& ys) {
  const Pixels full = decode_jpeg_full(jpeg.data(), jpeg.size(), "test.jpg");
  const Pixels s = decode_jpeg_sampled(jpeg.data(), jpeg.size(), "test.jpg", xs, ys);
  EXPECT_EQ(s.width, int(xs.size()));
  EXPECT_EQ(s.height, int(ys.size()));
  EXPECT_EQ(s.channels, full.channels);
  int bad = 0;
  for (size_t j = 0; j < ys.size(); j++)
    for (size_t i = 0; i < xs.size(); i++)
      for (int c = 0; c < full.channels; c++) {
        const uint8_t want = full.data[(size_t(ys[j]) * full.width + size_t(xs[i])) * full.channels + c];
        bad += s.data[(j * xs.size() + i) * size_t(full.channels) + c] != want;
      }
  return bad;
}

struct Layout {
  int subsamp;
  const char* name;
};
const Layout kLayouts[] = {{TJSAMP_444, "4:4:4"}, {TJSAMP_422, "4:2:2"}, {TJSAMP_420, "4:2:0"},
                           {TJSAMP_440, "4:4:0"}, {TJSAMP_411, "4:1:1"}, {TJSAMP_GRAY, "grey"}};

}  // namespace

TEST(JpegSampled, EveryPixelEqualsTheFullDecodeInEveryChromaLayout) {
  // Odd sizes: neither side a whole number of MCUs, so the chroma planes end in a half-used sample.
  for (auto [w, h] : {std::pair{203, 157}, std::pair{96, 64}}) {
    for (const Layout& l : kLayouts) {
      for (bool progressive : {false, true}) {
        const int channels = l.subsamp == TJSAMP_GRAY ? 1 : 3;
        const auto jpeg = encode_jpeg(test_card(w, h, channels), w, h, channels, 85, l.subsamp, progressive);
        EXPECT_EQ(differing(jpeg, iota(w), iota(h)), 0)
            << l.name << (progressive ? " progressive " : " ") << w << "x" << h;
      }
    }
  }
}

TEST(JpegSampled, PdqsSampleOfALargePhotoInAnyOrder) {
  const int w = 1301, h = 977;
  const auto jpeg = encode_jpeg(test_card(w, h, 3), w, h, 3, 92, TJSAMP_420);
  const auto xs = dr::pdq::nearest_positions(w, 512), ys = dr::pdq::nearest_positions(h, 512);
  EXPECT_EQ(differing(jpeg, xs, ys), 0);
  // Rows and columns in any order, repeated, and at the edges where the interpolation reaches past the image.
  std::vector<int> odd_xs = {w - 1, 0, 1, 640, 639, 0, w - 2}, odd_ys = {h - 1, 5, 5, 0, 16, 15, 17, h - 2};
  EXPECT_EQ(differing(jpeg, odd_xs, odd_ys), 0);
}

TEST(JpegSampled, CmykGoesThroughTheFullDecode) {
  const std::string cmyk = dr::testing::pdq_data_dir() + "misc-images/modes/CMYK.jpg";
  if (!std::filesystem::exists(cmyk)) GTEST_SKIP() << "no ../shared/testdata";
  const auto bytes = dr::image::read_file(cmyk);
  const auto hd = dr::image::jpeg_header(bytes.data(), bytes.size(), cmyk);
  ASSERT_TRUE(hd.cmyk);
  EXPECT_EQ(differing(bytes, dr::pdq::nearest_positions(hd.width, 512), dr::pdq::nearest_positions(hd.height, 512)), 0);
}

TEST(JpegSampled, TruncatedAndCorruptFilesAreErrorsNamingTheFile) {
  const int w = 640, h = 480;
  const auto jpeg = encode_jpeg(test_card(w, h, 3), w, h, 3, 90, TJSAMP_420);
  const auto xs = dr::pdq::nearest_positions(w, 512), ys = dr::pdq::nearest_positions(h, 512);
  const std::vector<uint8_t> cut(jpeg.begin(), jpeg.begin() + long(jpeg.size() / 2));
  try {
    decode_jpeg_sampled(cut.data(), cut.size(), "cut.jpg", xs, ys);
    FAIL() << "a truncated JPEG decoded";
  } catch (const dr::image::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.jpg: truncated JPEG"), std::string::npos) << e.what();
  }
  // A frame whose first component uses quantisation table 3, never defined: TurboJPEG reads the header, libjpeg
  // fails when decoding starts, and its error comes back as an exception naming the file (not an exit).
  std::vector<uint8_t> bad = jpeg;
  for (size_t i = 2; i + 12 < bad.size(); i++)
    if (bad[i] == 0xFF && bad[i + 1] == 0xC0) {
      bad[i + 12] = 3;  // FF C0, length, precision, height, width, count, then id, sampling, table
      break;
    }
  try {
    decode_jpeg_sampled(bad.data(), bad.size(), "bad.jpg", xs, ys);
    FAIL() << "a JPEG without its quantisation table decoded";
  } catch (const dr::image::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jpg: cannot decode JPEG ("), std::string::npos) << e.what();
  }
  // The decoder is usable after errors.
  EXPECT_EQ(differing(jpeg, xs, ys), 0);
}
