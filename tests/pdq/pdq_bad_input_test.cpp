// Bad input is normal input: every odd file gives a hash or a clear error naming the file, never a crash, never
// unbounded memory, never an all-zero hash.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "analyzers/pdq/pdq_hasher.h"
#include "image/jpeg_fast.h"
#include "pdq/pdq_test_util.h"

namespace fs = std::filesystem;
using dr::analyzers::pdq_hash_file;
using dr::analyzers::PdqOptions;
using dr::testing::pdq_data_dir;

namespace {

class PdqBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("darkroom_pdq_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    return p;
  }

  // Hashing must end in a hash that is not all zero, or in an image::Error that names the file.
  std::string expect_error(const std::string& path, bool exact = false) {
    PdqOptions o;
    o.exact = exact;
    try {
      auto h = pdq_hash_file(path, o, hasher_);
      ADD_FAILURE() << path << " hashed to " << h.result.hash.hex() << " instead of failing";
    } catch (const dr::image::Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      return e.what();
    }
    return "";
  }
  dr::pdq::Result expect_hash(const std::string& path, bool exact = false) {
    PdqOptions o;
    o.exact = exact;
    auto h = pdq_hash_file(path, o, hasher_);
    EXPECT_FALSE(h.result.hash.is_zero()) << path;
    return h.result;
  }

  fs::path dir_;
  dr::pdq::Hasher hasher_;
};

std::vector<uint8_t> file_bytes(const std::string& p) { return dr::image::read_file(p); }

void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(uint8_t(x >> s));
}

void chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
  put32(png, uint32_t(data.size()));
  const size_t start = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), data.begin(), data.end());
  put32(png, uint32_t(crc32(0, png.data() + start, uInt(png.size() - start))));
}

// A PNG whose rows come from row(y, buffer) (filter byte excluded), deflated as they are produced so a huge image
// never sits in memory.
template <class RowFn>
std::vector<uint8_t> make_png(uint32_t w, uint32_t h, int bit_depth, int colour_type, size_t row_bytes, RowFn row) {
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<uint8_t> ihdr;
  put32(ihdr, w);
  put32(ihdr, h);
  ihdr.insert(ihdr.end(), {uint8_t(bit_depth), uint8_t(colour_type), 0, 0, 0});
  chunk(png, "IHDR", ihdr);
  if (colour_type == 3) chunk(png, "PLTE", {0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255});
  z_stream z{};
  deflateInit(&z, 9);
  std::vector<uint8_t> idat, in(row_bytes + 1), out(1 << 16);
  for (uint32_t y = 0; y < h; y++) {
    in[0] = 0;
    row(y, in.data() + 1);
    z.next_in = in.data();
    z.avail_in = uInt(in.size());
    const int flush = y + 1 == h ? Z_FINISH : Z_NO_FLUSH;
    int ret;
    do {
      z.next_out = out.data();
      z.avail_out = uInt(out.size());
      ret = deflate(&z, flush);
      idat.insert(idat.end(), out.data(), out.data() + (out.size() - z.avail_out));
    } while (z.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
  }
  deflateEnd(&z);
  chunk(png, "IDAT", idat);
  chunk(png, "IEND", {});
  return png;
}

}  // namespace

TEST_F(PdqBadInput, EmptyFile) {
  auto p = write("empty.jpg", {});
  EXPECT_NE(expect_error(p).find("empty"), std::string::npos);
  EXPECT_NE(expect_error(p, true).find("empty"), std::string::npos);
}

TEST_F(PdqBadInput, MissingFile) {
  EXPECT_NE(expect_error((dir_ / "nope.jpg").string()).find("cannot open"), std::string::npos);
}

TEST_F(PdqBadInput, TruncatedJpeg) {
  auto bytes = file_bytes(pdq_data_dir() + "reg-test-input/dih/bridge-1-original.jpg");
  bytes.resize(bytes.size() / 2);
  auto p = write("truncated.jpg", bytes);
  EXPECT_NE(expect_error(p).find("truncated"), std::string::npos);
  EXPECT_NE(expect_error(p, true).find("truncated"), std::string::npos);
  // Cut inside the header: no image at all.
  bytes.resize(300);
  auto p2 = write("header-only.jpg", bytes);
  expect_error(p2);
}

TEST_F(PdqBadInput, RandomBytesAndText) {
  std::mt19937 rng(7);
  std::vector<uint8_t> noise(5000);
  for (auto& b : noise) b = uint8_t(rng());
  expect_error(write("noise.jpg", noise));
  const std::string text = "this is not a photo\n";
  expect_error(write("text.jpg", std::vector<uint8_t>(text.begin(), text.end())));
  // A JPEG signature followed by noise.
  noise[0] = 0xFF, noise[1] = 0xD8, noise[2] = 0xFF;
  expect_error(write("soi-noise.jpg", noise));
}

TEST_F(PdqBadInput, CorruptedJpegBodyHashesOrFailsCleanly) {
  auto bytes = file_bytes(pdq_data_dir() + "reg-test-input/labelme-subset/q1050.jpg");
  std::mt19937 rng(11);
  for (int trial = 0; trial < 20; trial++) {
    auto b = bytes;
    for (int k = 0; k < 30; k++) b[600 + rng() % (b.size() - 600)] = uint8_t(rng());
    auto p = write("corrupt" + std::to_string(trial) + ".jpg", b);
    PdqOptions o;
    try {
      auto h = pdq_hash_file(p, o, hasher_);
      EXPECT_FALSE(h.result.hash.is_zero());
    } catch (const dr::image::Error& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
    }
  }
}

TEST_F(PdqBadInput, PixelBombRefusedBeforeDecoding) {
  // 30000 x 30000 1-bit greyscale: ~110 KB on disk, 900 Mpixels (2.7 GB as RGB).
  auto png = make_png(30000, 30000, 1, 0, 3750, [](uint32_t, uint8_t* r) { std::fill(r, r + 3750, 0); });
  EXPECT_LT(png.size(), 1u << 20);
  auto p = write("bomb.png", png);
  EXPECT_NE(expect_error(p).find("limit"), std::string::npos);
  EXPECT_NE(expect_error(p, true).find("limit"), std::string::npos);
}

TEST_F(PdqBadInput, JpegPixelLimitFromHeader) {
  PdqOptions o;
  o.limits.max_pixels = 1000;  // the 1600x1004 bridge is far above
  const std::string p = pdq_data_dir() + "reg-test-input/dih/bridge-1-original.jpg";
  try {
    pdq_hash_file(p, o, hasher_);
    ADD_FAILURE() << "no limit error";
  } catch (const dr::image::Error& e) {
    EXPECT_NE(std::string(e.what()).find("limit"), std::string::npos) << e.what();
  }
}

TEST_F(PdqBadInput, OnePixelIsTooSmall) {
  auto png = make_png(1, 1, 8, 2, 3, [](uint32_t, uint8_t* r) { r[0] = 200, r[1] = 10, r[2] = 10; });
  EXPECT_NE(expect_error(write("one.png", png)).find("too small"), std::string::npos);
}

TEST_F(PdqBadInput, SixteenBitGreyscalePngHashesLikeEightBit) {
  // The same gradient at 16 and 8 bits per sample must hash the same (within rounding).
  const uint32_t w = 300, h = 200;
  auto value = [](uint32_t x, uint32_t y) { return uint8_t((x * 255 / 299 + (y / 20) * 37) % 256); };
  auto png16 = make_png(w, h, 16, 0, w * 2, [&](uint32_t y, uint8_t* r) {
    for (uint32_t x = 0; x < w; x++) r[2 * x] = r[2 * x + 1] = value(x, y);
  });
  auto png8 = make_png(w, h, 8, 0, w, [&](uint32_t y, uint8_t* r) {
    for (uint32_t x = 0; x < w; x++) r[x] = value(x, y);
  });
  auto a = expect_hash(write("g16.png", png16));
  auto b = expect_hash(write("g8.png", png8));
  EXPECT_LE(a.hash.distance(b.hash), 4);
}

TEST_F(PdqBadInput, PalettePngHashes) {
  auto png = make_png(120, 90, 8, 3, 120, [](uint32_t y, uint8_t* r) {
    for (uint32_t x = 0; x < 120; x++) r[x] = uint8_t(((x / 10) + (y / 15)) % 4);
  });
  auto res = expect_hash(write("palette.png", png));
  EXPECT_GT(res.quality, 0);
}

TEST_F(PdqBadInput, PixelModesOfTheSamePhotoAgree) {
  // Greyscale, greyscale+alpha, palette, RGBA, CMYK JPEG, 1-bit: all the same photo as original.jpg.
  auto base = expect_hash(pdq_data_dir() + "misc-images/modes/original.jpg");
  for (const char* m : {"L.png", "LA.png", "P.png", "RGBA.png", "CMYK.jpg", "YCbCr.jpg", "RGB.jpg"}) {
    auto r = expect_hash(pdq_data_dir() + "misc-images/modes/" + m);
    EXPECT_LE(r.hash.distance(base.hash), 10) << m;
  }
  auto one_bit = expect_hash(pdq_data_dir() + "misc-images/modes/1.png");
  EXPECT_LE(one_bit.hash.distance(base.hash), 31);  // dithered: a match, if not a close one
}
