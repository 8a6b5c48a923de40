// PDQ: the hash core alone and each decoding path, in-process (no start-up). Run from the repository root:
//   build/bench/pdq_bench --benchmark_min_time=1
// (DARKROOM_SHARED_DIR overrides where ../shared/testdata/pdq is.) Figures in BENCHMARKS.md, section PDQ.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>

#include "analyzers/pdq/pdq_hasher.h"
#include "image/jpeg_fast.h"
#include "pdq/pdq.h"

namespace {

std::string data(const std::string& rel) {
  const char* env = std::getenv("DARKROOM_SHARED_DIR");
  return std::string(env && *env ? env : DARKROOM_SHARED_DIR) + "/testdata/pdq/" + rel;
}

const char* kPhone = "reg-test-input/exif-rotn/exif-rotn-1.jpg";   // 4032x3024, 3.1 MB
const char* kBridge = "reg-test-input/dih/bridge-1-original.jpg";  // 1600x1004
const char* kSmall = "reg-test-input/labelme-subset/q1050.jpg";    // 256x256
const char* kPng = "reg-test-input/pen-and-coaster.png";           // 924x735 RGBA

std::vector<float> noise_plane(int w, int h) {
  std::mt19937 rng(1);
  std::vector<float> v(size_t(w) * h);
  for (auto& x : v) x = float(rng() % 256);
  return v;
}

void BM_HashCore(benchmark::State& st) {
  const int w = int(st.range(0)), h = int(st.range(1));
  const bool dihedral = st.range(2) != 0;
  const auto src = noise_plane(w, h);
  std::vector<float> work(src.size());
  dr::pdq::Hasher hs;
  for (auto _ : st) {
    work = src;  // hash_luma blurs in place
    benchmark::DoNotOptimize(hs.hash_luma(work.data(), w, h, dihedral));
  }
}
BENCHMARK(BM_HashCore)->Args({512, 512, 0})->Args({512, 512, 1})->Unit(benchmark::kMillisecond);

// What the default mode decodes for a JPEG above 512 pixels on a side: the 512x512 pixels the reference samples.
void BM_DecodeJpegSampled(benchmark::State& st, const char* rel) {
  const auto bytes = dr::image::read_file(data(rel));
  const auto hd = dr::image::jpeg_header(bytes.data(), bytes.size(), rel);
  const auto xs = dr::pdq::nearest_positions(hd.width, 512), ys = dr::pdq::nearest_positions(hd.height, 512);
  for (auto _ : st)
    benchmark::DoNotOptimize(dr::image::decode_jpeg_sampled(bytes.data(), bytes.size(), rel, xs, ys).data.data());
}
BENCHMARK_CAPTURE(BM_DecodeJpegSampled, phone_12mp, kPhone)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeJpegSampled, bridge_1_6mp, kBridge)->Unit(benchmark::kMillisecond);

void BM_DecodeJpegFull(benchmark::State& st, const char* rel) {
  const auto bytes = dr::image::read_file(data(rel));
  for (auto _ : st) benchmark::DoNotOptimize(dr::image::decode_jpeg_full(bytes.data(), bytes.size(), rel).data.data());
}
BENCHMARK_CAPTURE(BM_DecodeJpegFull, phone_12mp, kPhone)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeJpegFull, bridge_1_6mp, kBridge)->Unit(benchmark::kMillisecond);

void BM_ExifOrientation(benchmark::State& st) {
  const auto bytes = dr::image::read_file(data(kPhone));
  for (auto _ : st) benchmark::DoNotOptimize(dr::image::jpeg_exif_orientation(bytes.data(), bytes.size()));
}
BENCHMARK(BM_ExifOrientation);

void BM_HashFile(benchmark::State& st, const char* rel, bool exact) {
  dr::analyzers::PdqOptions o;
  o.exact = exact;
  dr::pdq::Hasher hs;
  const std::string path = data(rel);
  for (auto _ : st) benchmark::DoNotOptimize(dr::analyzers::pdq_hash_file(path, o, hs).result.quality);
}
BENCHMARK_CAPTURE(BM_HashFile, phone_12mp_fast, kPhone, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_HashFile, phone_12mp_exact, kPhone, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_HashFile, bridge_1_6mp_fast, kBridge, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_HashFile, bridge_1_6mp_exact, kBridge, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_HashFile, small_256_fast, kSmall, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_HashFile, png_rgba_fast, kPng, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_HashFile, png_rgba_exact, kPng, true)->Unit(benchmark::kMillisecond);

}  // namespace
