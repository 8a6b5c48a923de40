// Faces: detection per photo at the default size, alignment and embedding per face, and decoding reported apart.
// Models come from $DARKROOM_MODELS (the Makefile sets it to .models). ONNX Runtime gets $DARKROOM_BENCH_THREADS
// intra-op threads (default 2: the development machine's cores). The CPU column is the whole process's CPU time
// (every thread), which stays meaningful on a busy machine: with one thread it is the wall time on an idle core.
//   DARKROOM_BENCH_THREADS=1 build/bench/faces_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <opencv2/imgproc.hpp>

#include "analyzers/faces/faces.h"
#include "image/decode.h"
#include "runtime/model_store.h"
#include "runtime/runtime.h"

namespace {

using namespace dr;
using namespace dr::analyzers::faces;

const std::string kOpenCv = "/usr/share/doc/opencv-doc/examples/data/";
const std::string kSkimage = "/usr/lib/python3/dist-packages/skimage/data/";
const std::string kPhone = DARKROOM_SOURCE_DIR "/../shared/testdata/pdq/reg-test-input/exif-rotn/exif-rotn-1.jpg";

struct Env {
  std::unique_ptr<runtime::Runtime> rt;
  std::unique_ptr<runtime::ModelStore> store;
  static Env& get() {
    static Env e = [] {
      Env x;
      runtime::Options o;
      o.device.kind = runtime::DeviceRequest::Cpu;
      const char* t = std::getenv("DARKROOM_BENCH_THREADS");
      o.threads = t ? std::atoi(t) : 2;
      x.rt = std::make_unique<runtime::Runtime>(o);
      auto dir = runtime::ModelStore::default_dir();
      x.store = std::make_unique<runtime::ModelStore>(dir, runtime::Manifest::load(dir));
      return x;
    }();
    return e;
  }
  std::shared_ptr<runtime::Session> open(const std::string& id, const runtime::ModelEntry*& entry) {
    entry = store->manifest().find(id);
    return rt->open(*entry, store->require(*entry), entry->onnx().sha256);
  }
};

std::unique_ptr<FaceDetector> detector(const std::string& id) {
  const runtime::ModelEntry* e;
  auto s = Env::get().open(id, e);
  return std::make_unique<FaceDetector>(s, *e, DetectorOptions{});
}

// What the faces task decodes: the longest side at most 1280 (twice the detector's side).
image::Decoded decoded(const std::string& path) { return image::decode(path, {.max_side = 1280}); }

void BM_Decode(benchmark::State& st, std::string path) {
  for (auto _ : st) benchmark::DoNotOptimize(decoded(path));
}

void BM_Detect(benchmark::State& st, std::string model, std::string path) {
  auto det = detector(model);
  auto img = decoded(path);
  size_t faces = 0;
  for (auto _ : st) faces = det->detect(img.rgb).size();
  st.counters["faces"] = double(faces);
  st.SetLabel(std::to_string(img.rgb.width) + "x" + std::to_string(img.rgb.height));
}

// Per face: similarity fit and warp to 112x112, quality signals, and the embedding.
void BM_AlignEmbed(benchmark::State& st, bool embed) {
  const runtime::ModelEntry* e;
  auto s = Env::get().open("face-embedder/mobilefacenet", e);
  FaceEmbedder emb(s, *e);
  auto img = decoded(kSkimage + "astronaut.png");
  cv::Mat rgb = as_mat(img.rgb);
  auto faces = detector("face-detector/yunet-n")->detect(rgb);
  if (faces.empty()) {
    st.SkipWithError("no face in astronaut.png");
    return;
  }
  for (auto _ : st) {
    cv::Mat a = align_face(rgb, faces[0].landmarks);
    benchmark::DoNotOptimize(measure_quality(a, faces[0].landmarks));
    if (embed) benchmark::DoNotOptimize(emb.embed({a}));
  }
}

void register_all() {
  for (auto& [name, path] :
       std::vector<std::pair<std::string, std::string>>{{"astronaut_512", kSkimage + "astronaut.png"},
                                                        {"messi_548x342", kOpenCv + "messi5.jpg"},
                                                        {"phone_12MP", kPhone}}) {
    benchmark::RegisterBenchmark(("Decode/" + name).c_str(), BM_Decode, path)
        ->MeasureProcessCPUTime()
        ->Unit(benchmark::kMillisecond);
    for (auto& [m, id] : std::vector<std::pair<std::string, std::string>>{{"YuNet", "face-detector/yunet-n"},
                                                                          {"SCRFD500m", "face-detector/scrfd-500m"}})
      benchmark::RegisterBenchmark(("Detect" + m + "/" + name).c_str(), BM_Detect, id, path)
          ->MeasureProcessCPUTime()
          ->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("AlignQuality/face", BM_AlignEmbed, false)
      ->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("AlignQualityEmbed/face", BM_AlignEmbed, true)
      ->MeasureProcessCPUTime()
      ->Unit(benchmark::kMillisecond);
}

const int registered = (register_all(), 0);

}  // namespace
