// The hash core on its own: the bit layout and hex form, the median rule, the dihedral transforms, the input
// helpers. The comparisons with the reference's printed hashes are in pdq_reference_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "pdq/pdq.h"

using dr::pdq::Dct16;
using dr::pdq::Dihedral;
using dr::pdq::Hash256;

namespace {

Hash256 random_hash(std::mt19937_64& rng) { return Hash256::from_u64({rng(), rng(), rng(), rng()}); }

// A smooth test picture with structure in both directions, so the DCT has signal everywhere.
std::vector<float> picture(int w, int h) {
  std::vector<float> v(size_t(w) * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      v[size_t(y) * w + x] =
          float(128 + 60 * std::sin(x * 0.05 + y * 0.013) + 50 * std::cos(y * 0.07 - x * 0.002) + (x * 3 + y * 7) % 17);
  return v;
}

std::vector<float> transformed(const std::vector<float>& a, int w, int h, Dihedral d, int* ow, int* oh) {
  const bool swap =
      d == Dihedral::rot90 || d == Dihedral::rot270 || d == Dihedral::flip_plus1 || d == Dihedral::flip_minus1;
  *ow = swap ? h : w;
  *oh = swap ? w : h;
  std::vector<float> out(a.size());
  for (int y = 0; y < *oh; y++) {
    for (int x = 0; x < *ow; x++) {
      int sy = y, sx = x;
      switch (d) {
        case Dihedral::original:
          break;
        case Dihedral::rot90:
          sy = x;
          sx = w - 1 - y;
          break;  // turned counter-clockwise
        case Dihedral::rot180:
          sy = h - 1 - y;
          sx = w - 1 - x;
          break;
        case Dihedral::rot270:
          sy = h - 1 - x;
          sx = y;
          break;  // turned clockwise
        case Dihedral::flip_x:
          sy = h - 1 - y;
          break;  // top-bottom
        case Dihedral::flip_y:
          sx = w - 1 - x;
          break;  // left-right
        case Dihedral::flip_plus1:
          sy = x;
          sx = y;
          break;  // transpose
        case Dihedral::flip_minus1:
          sy = h - 1 - x;
          sx = w - 1 - y;
          break;
      }
      out[size_t(y) * *ow + x] = a[size_t(sy) * w + sx];
    }
  }
  return out;
}

}  // namespace

TEST(PdqHash256, HexLayoutMatchesTheReference) {
  Hash256 h;
  h.set_bit(0);  // word 0, bit 0: the last hex digit
  EXPECT_EQ(h.hex(), std::string(63, '0') + "1");
  Hash256 top;
  top.set_bit(255);  // word 15, bit 15: the first hex digit
  EXPECT_EQ(top.hex(), "8" + std::string(63, '0'));
  Hash256 mid;
  mid.set_bit(16 * 3 + 4);  // word 3, bit 4
  EXPECT_EQ(mid.w[3], 16);
  EXPECT_EQ(mid.hex().substr(64 - 16, 4), "0010");
}

TEST(PdqHash256, HexRoundTripsAndRejectsBadInput) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100; i++) {
    Hash256 h = random_hash(rng);
    auto back = Hash256::from_hex(h.hex());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, h);
  }
  const std::string ref = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
  EXPECT_EQ(Hash256::from_hex(ref)->hex(), ref);
  std::string upper = ref;
  for (char& c : upper) c = char(std::toupper(c));
  EXPECT_EQ(*Hash256::from_hex(upper), *Hash256::from_hex(ref));
  EXPECT_FALSE(Hash256::from_hex(ref.substr(1)));
  EXPECT_FALSE(Hash256::from_hex(ref + "0"));
  EXPECT_FALSE(Hash256::from_hex(ref.substr(0, 63) + "g"));
  EXPECT_FALSE(Hash256::from_hex(""));
}

TEST(PdqHash256, DistanceIsPopcountOfXor) {
  std::mt19937_64 rng(2);
  for (int i = 0; i < 50; i++) {
    Hash256 a = random_hash(rng), b = random_hash(rng);
    int slow = 0;
    for (int k = 0; k < 256; k++) slow += a.bit(k) != b.bit(k);
    EXPECT_EQ(a.distance(b), slow);
    EXPECT_EQ(a.distance(a), 0);
    EXPECT_EQ(Hash256::from_u64(a.to_u64()), a);
  }
  Hash256 z;
  EXPECT_TRUE(z.is_zero());
  EXPECT_EQ(z.popcount(), 0);
  z.set_bit(77);
  EXPECT_FALSE(z.is_zero());
  EXPECT_EQ(z.popcount(), 1);
}

TEST(PdqThreshold, BitsAreAboveTheLowerMedian) {
  Dct16 c;
  for (int k = 0; k < 256; k++) c[size_t(k)] = float((k * 37) % 256);  // a permutation of 0..255
  Hash256 h = dr::pdq::threshold(c);
  EXPECT_EQ(h.popcount(), 128);  // median is 127: 128..255 are above
  for (int k = 0; k < 256; k++) EXPECT_EQ(h.bit(k), c[size_t(k)] > 127.0f) << k;
  // Ties at the median are not above it.
  Dct16 flat;
  flat.fill(1.0f);
  EXPECT_TRUE(dr::pdq::threshold(flat).is_zero());
}

TEST(PdqQuality, CountsQuantisedGradients) {
  std::vector<float> flat(64 * 64, 100.0f);
  EXPECT_EQ(dr::pdq::quality_64(flat.data()), 0);
  // Vertical stripes of 0/255: every horizontal neighbour pair differs by 255 -> |int(100)| each.
  std::vector<float> stripes(64 * 64);
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 64; j++) stripes[size_t(i * 64 + j)] = (j & 1) ? 255.0f : 0.0f;
  EXPECT_EQ(dr::pdq::quality_64(stripes.data()), 100);  // 64 * 63 * 100 / 90 capped
  // One step of 5 levels per column: int(5 * 100 / 255) = 1 per pair, 63 * 64 pairs -> 4032 / 90 = 44.
  std::vector<float> ramp(64 * 64);
  for (int i = 0; i < 64; i++)
    for (int j = 0; j < 64; j++) ramp[size_t(i * 64 + j)] = float(5 * j);
  EXPECT_EQ(dr::pdq::quality_64(ramp.data()), 44);
}

TEST(PdqDihedral, CoefficientTransformsEqualHashingTheTransformedPicture) {
  // On a 64x64 picture there is no blur or sampling, so transforming the coefficients must be exactly the DCT of
  // the transformed picture: this pins down which variant is which rotation.
  const int n = 64;
  std::vector<float> pic = picture(n, n);
  dr::pdq::Hasher hs;
  std::vector<float> copy = pic;
  auto base = hs.hash_luma(copy.data(), n, n, true);
  ASSERT_EQ(base.dihedral[0], base.hash);
  for (int k = 0; k < dr::pdq::kNumDihedral; k++) {
    int w, h;
    std::vector<float> t = transformed(pic, n, n, Dihedral(k), &w, &h);
    auto r = hs.hash_luma(t.data(), w, h, false);
    EXPECT_EQ(r.hash, base.dihedral[size_t(k)]) << dr::pdq::dihedral_name(Dihedral(k));
    EXPECT_EQ(r.quality, base.quality);
  }
  // And `view` gives the hash of the picture seen through that transform.
  for (int k = 0; k < dr::pdq::kNumDihedral; k++) {
    std::vector<float> c2 = pic;
    EXPECT_EQ(hs.hash_luma(c2.data(), n, n, false, Dihedral(k)).hash, base.dihedral[size_t(k)]);
  }
}

TEST(PdqDihedral, VariantsAreDistinctOnARealPicture) {
  std::vector<float> pic = picture(300, 200);
  dr::pdq::Hasher hs;
  auto r = hs.hash_luma(pic.data(), 300, 200, true);
  for (int a = 0; a < 8; a++)
    for (int b = a + 1; b < 8; b++) EXPECT_GT(r.dihedral[size_t(a)].distance(r.dihedral[size_t(b)]), 20);
}

TEST(PdqDihedral, HashLevelTransformsFormTheGroupAndPreserveDistance) {
  std::mt19937_64 rng(3);
  Hash256 a = random_hash(rng), b = random_hash(rng);
  for (int k = 0; k < 8; k++) {
    auto d = Dihedral(k);
    EXPECT_EQ(dr::pdq::transform_hash(a, d).distance(dr::pdq::transform_hash(b, d)), a.distance(b));
    // Every variant has its inverse among the 8.
    bool has_inverse = false;
    for (int m = 0; m < 8; m++) has_inverse |= dr::pdq::transform_hash(dr::pdq::transform_hash(a, d), Dihedral(m)) == a;
    EXPECT_TRUE(has_inverse) << dr::pdq::dihedral_name(d);
  }
  EXPECT_EQ(dr::pdq::transform_hash(a, Dihedral::original), a);
  // rot90 four times is the identity; rot90 twice is rot180.
  Hash256 r = a;
  for (int i = 0; i < 2; i++) r = dr::pdq::transform_hash(r, Dihedral::rot90);
  EXPECT_EQ(r, dr::pdq::transform_hash(a, Dihedral::rot180));
  for (int i = 0; i < 2; i++) r = dr::pdq::transform_hash(r, Dihedral::rot90);
  EXPECT_EQ(r, a);
}

TEST(PdqDihedral, OrientationMapsToTheDisplayingTransform) {
  EXPECT_EQ(dr::pdq::dihedral_for_orientation(1), Dihedral::original);
  EXPECT_EQ(dr::pdq::dihedral_for_orientation(3), Dihedral::rot180);
  EXPECT_EQ(dr::pdq::dihedral_for_orientation(6), Dihedral::rot270);  // shown turned clockwise
  EXPECT_EQ(dr::pdq::dihedral_for_orientation(8), Dihedral::rot90);
  EXPECT_EQ(dr::pdq::dihedral_for_orientation(2), Dihedral::flip_y);
  EXPECT_EQ(dr::pdq::dihedral_for_orientation(5), Dihedral::flip_plus1);
  EXPECT_EQ(dr::pdq::dihedral_for_orientation(0), Dihedral::original);
  EXPECT_EQ(dr::pdq::dihedral_for_orientation(9), Dihedral::original);
}

TEST(PdqInput, NearestResizeSamplesFloorOfScaledCoordinate) {
  // 1000x3 single-channel ramp to 512x2: x -> floor(x * 1000 / 512), y -> floor(y * 3 / 2).
  std::vector<uint8_t> px(1000 * 3);
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 1000; x++) px[size_t(y * 1000 + x)] = uint8_t((x + 100 * y) % 256);
  auto out = dr::pdq::resize_nearest(px.data(), 1000, 3, 1, 512, 2);
  ASSERT_EQ(out.size(), 1024u);
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 512; x++) EXPECT_EQ(out[size_t(y * 512 + x)], px[size_t((y * 3 / 2) * 1000 + x * 1000 / 512)]);
}

TEST(PdqInput, LumaAndNearestPositions) {
  const uint8_t rgb[6] = {255, 0, 0, 10, 20, 30};
  float l[2];
  dr::pdq::luma_from_rgb(rgb, 2, 1, 6, l);
  EXPECT_FLOAT_EQ(l[0], 0.299f * 255);
  EXPECT_FLOAT_EQ(l[1], 0.299f * 10 + 0.587f * 20 + 0.114f * 30);
  // floor(k * side / out): shrinking skips, enlarging repeats, and the products do not overflow int.
  EXPECT_EQ(dr::pdq::nearest_positions(10, 4), (std::vector<int>{0, 2, 5, 7}));
  EXPECT_EQ(dr::pdq::nearest_positions(3, 6), (std::vector<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_EQ(dr::pdq::nearest_positions(100'000, 512).back(), 99'804);
}

TEST(PdqHasher, TinyImagesGetNoHash) {
  dr::pdq::Hasher hs;
  std::vector<float> px(4 * 100, 50.0f);
  auto r = hs.hash_luma(px.data(), 4, 100);
  EXPECT_TRUE(r.hash.is_zero());
  EXPECT_EQ(r.quality, 0);
}
