// The near-duplicate index must return exactly what comparing every pair returns.
#include "search/near_duplicates.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "analyzers/pdq/pdq_hasher.h"
#include "pdq/pdq_test_util.h"

using dr::pdq::Dihedral;
using dr::pdq::Hash256;
using dr::search::DupeOptions;
using dr::search::HashEntry;
using dr::search::HashIndex;

namespace {

Hash256 random_hash(std::mt19937_64& rng) { return Hash256::from_u64({rng(), rng(), rng(), rng()}); }

Hash256 flip_bits(Hash256 h, int n, std::mt19937_64& rng) {
  std::vector<int> bits(256);
  for (int i = 0; i < 256; i++) bits[size_t(i)] = i;
  std::shuffle(bits.begin(), bits.end(), rng);
  for (int i = 0; i < n; i++) h.w[size_t(bits[size_t(i)] >> 4)] ^= uint16_t(1u << (bits[size_t(i)] & 15));
  return h;
}

// Random hashes plus planted copies: some within the radius, some just outside, some rotated or mirrored (a
// dihedral variant of the original, then noise).
std::vector<HashEntry> planted(size_t n_random, size_t n_planted, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<HashEntry> e;
  int64_t id = 1000;
  for (size_t i = 0; i < n_random; i++) e.push_back({id++, random_hash(rng), int(rng() % 101)});
  for (size_t i = 0; i < n_planted; i++) {
    const HashEntry& base = e[rng() % n_random];
    const int noise = int(rng() % 40);  // 0..39: straddles 31
    const auto d = Dihedral(rng() % 8);
    Hash256 h = flip_bits(dr::pdq::transform_hash(base.hash, d), noise, rng);
    e.push_back({id++, h, 50 + int(rng() % 51)});
  }
  std::shuffle(e.begin(), e.end(), rng);
  return e;
}

}  // namespace

TEST(HashIndex, RangeSearchEqualsScanningAtEveryRadius) {
  std::mt19937_64 rng(5);
  std::vector<Hash256> hs;
  for (int i = 0; i < 20000; i++) hs.push_back(random_hash(rng));
  // Clusters so that small radii have answers.
  for (int i = 0; i < 2000; i++) hs.push_back(flip_bits(hs[size_t(i)], int(rng() % 60), rng));
  HashIndex index(hs);
  EXPECT_EQ(index.size(), hs.size());
  EXPECT_GT(index.memory_bytes(), hs.size() * 32);
  for (int radius : {0, 1, 15, 16, 31, 32, 47, 48, 70}) {
    size_t total = 0;
    for (int q = 0; q < 300; q++) {
      Hash256 query = q % 2 ? flip_bits(hs[size_t(rng() % hs.size())], int(rng() % 50), rng) : random_hash(rng);
      std::vector<std::pair<uint32_t, int>> a, b;
      index.range_search(query, radius, a);
      index.range_search_brute(query, radius, b);
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      ASSERT_EQ(a, b) << "radius " << radius << " query " << q;  // also: no position reported twice
      total += a.size();
    }
    if (radius >= 15) {
      EXPECT_GT(total, 0u) << radius;
    }
  }
}

TEST(NearDuplicates, IndexPairsEqualBruteForceWithPlantedDuplicates) {
  auto entries = planted(4000, 600, 9);
  for (bool dihedral : {true, false}) {
    for (int radius : {10, 31, 40}) {
      DupeOptions o;
      o.dihedral = dihedral;
      o.max_distance = radius;
      size_t skipped = 0;
      auto fast = dr::search::find_duplicate_pairs(entries, o, &skipped, 2);
      auto slow = dr::search::brute_force_pairs(entries, o);
      EXPECT_EQ(fast, slow) << "dihedral " << dihedral << " radius " << radius;
      EXPECT_GT(slow.size(), 5u);
      size_t low = std::count_if(entries.begin(), entries.end(), [](const HashEntry& e) { return e.quality < 50; });
      EXPECT_EQ(skipped, low);
    }
  }
}

TEST(NearDuplicates, RotatedAndMirroredCopiesNeedTheDihedralCheck) {
  std::mt19937_64 rng(3);
  Hash256 base = random_hash(rng);
  std::vector<HashEntry> e = {{1, base, 100}};
  for (int k = 1; k < 8; k++)
    e.push_back({int64_t(k + 1), flip_bits(dr::pdq::transform_hash(base, Dihedral(k)), 5, rng), 100});
  for (int i = 0; i < 50; i++) e.push_back({100 + i, random_hash(rng), 100});
  auto with = dr::search::find_duplicate_groups(e, {});
  ASSERT_EQ(with.groups.size(), 1u);
  EXPECT_EQ(with.groups[0].ids, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_LE(with.groups[0].max_distance, 10);
  DupeOptions plain;
  plain.dihedral = false;
  EXPECT_TRUE(dr::search::find_duplicate_groups(e, plain).groups.empty());
}

TEST(NearDuplicates, GroupsAreConnectedComponents) {
  std::mt19937_64 rng(4);
  Hash256 a = random_hash(rng);
  Hash256 b = flip_bits(a, 25, rng);
  Hash256 c = flip_bits(b, 25, rng);  // c is within 31 of b, likely not of a
  Hash256 x = random_hash(rng), y = flip_bits(x, 3, rng);
  std::vector<HashEntry> e = {{30, c, 90}, {10, a, 90}, {20, b, 90}, {7, y, 90}, {5, x, 90}, {99, random_hash(rng), 90},
                              {50, a, 10}};  // a copy of a too poor to match
  DupeOptions o;
  o.dihedral = false;
  auto r = dr::search::find_duplicate_groups(e, o);
  EXPECT_EQ(r.skipped_low_quality, 1u);
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].ids, (std::vector<int64_t>{5, 7}));
  EXPECT_EQ(r.groups[0].max_distance, 3);
  EXPECT_EQ(r.groups[1].ids, (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(r.groups[1].max_distance, 25);
  o.min_quality = 0;
  auto all = dr::search::find_duplicate_groups(e, o);
  EXPECT_EQ(all.skipped_low_quality, 0u);
  EXPECT_EQ(all.groups[1].ids, (std::vector<int64_t>{10, 20, 30, 50}));
  o.max_distance = 2;  // only the exact copy of a is left
  auto tight = dr::search::find_duplicate_groups(e, o);
  ASSERT_EQ(tight.groups.size(), 1u);
  EXPECT_EQ(tight.groups[0].ids, (std::vector<int64_t>{10, 50}));
  EXPECT_EQ(tight.groups[0].max_distance, 0);
}

TEST(NearDuplicates, SharedPhotosIndexEqualsBruteForce) {
  namespace fs = std::filesystem;
  std::vector<HashEntry> entries;
  std::vector<std::string> names;
  dr::pdq::Hasher hasher;
  dr::analyzers::PdqOptions po;
  for (const auto& f : fs::recursive_directory_iterator(dr::testing::pdq_data_dir())) {
    const std::string p = f.path().string();
    if (!f.is_regular_file() || !(dr::testing::ends_with(p, ".jpg") || dr::testing::ends_with(p, ".png"))) continue;
    auto h = dr::analyzers::pdq_hash_file(p, po, hasher);
    entries.push_back({int64_t(entries.size()), h.result.hash, h.result.quality});
    names.push_back(f.path().filename().string());
  }
  ASSERT_GT(entries.size(), 40u);
  DupeOptions o;
  auto pairs = dr::search::find_duplicate_pairs(entries, o);
  EXPECT_EQ(pairs, dr::search::brute_force_pairs(entries, o));
  // The 8 rotations and flips of the bridge land in one group; the four phone photos are not in it.
  auto groups = dr::search::find_duplicate_groups(entries, o);
  auto id_of = [&](const std::string& n) { return int64_t(std::find(names.begin(), names.end(), n) - names.begin()); };
  const dr::search::DupeGroup* bridge = nullptr;
  for (const auto& g : groups.groups)
    if (std::count(g.ids.begin(), g.ids.end(), id_of("bridge-1-original.jpg"))) bridge = &g;
  ASSERT_NE(bridge, nullptr);
  for (const char* n : {"bridge-2-rotate-90.jpg", "bridge-3-rotate-180.jpg", "bridge-4-rotate-270.jpg",
                        "bridge-5-flipx.jpg", "bridge-6-flipy.jpg", "bridge-7-flip-plus-1.jpg",
                        "bridge-8-flip-minus-1.jpg", "aaa-orig.jpg", "blur-a-lot.jpg"})
    EXPECT_EQ(std::count(bridge->ids.begin(), bridge->ids.end(), id_of(n)), 1) << n;
  EXPECT_EQ(std::count(bridge->ids.begin(), bridge->ids.end(), id_of("exif-rotn-1.jpg")), 0);
  EXPECT_GT(groups.skipped_low_quality, 0u);  // q0003, q0004 and small.jpg
}
