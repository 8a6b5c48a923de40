// Objects (YOLOX-nano, preprocessing included, on photos already decoded at the task's size), the CLIP tokenizer,
// and CLIP's image preprocessing. Run: build/bench/objects_clip_bench --benchmark_min_time=2
// Models come from $DARKROOM_MODELS or the test model folder (.models).
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "analyzers/clip/clip_model.h"
#include "analyzers/clip/tokenizer.h"
#include "analyzers/objects/objects_task.h"
#include "image/decode.h"

using namespace dr;

namespace {

std::string models_dir() {
  const char* m = std::getenv("DARKROOM_MODELS");
  return m ? m : DARKROOM_SOURCE_DIR "/.models";
}

const std::string kPhotos[] = {"/usr/lib/python3/dist-packages/skimage/data/chelsea.png",
                               "/usr/lib/python3/dist-packages/skimage/data/coffee.png",
                               "/usr/lib/python3/dist-packages/skimage/data/astronaut.png",
                               "/usr/lib/python3/dist-packages/skimage/data/motorcycle_left.png",
                               "/usr/share/doc/opencv-doc/examples/data/messi5.jpg"};

void BM_ObjectsYoloxNano(benchmark::State& state) {
  runtime::Options o;
  o.device.kind = runtime::DeviceRequest::Cpu;
  o.threads = int(state.range(0));
  runtime::Runtime rt(o);
  runtime::ModelStore store(models_dir(), runtime::Manifest::load(models_dir()));
  const auto* e = store.manifest().pick("objects", "detector");
  analyzers::objects::Detector det(rt, *e, store.require(*e), e->onnx().sha256);
  std::vector<image::Rgb> imgs;
  for (auto& p : kPhotos) imgs.push_back(image::decode(p, {.max_side = det.wanted_side()}).rgb);
  size_t i = 0, found = 0;
  for (auto _ : state) {
    auto d = det.detect(imgs[i++ % imgs.size()]);
    found += d.size();
    benchmark::DoNotOptimize(d);
  }
  state.counters["photos/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["objects/photo"] = double(found) / double(state.iterations());
}
BENCHMARK(BM_ObjectsYoloxNano)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

const std::vector<std::string>& queries() {
  static const std::vector<std::string> q = {"a photo of a cat",
                                             "two dogs playing in the snow at sunset",
                                             "Birthday party with balloons, cake & candles!!",
                                             "café crème on a wooden table",
                                             "北京的夜景",
                                             "🐱 sleeping on a sofa 🛋️",
                                             "the red car parked outside grandma's house in 2019",
                                             "&quot;Beach&quot; — waves, surfers and a lighthouse"};
  return q;
}

void BM_ClipTokenize(benchmark::State& state) {
  auto tok = analyzers::clip::Tokenizer::from_gzip(models_dir() + "/clip/bpe_simple_vocab_16e6.txt.gz");
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const auto& q = queries()[i++ % queries().size()];
    auto t = tok.tokenize(q);
    bytes += q.size();
    benchmark::DoNotOptimize(t);
  }
  state.counters["texts/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(int64_t(bytes));
}
BENCHMARK(BM_ClipTokenize);

void BM_ClipTokenizerLoad(benchmark::State& state) {
  for (auto _ : state) {
    auto tok = analyzers::clip::Tokenizer::from_gzip(models_dir() + "/clip/bpe_simple_vocab_16e6.txt.gz");
    benchmark::DoNotOptimize(tok);
  }
}
BENCHMARK(BM_ClipTokenizerLoad)->Unit(benchmark::kMillisecond);

void BM_ClipPreprocess(benchmark::State& state) {
  auto img = image::decode(kPhotos[4], {.max_side = 896}).rgb;
  analyzers::clip::Preprocess cfg;
  for (auto _ : state) benchmark::DoNotOptimize(analyzers::clip::preprocess(img, cfg));
}
BENCHMARK(BM_ClipPreprocess)->Unit(benchmark::kMillisecond);

}  // namespace
