// The text task in-process, one image per iteration, models loaded once: a photo without text (what every photo
// in a library pays), a sign, and opencv-doc's imageTextN.png. The side-by-side comparison with the peers is
// bench/text_peers.py. Models from $DARKROOM_MODELS (default: .models in the working directory).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>

#include "../tests/support/text_images.h"
#include "analyzers/text/text_task.h"
#include "image/decode.h"

namespace {

using namespace dr;

struct Fixture {
  std::unique_ptr<runtime::ModelStore> store;
  std::unique_ptr<runtime::Runtime> rt;
  std::unique_ptr<analyzers::Task> task;
};

Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    const char* env = std::getenv("DARKROOM_MODELS");
    std::string dir = env ? env : ".models";
    x.store = std::make_unique<runtime::ModelStore>(dir, runtime::Manifest::load(dir));
    runtime::Options o;
    o.device = runtime::DeviceRequest::parse("cpu");
    x.rt = std::make_unique<runtime::Runtime>(o);
    analyzers::TaskContext ctx{*x.rt, *x.store, nlohmann::json::object()};
    x.task = analyzers::make_text_task(ctx);
    return x;
  }();
  return f;
}

void run(benchmark::State& state, const image::Decoded& img) {
  auto& f = fixture();
  size_t lines = 0;
  for (auto _ : state) {
    auto j = f.task->run(img, {});
    lines = j["lines"].size();
    benchmark::DoNotOptimize(j);
  }
  state.counters["lines"] = double(lines);
}

// A 1600x1200 photo without text, as decoded for the task (the default side).
void BM_TextNoTextPhoto(benchmark::State& state) {
  static const image::Decoded img = [] {
    std::string p = "/usr/lib/python3/dist-packages/skimage/data/coffee.png";
    if (std::filesystem::exists(p)) return image::decode(p, {.max_side = 1600});
    return test::decoded(cv::Mat(1200, 1600, CV_8UC3, cv::Scalar(128, 128, 128)));
  }();
  run(state, img);
}
void BM_TextPlainGrey1600(benchmark::State& state) {
  static const image::Decoded img = test::decoded(cv::Mat(1200, 1600, CV_8UC3, cv::Scalar(128, 128, 128)));
  run(state, img);
}
void BM_TextSign(benchmark::State& state) {
  static const image::Decoded img = test::decoded(dr::test::plain_sample().rgb);
  run(state, img);
}
void BM_TextImageTextN(benchmark::State& state) {
  static const image::Decoded img = image::decode("/usr/share/doc/opencv-doc/examples/data/imageTextN.png");
  run(state, img);
}

BENCHMARK(BM_TextNoTextPhoto)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_TextPlainGrey1600)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_TextSign)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_TextImageTextN)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
