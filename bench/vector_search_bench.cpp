// CLIP-style vector search: N embeddings of 512 floats (default N = 1,000,000; $DARKROOM_BENCH_VECTORS to change),
// exact (flat inner product) against HNSW (M=16, efConstruction=40, efSearch 64 to 512 on the same graph), with
// HNSW's recall@10 against exact. The data are clustered like real photo embeddings: 2,000 random unit centres, each
// vector a centre plus Gaussian noise (sigma 0.6 / sqrt(512) per dimension), normalised; queries are drawn the same
// way. Run once: build/bench/vector_search_bench --benchmark_min_time=1   (about 4 GiB of memory at 1M)
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <set>

#include "search/vector_index.h"

using namespace dr::search;

namespace {

constexpr int kDim = 512;
constexpr size_t kQueries = 200;

size_t count() {
  const char* n = std::getenv("DARKROOM_BENCH_VECTORS");
  return n ? size_t(std::atoll(n)) : 1'000'000;
}

std::vector<float> clustered(size_t n, uint32_t seed, const std::vector<float>& centres) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 0.6f / std::sqrt(float(kDim)));
  std::uniform_int_distribution<size_t> pick(0, centres.size() / kDim - 1);
  std::vector<float> v(n * kDim);
  for (size_t i = 0; i < n; ++i) {
    const float* c = &centres[pick(rng) * kDim];
    double s = 0;
    for (int k = 0; k < kDim; ++k) {
      float x = c[k] + g(rng);
      v[i * kDim + k] = x;
      s += double(x) * x;
    }
    float inv = float(1 / std::sqrt(s));
    for (int k = 0; k < kDim; ++k) v[i * kDim + k] *= inv;
  }
  return v;
}

struct Data {
  std::vector<float> queries;
  std::unique_ptr<VectorIndex> exact, hnsw;
  double build_exact_s = 0, build_hnsw_s = 0;
  std::vector<std::set<int64_t>> truth;
};

Data& data() {
  static Data d = [] {
    Data d;
    std::mt19937 rng(42);
    std::normal_distribution<float> g;
    std::vector<float> centres(2000 * kDim);
    for (auto& x : centres) x = g(rng) / std::sqrt(float(kDim));
    const size_t n = count();
    auto v = clustered(n, 1, centres);
    d.queries = clustered(kQueries, 2, centres);
    std::vector<int64_t> ids(n);
    for (size_t i = 0; i < n; ++i) ids[i] = int64_t(i);
    auto t0 = std::chrono::steady_clock::now();
    d.exact = std::make_unique<VectorIndex>(kDim, ids, v, VectorIndexOptions{.kind = VectorIndexOptions::Exact});
    auto t1 = std::chrono::steady_clock::now();
    d.hnsw = std::make_unique<VectorIndex>(kDim, ids, v, VectorIndexOptions{.kind = VectorIndexOptions::Hnsw});
    auto t2 = std::chrono::steady_clock::now();
    d.build_exact_s = std::chrono::duration<double>(t1 - t0).count();
    d.build_hnsw_s = std::chrono::duration<double>(t2 - t1).count();
    for (size_t q = 0; q < kQueries; ++q) {
      std::vector<float> query(d.queries.begin() + q * kDim, d.queries.begin() + (q + 1) * kDim);
      std::set<int64_t> t;
      for (auto& h : d.exact->search(query, 10)) t.insert(h.id);
      d.truth.push_back(std::move(t));
    }
    return d;
  }();
  return d;
}

std::vector<float> query(size_t q) {
  auto& d = data();
  return {d.queries.begin() + (q % kQueries) * kDim, d.queries.begin() + (q % kQueries + 1) * kDim};
}

void BM_SearchExact(benchmark::State& state) {
  auto& d = data();
  size_t q = 0;
  for (auto _ : state) benchmark::DoNotOptimize(d.exact->search(query(q++), 10));
  state.counters["vectors"] = double(d.exact->size());
  state.counters["build_s"] = d.build_exact_s;
}
BENCHMARK(BM_SearchExact)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SearchHnsw(benchmark::State& state) {
  auto& d = data();
  // efSearch only changes the search, so one graph serves every value; recall is measured on the same queries.
  d.hnsw->set_ef_search(int(state.range(0)));
  size_t q = 0;
  for (auto _ : state) benchmark::DoNotOptimize(d.hnsw->search(query(q++), 10));
  size_t found = 0;
  for (size_t i = 0; i < kQueries; ++i)
    for (auto& h : d.hnsw->search(query(i), 10)) found += d.truth[i].count(h.id);
  state.counters["recall@10"] = double(found) / double(kQueries * 10);
  state.counters["build_s"] = d.build_hnsw_s;
  state.counters["vectors"] = double(d.hnsw->size());
}
// What a library pays per process once its graph is saved (search/object_search.h): reading it back.
void BM_HnswLoadSaved(benchmark::State& state) {
  auto& d = data();
  const std::string path = "/tmp/darkroom_vector_search_bench.hnsw";
  d.hnsw->save(path);
  std::vector<int64_t> ids(d.hnsw->size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int64_t(i);
  for (auto _ : state) benchmark::DoNotOptimize(VectorIndex::load(path, kDim, ids));
  std::remove(path.c_str());
  state.counters["build_s"] = d.build_hnsw_s;
}
BENCHMARK(BM_HnswLoadSaved)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK(BM_SearchHnsw)
    ->ArgName("efSearch")
    ->Arg(64)
    ->Arg(128)
    ->Arg(256)
    ->Arg(512)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
