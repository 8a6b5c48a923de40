// Near-duplicate search over 1,000,000 PDQ hashes with planted near-duplicates (rotated/mirrored copies with up to
// 31 flipped bits), radius 31 with the 8 dihedral variants per query: our multi-index hashing (HashIndex), a
// one-pass brute force, and FAISS IndexBinaryMultiHash (16 tables of 16 bits, nflip 1) beside them.
//   build/bench/near_duplicates_bench --benchmark_min_time=2
// Figures in BENCHMARKS.md, section PDQ.
#include <benchmark/benchmark.h>
#include <faiss/IndexBinaryHash.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <sys/resource.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>

#include "search/near_duplicates.h"

using dr::pdq::Hash256;

namespace {

constexpr size_t kN = 1'000'000;
constexpr int kRadius = 31;

struct Data {
  std::vector<Hash256> hashes;
  std::vector<Hash256> queries;  // 1000 of the stored hashes, a third of them planted copies' originals
  Data() {
    std::mt19937_64 rng(42);
    const size_t planted = kN / 10;
    for (size_t i = 0; i < kN - planted; i++) hashes.push_back(Hash256::from_u64({rng(), rng(), rng(), rng()}));
    for (size_t i = 0; i < planted; i++) {
      Hash256 h = dr::pdq::transform_hash(hashes[rng() % (kN - planted)], dr::pdq::Dihedral(rng() % 8));
      const int flips = int(rng() % 32);
      for (int f = 0; f < flips; f++) {
        const int b = int(rng() % 256);
        h.w[size_t(b >> 4)] ^= uint16_t(1u << (b & 15));
      }
      hashes.push_back(h);
    }
    for (int q = 0; q < 1000; q++) queries.push_back(hashes[rng() % kN]);
  }
};

const Data& data() {
  static const Data d;
  return d;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

const dr::search::HashIndex& mih() {
  static const dr::search::HashIndex index(data().hashes);
  return index;
}

void BM_MihBuild(benchmark::State& st) {
  for (auto _ : st) {
    dr::search::HashIndex index(data().hashes);
    st.counters["index_MB"] = double(index.memory_bytes()) / 1e6;
  }
  st.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(BM_MihBuild)->Iterations(3)->Unit(benchmark::kMillisecond);

// Exactness on the benchmark's own data: positions found by the index and by scanning, for the first 200 queries.
size_t mih_mismatches() {
  size_t bad = 0;
  std::vector<std::pair<uint32_t, int>> a, b;
  for (size_t q = 0; q < 200; q++) {
    for (const auto& v : dr::search::query_variants(data().queries[q], true)) {
      a.clear();
      b.clear();
      mih().range_search(v, kRadius, a);
      mih().range_search_brute(v, kRadius, b);
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      bad += a != b;
    }
  }
  return bad;
}

void BM_MihQueryDihedral(benchmark::State& st) {
  const auto& index = mih();
  st.counters["mismatches_vs_scan"] = double(mih_mismatches());
  std::vector<std::pair<uint32_t, int>> hits;
  size_t q = 0, found = 0, n = 0;
  for (auto _ : st) {
    hits.clear();
    for (const auto& v : dr::search::query_variants(data().queries[q++ % 1000], true))
      index.range_search(v, kRadius, hits);
    found += hits.size();
    n++;
  }
  st.counters["hits_per_query"] = double(found) / double(n);
}
BENCHMARK(BM_MihQueryDihedral)->Unit(benchmark::kMicrosecond);

// The baseline: one pass over all codes, the 8 variants compared per code.
void BM_BruteQueryDihedral(benchmark::State& st) {
  std::vector<std::array<uint64_t, 4>> codes;
  for (const auto& h : data().hashes) codes.push_back(h.to_u64());
  size_t q = 0, found = 0, n = 0;
  for (auto _ : st) {
    std::array<std::array<uint64_t, 4>, 8> v;
    auto vs = dr::search::query_variants(data().queries[q++ % 1000], true);
    for (size_t k = 0; k < 8; k++) v[k] = vs[k].to_u64();
    for (const auto& c : codes) {
      for (const auto& x : v) {
        const int d = std::popcount(c[0] ^ x[0]) + std::popcount(c[1] ^ x[1]) + std::popcount(c[2] ^ x[2]) +
                      std::popcount(c[3] ^ x[3]);
        if (d <= kRadius) found++;
      }
    }
    n++;
  }
  st.counters["hits_per_query"] = double(found) / double(n);
}
BENCHMARK(BM_BruteQueryDihedral)->Unit(benchmark::kMillisecond);

std::vector<uint8_t> faiss_codes(const std::vector<Hash256>& hs) {
  std::vector<uint8_t> out(hs.size() * 32);
  for (size_t i = 0; i < hs.size(); i++) {
    auto q = hs[i].to_u64();
    std::memcpy(&out[i * 32], q.data(), 32);
  }
  return out;
}

faiss::IndexBinaryMultiHash& faiss_index() {
  static std::unique_ptr<faiss::IndexBinaryMultiHash> index = [] {
    auto idx = std::make_unique<faiss::IndexBinaryMultiHash>(256, 16, 16);
    idx->nflip = 1;
    auto codes = faiss_codes(data().hashes);
    idx->add(faiss::Index::idx_t(data().hashes.size()), codes.data());
    return idx;
  }();
  return *index;
}

void BM_FaissBuild(benchmark::State& st) {
  auto codes = faiss_codes(data().hashes);
  for (auto _ : st) {
    faiss::IndexBinaryMultiHash idx(256, 16, 16);
    idx.nflip = 1;
    idx.add(faiss::Index::idx_t(data().hashes.size()), codes.data());
    benchmark::DoNotOptimize(idx.ntotal);
  }
  st.counters["peak_rss_MB"] = peak_rss_mb();
}
BENCHMARK(BM_FaissBuild)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_FaissQueryDihedral(benchmark::State& st) {
  auto& idx = faiss_index();
  {  // FAISS's answer sizes against the exact scan on the first 200 queries
    size_t bad = 0;
    for (size_t q = 0; q < 200; q++) {
      auto vs = dr::search::query_variants(data().queries[q], true);
      auto codes = faiss_codes(vs);
      faiss::RangeSearchResult res(8);
      idx.range_search(8, codes.data(), kRadius + 1, &res);
      for (size_t k = 0; k < 8; k++) {
        std::vector<std::pair<uint32_t, int>> b;
        mih().range_search_brute(vs[k], kRadius, b);
        bad += res.lims[k + 1] - res.lims[k] != b.size();
      }
    }
    st.counters["mismatches_vs_scan"] = double(bad);
  }
  size_t q = 0, found = 0, n = 0;
  for (auto _ : st) {
    auto codes = faiss_codes(dr::search::query_variants(data().queries[q++ % 1000], true));
    faiss::RangeSearchResult res(8);
    idx.range_search(8, codes.data(), kRadius + 1, &res);  // FAISS: distance < radius
    found += res.lims[8];
    n++;
  }
  st.counters["hits_per_query"] = double(found) / double(n);
}
BENCHMARK(BM_FaissQueryDihedral)->Unit(benchmark::kMicrosecond);

// The whole `dupes` job on 100,000 of the hashes (all pairs within 31 under the 8 variants, then groups).
void BM_FindGroups100k(benchmark::State& st) {
  std::vector<dr::search::HashEntry> entries;
  for (size_t i = 0; i < 100'000; i++) entries.push_back({int64_t(i), data().hashes[i * 10], 100});
  for (auto _ : st) {
    auto r = dr::search::find_duplicate_groups(entries, {});
    st.counters["groups"] = double(r.groups.size());
  }
}
BENCHMARK(BM_FindGroups100k)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
