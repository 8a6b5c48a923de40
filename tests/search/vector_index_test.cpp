#include "search/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/index_io.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "support/cli.h"

namespace dr::search {
namespace {

std::vector<float> random_unit(size_t n, int d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> v(n * size_t(d));
  for (size_t i = 0; i < n; ++i) {
    double s = 0;
    for (int k = 0; k < d; ++k) s += double(v[i * d + k] = g(rng)) * v[i * d + k];
    for (int k = 0; k < d; ++k) v[i * d + k] = float(v[i * d + k] / std::sqrt(s));
  }
  return v;
}

TEST(VectorIndex, ExactRanksByCosine) {
  // Three 2-d unit vectors at 0, 60 and 120 degrees; ids are the caller's.
  std::vector<float> v = {1, 0, 0.5f, std::sqrt(3.f) / 2, -0.5f, std::sqrt(3.f) / 2};
  VectorIndex idx(2, {10, 20, 30}, v);
  EXPECT_TRUE(idx.exact());
  auto hits = idx.search({1, 0}, 5);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, 10);
  EXPECT_NEAR(hits[0].score, 1.f, 1e-6);
  EXPECT_EQ(hits[1].id, 20);
  EXPECT_NEAR(hits[1].score, 0.5f, 1e-6);
  EXPECT_EQ(hits[2].id, 30);
  EXPECT_NEAR(hits[2].score, -0.5f, 1e-6);
  EXPECT_THROW(idx.search({1, 0, 0}, 1), std::invalid_argument);
  EXPECT_THROW(VectorIndex(2, {1}, {1, 0, 0}), std::invalid_argument);
  EXPECT_TRUE(VectorIndex(4, {}, {}).search({1, 0, 0, 0}, 3).empty());
}

TEST(VectorIndex, HnswAgreesWithExactOnMostNeighbours) {
  const int d = 32;
  const size_t n = 3000;
  auto v = random_unit(n, d, 7);
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = int64_t(i) + 1000;
  VectorIndex exact(d, ids, v, {.kind = VectorIndexOptions::Exact});
  VectorIndex hnsw(d, ids, v, {.kind = VectorIndexOptions::Hnsw});
  EXPECT_FALSE(hnsw.exact());
  auto queries = random_unit(50, d, 8);
  size_t found = 0, total = 0;
  for (size_t q = 0; q < 50; ++q) {
    std::vector<float> query(queries.begin() + q * d, queries.begin() + (q + 1) * d);
    std::set<int64_t> truth;
    for (auto& h : exact.search(query, 10)) truth.insert(h.id);
    for (auto& h : hnsw.search(query, 10)) found += truth.count(h.id);
    total += 10;
  }
  EXPECT_GE(double(found) / total, 0.9);
  // A stored vector finds itself first.
  std::vector<float> self(v.begin() + 5 * d, v.begin() + 6 * d);
  EXPECT_EQ(hnsw.search(self, 1).at(0).id, 1005);
}

// recall@10 of `index` against exact search, over 50 random queries.
double recall_at_10(const VectorIndex& exact, const VectorIndex& index, int d) {
  auto queries = random_unit(50, d, 8);
  size_t found = 0;
  for (size_t q = 0; q < 50; ++q) {
    std::vector<float> query(queries.begin() + q * d, queries.begin() + (q + 1) * d);
    std::set<int64_t> truth;
    for (auto& h : exact.search(query, 10)) truth.insert(h.id);
    for (auto& h : index.search(query, 10)) found += truth.count(h.id);
  }
  return double(found) / 500;
}

TEST(VectorIndex, LargerEfSearchRaisesRecall) {
  const int d = 64;
  const size_t n = 4000;
  auto v = random_unit(n, d, 11);
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = int64_t(i);
  VectorIndex exact(d, ids, v, {.kind = VectorIndexOptions::Exact});
  // A sparse graph, so that a small efSearch visibly misses neighbours.
  VectorIndex hnsw(d, ids, v, {.kind = VectorIndexOptions::Hnsw, .hnsw_m = 8, .ef_construction = 40, .ef_search = 10});
  const double low = recall_at_10(exact, hnsw, d);
  hnsw.set_ef_search(500);
  EXPECT_EQ(hnsw.ef_search(), 500);
  const double high = recall_at_10(exact, hnsw, d);
  EXPECT_LT(low, 0.95);
  EXPECT_GT(high, low + 0.05);
  EXPECT_GE(high, 0.97) << "efSearch 10: " << low;
  EXPECT_NE(hnsw.describe().find("efSearch 500"), std::string::npos) << hnsw.describe();
  EXPECT_THROW(hnsw.set_ef_search(0), std::invalid_argument);
  exact.set_ef_search(5);  // nothing to tune on an exact index, and no harm
  EXPECT_EQ(recall_at_10(exact, exact, d), 1.0);
}

TEST(VectorIndex, SavedIndexesLoadBackForTheSameVectors) {
  test::TempDir tmp;
  const int d = 16;
  auto v = random_unit(500, d, 5);
  std::vector<int64_t> ids(500);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int64_t(i) * 3 + 7;
  auto queries = random_unit(5, d, 6);
  for (auto kind : {VectorIndexOptions::Exact, VectorIndexOptions::Hnsw}) {
    VectorIndex built(d, ids, v, {.kind = kind});
    const std::string path = tmp.path() + "/index.faiss";
    built.save(path);
    VectorIndex loaded = VectorIndex::load(path, d, ids, {.ef_search = 99});
    EXPECT_EQ(loaded.exact(), kind == VectorIndexOptions::Exact);
    if (!loaded.exact()) {
      EXPECT_EQ(loaded.ef_search(), 99);
    }
    built.set_ef_search(99);
    for (size_t q = 0; q < 5; ++q) {
      std::vector<float> query(queries.begin() + q * d, queries.begin() + (q + 1) * d);
      auto a = built.search(query, 10), b = loaded.search(query, 10);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].id, b[i].id);
        EXPECT_FLOAT_EQ(a[i].score, b[i].score);
      }
    }
    std::vector<int64_t> fewer(ids.begin(), ids.end() - 1);
    EXPECT_THROW(VectorIndex::load(path, d, fewer), std::runtime_error);
    EXPECT_THROW(VectorIndex::load(path, d + 1, ids), std::runtime_error);
  }
  EXPECT_THROW(VectorIndex::load(tmp.path() + "/missing.faiss", d, ids), std::runtime_error);
  {  // an L2 index: its scores are distances, not cosines
    faiss::IndexFlatL2 l2(d);
    l2.add(faiss::Index::idx_t(ids.size()), v.data());
    faiss::write_index(&l2, (tmp.path() + "/l2.faiss").c_str());
    EXPECT_THROW(VectorIndex::load(tmp.path() + "/l2.faiss", d, ids), std::runtime_error);
  }
  test::write_file(tmp.path() + "/junk.faiss", "not an index");
  EXPECT_THROW(VectorIndex::load(tmp.path() + "/junk.faiss", d, ids), std::runtime_error);
}

TEST(VectorIndex, AutoSwitchesToHnswForLargeCollections) {
  auto v = random_unit(100, 8, 1);
  std::vector<int64_t> ids(100);
  EXPECT_TRUE(VectorIndex(8, ids, v).exact());
  EXPECT_FALSE(VectorIndex(8, ids, v, {.hnsw_from = 50}).exact());
}

}  // namespace
}  // namespace dr::search
