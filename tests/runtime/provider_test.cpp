// Device choice on a machine without a usable GPU, and the probe's failure modes through the fault-injection
// switches of test builds (DARKROOM_TEST_HOOKS): every failure puts the model on the CPU, with a reason.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "runtime/runtime.h"
#include "support/cli.h"

namespace fs = std::filesystem;
using dr::test::TempDir;

namespace {

bool machine_has_nvidia() { return fs::exists("/proc/driver/nvidia/version"); }

// A model cache holding only YuNet (small and quick), copied from the installed test models, and the text detector
// when asked.
struct OneModel {
  TempDir dir;
  explicit OneModel(bool with_text_detector = false) {
    fs::create_directories(dir / "faces");
    fs::copy_file(dr::test::test_models_dir() + "/faces/yunet_n_dynamic.onnx", dir / "faces/yunet_n_dynamic.onnx");
    if (with_text_detector) {
      fs::create_directories(dir / "ocr");
      fs::copy_file(dr::test::test_models_dir() + "/ocr/ch_PP-OCRv4_det_infer.onnx",
                    dir / "ocr/ch_PP-OCRv4_det_infer.onnx");
    }
  }
  nlohmann::json doctor(const std::vector<std::string>& extra, const std::vector<std::string>& env,
                        std::string* err = nullptr) {
    std::vector<std::string> args = {"--models", dir.path(), "doctor", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = dr::test::darkroom(args, env);
    EXPECT_TRUE(r.ok()) << r.describe() << "\n" << r.err;
    if (err) *err = r.err;
    auto lines = dr::test::json_lines(r.out);
    EXPECT_EQ(lines.size(), 1u) << r.out;
    return lines.empty() ? nlohmann::json() : lines[0];
  }
  static const nlohmann::json& model(const nlohmann::json& d, const std::string& id) {
    static const nlohmann::json none;
    for (auto& m : d["models"])
      if (m["id"] == id) return m;
    ADD_FAILURE() << id << " missing from " << d.dump();
    return none;
  }
  static const nlohmann::json& yunet(const nlohmann::json& d) { return model(d, "face-detector/yunet-n"); }
};

// YuNet opened in this process on --device cuda, one thread, with the test hooks in `faults` set while it loads (and
// its probe runs).
struct YunetInProcess {
  OneModel m;
  dr::runtime::Runtime rt;
  std::shared_ptr<dr::runtime::Session> s;
  static dr::runtime::Options options(int probe_timeout_ms) {
    dr::runtime::Options o;
    o.device = dr::runtime::DeviceRequest::parse("cuda");
    o.threads = 1;
    o.self_exe = DARKROOM_BIN;
    o.probe_timeout_ms = probe_timeout_ms;
    return o;
  }
  explicit YunetInProcess(const char* faults, int probe_timeout_ms = 120000) : rt(options(probe_timeout_ms)) {
    setenv("DARKROOM_FAULT", faults, 1);
    auto store = dr::runtime::ModelStore(m.dir.path(), dr::runtime::Manifest::load(m.dir.path()));
    auto& e = *store.manifest().find("face-detector/yunet-n");
    s = rt.open(e, store.require(e), e.onnx().sha256);
    unsetenv("DARKROOM_FAULT");
  }
  // Its output for a 64x64 image of one grey level.
  std::vector<float> run(float grey) {
    std::vector<float> pixels(3 * 64 * 64, grey);
    std::vector<int64_t> shape = {1, 3, 64, 64};
    auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<Ort::Value> in;
    in.push_back(Ort::Value::CreateTensor<float>(mem, pixels.data(), pixels.size(), shape.data(), shape.size()));
    auto out = s->run(in);
    const float* p = out[0].GetTensorData<float>();
    return std::vector<float>(p, p + out[0].GetTensorTypeAndShapeInfo().GetElementCount());
  }
};

}  // namespace

TEST(DeviceRequest, Parses) {
  using dr::runtime::DeviceRequest;
  EXPECT_EQ(DeviceRequest::parse("auto").kind, DeviceRequest::Auto);
  EXPECT_EQ(DeviceRequest::parse("cpu").kind, DeviceRequest::Cpu);
  EXPECT_EQ(DeviceRequest::parse("cuda").index, 0);
  EXPECT_EQ(DeviceRequest::parse("cuda:1").index, 1);
  EXPECT_THROW(DeviceRequest::parse("cuda:x"), std::invalid_argument);
  EXPECT_THROW(DeviceRequest::parse("tpu"), std::invalid_argument);
}

TEST(Doctor, JsonHasTheContractKeys) {
  OneModel m;
  auto d = m.doctor({"--device", "cpu"}, {});
  ASSERT_TRUE(d.contains("gpu"));
  ASSERT_TRUE(d.contains("models"));
  auto& y = OneModel::yunet(d);
  for (const char* k :
       {"id", "task", "file", "sha256_ok", "provider_requested", "provider", "fallback_reason", "load_ms", "probe_ms"})
    EXPECT_TRUE(y.contains(k)) << k;
  EXPECT_EQ(y["task"], "faces");
  EXPECT_EQ(y["sha256_ok"], true);
  EXPECT_EQ(y["provider"], "CPUExecutionProvider");
  EXPECT_EQ(y["provider_requested"], "CPUExecutionProvider");
  EXPECT_TRUE(y["fallback_reason"].is_null());
  EXPECT_GT(y["load_ms"].get<double>(), 0.0);
  // Default models that are not installed are listed as missing.
  bool embedder_missing = false;
  for (auto& x : d["missing"]) embedder_missing |= x["id"] == "face-embedder/mobilefacenet";
  EXPECT_TRUE(embedder_missing) << d["missing"].dump();
}

TEST(Doctor, AutoWithoutGpuIsQuietCpu) {
  if (machine_has_nvidia()) GTEST_SKIP() << "this machine has an NVIDIA driver";
  OneModel m;
  std::string err;
  auto d = m.doctor({}, {}, &err);
  auto& y = OneModel::yunet(d);
  EXPECT_EQ(y["provider_requested"], "CPUExecutionProvider");
  EXPECT_TRUE(y["fallback_reason"].is_null());
  EXPECT_EQ(y["probe_ms"].get<double>(), 0.0);
  EXPECT_EQ(err, "");  // no warnings
}

TEST(Doctor, CudaRequestedWithoutProviderFallsBackWithReason) {
  if (machine_has_nvidia()) GTEST_SKIP() << "this machine has an NVIDIA driver";
  OneModel m;
  auto d = m.doctor({"--device", "cuda", "--cuda-provider", "/nonexistent/libonnxruntime_providers_cuda.so"}, {});
  auto& y = OneModel::yunet(d);
  EXPECT_EQ(y["provider_requested"], "CUDAExecutionProvider");
  EXPECT_EQ(y["provider"], "CPUExecutionProvider");
  ASSERT_TRUE(y["fallback_reason"].is_string());
  EXPECT_NE(y["fallback_reason"].get<std::string>().find("/nonexistent/libonnxruntime_providers_cuda.so"),
            std::string::npos);
  EXPECT_EQ(d["gpu"]["usable"], false);
}

TEST(Doctor, CudaProviderThatCannotLoadFallsBack) {
  if (machine_has_nvidia()) GTEST_SKIP() << "this machine has an NVIDIA driver";
  OneModel m;
  std::string fake = m.dir / "libonnxruntime_providers_cuda.so";
  dr::test::write_file(fake, "this is not a shared library");
  auto d = m.doctor({"--device", "cuda:0", "--cuda-provider", fake}, {});
  auto& y = OneModel::yunet(d);
  EXPECT_EQ(y["provider"], "CPUExecutionProvider");
  EXPECT_NE(y["fallback_reason"].get<std::string>().find("could not be loaded"), std::string::npos)
      << y["fallback_reason"];
}

TEST(Probe, CrashingProbeLeavesTheProcessAliveOnCpu) {
  OneModel m;
  // Under AddressSanitizer the crash must stay a crash (ASan would turn SIGSEGV into exit status 1).
  auto d = m.doctor({"--device", "cuda"}, {"DARKROOM_FAULT=fake-gpu,probe-crash", "ASAN_OPTIONS=handle_segv=0"});
  auto& y = OneModel::yunet(d);
  EXPECT_EQ(y["provider_requested"], "CUDAExecutionProvider");
  EXPECT_EQ(y["provider"], "CPUExecutionProvider");
  EXPECT_NE(y["fallback_reason"].get<std::string>().find("signal 11"), std::string::npos) << y["fallback_reason"];
  EXPECT_GT(y["probe_ms"].get<double>(), 0.0);
}

TEST(Probe, WrongNumbersMeanCpu) {
  OneModel m;
  auto d = m.doctor({"--device", "cuda"}, {"DARKROOM_FAULT=fake-gpu,probe-wrong"});
  auto& y = OneModel::yunet(d);
  EXPECT_EQ(y["provider"], "CPUExecutionProvider");
  EXPECT_NE(y["fallback_reason"].get<std::string>().find("wrong numbers"), std::string::npos) << y["fallback_reason"];
}

TEST(Probe, GoodProbeIsAcceptedAndItsVerdictCached) {
  OneModel m;
  auto d = m.doctor({"--device", "cuda"}, {"DARKROOM_FAULT=fake-gpu"});
  auto& y = OneModel::yunet(d);
  EXPECT_EQ(y["provider"], "CUDAExecutionProvider");
  EXPECT_TRUE(y["fallback_reason"].is_null());
  EXPECT_FALSE(y["probe_cached"].get<bool>());
  // The second start does not probe again; a crash switch is not even reached.
  auto d2 = m.doctor({"--device", "cuda"}, {"DARKROOM_FAULT=fake-gpu,probe-crash"});
  auto& y2 = OneModel::yunet(d2);
  EXPECT_TRUE(y2["probe_cached"].get<bool>());
  EXPECT_EQ(y2["provider"], "CUDAExecutionProvider");
}

TEST(Probe, HangingProbeTimesOut) {
  // In-process, with a short timeout, so that the test stays quick.
  YunetInProcess y("fake-gpu,probe-hang", 1500);
  auto p = y.s->placement();
  EXPECT_EQ(p.provider, "CPUExecutionProvider");
  ASSERT_TRUE(p.fallback_reason);
  EXPECT_NE(p.fallback_reason->find("timed out"), std::string::npos) << *p.fallback_reason;
}

TEST(Probe, GpuErrorAtRunTimeReRunsOnCpuAndDemotes) {
  YunetInProcess y("fake-gpu");
  ASSERT_EQ(y.s->placement().provider, "CUDAExecutionProvider");
  auto good = y.run(100.f);
  setenv("DARKROOM_FAULT", "fake-gpu,gpu-run-error", 1);
  auto after_error = y.run(100.f);  // must not throw: re-run on the CPU
  unsetenv("DARKROOM_FAULT");
  EXPECT_EQ(good, after_error);
  auto p = y.s->placement();
  EXPECT_EQ(p.provider, "CPUExecutionProvider");
  ASSERT_TRUE(p.fallback_reason);
  EXPECT_NE(p.fallback_reason->find("injected GPU run error"), std::string::npos);
}

TEST(GpuBatch, PowersOfTwoUpToTheMost) {
  using dr::runtime::gpu_batch;
  EXPECT_EQ(gpu_batch(1, 16), 1u);
  EXPECT_EQ(gpu_batch(2, 16), 2u);
  EXPECT_EQ(gpu_batch(3, 16), 4u);
  EXPECT_EQ(gpu_batch(5, 16), 8u);
  EXPECT_EQ(gpu_batch(9, 16), 16u);
  EXPECT_EQ(gpu_batch(16, 16), 16u);
  EXPECT_EQ(gpu_batch(5, 6), 6u);  // capped
  EXPECT_EQ(gpu_batch(9, 8), 9u);  // never fewer than n
}

TEST(GpuName, FromTheDriversListAndItsVersionLine) {
  dr::test::TempDir root;
  std::filesystem::create_directories(root / "gpus/0000:19:00.0");
  std::filesystem::create_directories(root / "gpus/0000:04:00.0");
  dr::test::write_file(root / "gpus/0000:19:00.0/information", "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ:  42\n");
  dr::test::write_file(root / "gpus/0000:04:00.0/information", "Model: \t\t NVIDIA H200\nIRQ:  41\n");
  EXPECT_EQ(dr::runtime::nvidia_gpu_models(root.path()),
            (std::vector<std::string>{"NVIDIA H200", "NVIDIA H100 80GB HBM3"}));
  EXPECT_TRUE(dr::runtime::nvidia_gpu_models(root / "missing").empty());
  EXPECT_EQ(dr::runtime::nvidia_driver_version(
                "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (nixbld@)  "),
            "580.159.04");
  EXPECT_EQ(dr::runtime::nvidia_driver_version("no number here"), "no number here");
}

// --device auto also times the model in its probe, on the GPU (in the child) and on the CPU, and leaves it on the CPU
// unless the GPU is at least twice as fast; --device cuda takes the GPU anyway. The fake GPU's timings are its CPU runs
// divided by 100, or multiplied by 100 with the "gpu-slow" switch (runtime.h).
TEST(GpuSlower, AsksTwiceTheCpusSpeedOfARunAndForModelsThatMeetEachPhotosShapeOfANewShape) {
  using dr::runtime::gpu_slower;
  using dr::runtime::ProbeTimes;
  EXPECT_EQ(gpu_slower("m", ProbeTimes{}), "");  // nothing timed
  EXPECT_EQ(gpu_slower("m", ProbeTimes{.gpu_ms = 2, .cpu_ms = 5}), "");
  EXPECT_EQ(gpu_slower("m", ProbeTimes{.gpu_ms = 2.5, .cpu_ms = 5}), "");  // exactly twice as fast
  auto r = gpu_slower("m", ProbeTimes{.gpu_ms = 2.34, .cpu_ms = 3.53});    // faster, but not twice
  EXPECT_NE(r.find("the GPU ran m in 2.34 ms a run against the CPU's 3.53 ms"), std::string::npos) << r;
  r = gpu_slower("m", ProbeTimes{.gpu_ms = 5.5, .cpu_ms = 2.25});
  EXPECT_NE(r.find("5.50 ms a run against the CPU's 2.25 ms"), std::string::npos) << r;
  // Quicker at a shape seen before, but a new shape costs 103 ms against the CPU's 24.
  r = gpu_slower("m", ProbeTimes{.gpu_ms = 3.5, .cpu_ms = 21, .gpu_new_shape_ms = 103, .cpu_new_shape_ms = 24});
  EXPECT_NE(r.find("at a new input shape in 103 ms against the CPU's 24 ms"), std::string::npos) << r;
  EXPECT_EQ(gpu_slower("m", ProbeTimes{.gpu_ms = 3, .cpu_ms = 30, .gpu_new_shape_ms = 12, .cpu_new_shape_ms = 40}), "");
  EXPECT_NE(gpu_slower("m", ProbeTimes{.gpu_ms = 3, .cpu_ms = 30, .gpu_new_shape_ms = 35, .cpu_new_shape_ms = 40}), "");
  // `work` gives each worker's session one thread of 16: 12 ms there is 0.75 ms with every core busy.
  EXPECT_EQ(gpu_slower("m", ProbeTimes{.gpu_ms = 2.6, .cpu_ms = 12}), "");
  r = gpu_slower("m", ProbeTimes{.gpu_ms = 2.6, .cpu_ms = 12, .cpu_share = 1.0 / 16});
  EXPECT_NE(r.find("against the CPU's 12 ms on 6% of its cores (0.75 ms with all busy)"), std::string::npos) << r;
  EXPECT_EQ(gpu_slower("m", ProbeTimes{.gpu_ms = 0.3, .cpu_ms = 12, .cpu_share = 1.0 / 16}), "");
}

TEST(Probe, AutoTakesTheGpuWhenItRunsTheModelFaster) {
  OneModel m;
  auto d = m.doctor({}, {"DARKROOM_FAULT=fake-gpu"});
  auto& y = OneModel::yunet(d);
  EXPECT_EQ(y["provider"], "CUDAExecutionProvider");
  EXPECT_TRUE(y["fallback_reason"].is_null());
  EXPECT_FALSE(y["gpu_slower"].get<bool>());
  auto& t = y["probe_times"];
  ASSERT_TRUE(t["gpu_ms"].is_number() && t["cpu_ms"].is_number()) << t;
  EXPECT_GT(t["cpu_ms"].get<double>(), 0.0);
  EXPECT_LT(t["gpu_ms"].get<double>(), t["cpu_ms"].get<double>());
  EXPECT_TRUE(t["gpu_new_shape_ms"].is_null());  // YuNet runs on one canvas on a GPU: its shape does not vary
  EXPECT_EQ(t["cpu_share"].get<double>(), 1.0);  // all the cores (--threads left to its default)
}

TEST(Probe, AutoLeavesAModelTheGpuRunsSlowerOnTheCpuAndCudaTakesTheGpuAnyway) {
  OneModel m;
  std::string err;
  auto d = m.doctor({}, {"DARKROOM_FAULT=fake-gpu,gpu-slow"}, &err);
  auto& y = OneModel::yunet(d);
  EXPECT_EQ(y["provider_requested"], "CUDAExecutionProvider");
  EXPECT_EQ(y["provider"], "CPUExecutionProvider");
  EXPECT_TRUE(y["gpu_slower"].get<bool>());
  ASSERT_TRUE(y["fallback_reason"].is_string());
  EXPECT_NE(y["fallback_reason"].get<std::string>().find("a run against the CPU's"), std::string::npos)
      << y["fallback_reason"];
  EXPECT_GT(y["probe_times"]["gpu_ms"].get<double>(), y["probe_times"]["cpu_ms"].get<double>());
  EXPECT_EQ(err.find("the GPU ran"), std::string::npos) << err;  // a choice, said at the info level, not a warning
  // The verdict is cached with its timings: the same choice without a probe; an explicit --device cuda takes the
  // GPU from the same verdict.
  auto d2 = m.doctor({}, {"DARKROOM_FAULT=fake-gpu,probe-crash"});
  auto& y2 = OneModel::yunet(d2);
  EXPECT_TRUE(y2["probe_cached"].get<bool>());
  EXPECT_EQ(y2["provider"], "CPUExecutionProvider");
  EXPECT_NE(y2["fallback_reason"].get<std::string>().find("verdict cached"), std::string::npos);
  EXPECT_EQ(y2["probe_times"], y["probe_times"]);
  auto d3 = m.doctor({"--device", "cuda"}, {"DARKROOM_FAULT=fake-gpu,probe-crash"});
  auto& y3 = OneModel::yunet(d3);
  EXPECT_TRUE(y3["probe_cached"].get<bool>());
  EXPECT_EQ(y3["provider"], "CUDAExecutionProvider");
  EXPECT_TRUE(y3["fallback_reason"].is_null());
}

TEST(Probe, AModelThatMeetsEachPhotosShapeIsAlsoTimedAtANewShape) {
  OneModel m(true);
  auto d = m.doctor({}, {"DARKROOM_FAULT=fake-gpu,gpu-slow-new-shape"});
  // The text detector (manifest: "shape_varies") goes to the CPU for its cost at a new shape; YuNet, timed at its
  // canvas only, takes the GPU.
  auto& det = OneModel::model(d, "text-detector/ppocrv4-det");
  EXPECT_EQ(det["provider"], "CPUExecutionProvider");
  ASSERT_TRUE(det["fallback_reason"].is_string()) << det;
  EXPECT_NE(det["fallback_reason"].get<std::string>().find("at a new input shape"), std::string::npos)
      << det["fallback_reason"];
  auto& t = det["probe_times"];
  EXPECT_LT(t["gpu_ms"].get<double>(), t["cpu_ms"].get<double>());
  EXPECT_GT(t["gpu_new_shape_ms"].get<double>(), t["cpu_new_shape_ms"].get<double>());
  EXPECT_EQ(OneModel::yunet(d)["provider"], "CUDAExecutionProvider");
}

// GPU runs asked for from several threads at once all come back, each with its own input's answer (ONNX Runtime's
// CUDA provider keeps a context per calling thread).
TEST(Probe, GpuRunsFromManyThreadsAtOnceEachGetTheirOwnAnswer) {
  YunetInProcess y("fake-gpu");
  ASSERT_TRUE(y.s->on_gpu());
  auto run = [&](float grey) { return y.run(grey); };
  std::vector<std::vector<float>> expected;
  for (int t = 0; t < 4; ++t) expected.push_back(run(40.f * float(t)));
  ASSERT_NE(expected[0], expected[3]);  // the inputs give different answers
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 5; ++k) wrong[size_t(t)] += run(40.f * float(t)) != expected[size_t(t)];
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
  EXPECT_TRUE(y.s->on_gpu());
}

// A cached verdict that keeps a model on the CPU needs no GPU: such a start does not look for one (which, on a machine
// with one, loads the 230 MB CUDA provider and starts CUDA). A verdict for the GPU does.
TEST(Probe, ACachedCpuVerdictLoadsNoGpu) {
  OneModel m;
  auto open_yunet = [&](const char* faults, dr::runtime::Runtime& rt) {
    setenv("DARKROOM_FAULT", faults, 1);
    auto store = dr::runtime::ModelStore(m.dir.path(), dr::runtime::Manifest::load(m.dir.path()));
    auto& e = *store.manifest().find("face-detector/yunet-n");
    auto s = rt.open(e, store.require(e), e.onnx().sha256);
    unsetenv("DARKROOM_FAULT");
    return s->placement();
  };
  for (bool slow : {true, false}) {
    SCOPED_TRACE(slow ? "the GPU slower" : "the GPU faster");
    dr::runtime::Options o;
    o.threads = 1;
    o.self_exe = DARKROOM_BIN;
    o.probe_cache = m.dir / (slow ? "slow-cache.json" : "fast-cache.json");
    const char* faults = slow ? "fake-gpu,gpu-slow" : "fake-gpu";
    {
      dr::runtime::Runtime first(o);
      auto p = open_yunet(faults, first);
      EXPECT_FALSE(p.probe_cached);
      EXPECT_EQ(p.gpu_slower, slow);
      EXPECT_TRUE(first.gpu_looked_for());  // the probe needs the GPU
    }
    dr::runtime::Runtime second(o);
    auto p = open_yunet(faults, second);
    EXPECT_TRUE(p.probe_cached);
    EXPECT_EQ(p.provider, slow ? "CPUExecutionProvider" : "CUDAExecutionProvider");
    EXPECT_EQ(second.gpu_looked_for(), !slow);
  }
}

// Every CPU session draws its tensors from one arena that the process shares (an arena per session held the sum of
// each model's largest run for good): one model's arena counters count the runs of another, and of a session of a
// second Runtime made while the first lives.
TEST(Runtime, EveryCpuSessionDrawsFromOneSharedArena) {
  OneModel m(/*with_text_detector=*/true);
  dr::runtime::Options o;
  o.device = dr::runtime::DeviceRequest::parse("cpu");
  o.threads = 1;
  auto store = dr::runtime::ModelStore(m.dir.path(), dr::runtime::Manifest::load(m.dir.path()));
  auto open = [&](dr::runtime::Runtime& rt, const char* id) {
    auto& e = *store.manifest().find(id);
    return rt.open(e, store.require(e), e.onnx().sha256);
  };
  auto run = [](dr::runtime::Session& s, int side) {
    std::vector<float> pixels(size_t(3 * side * side), 0.5f);
    std::vector<int64_t> shape = {1, 3, side, side};
    auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    std::vector<Ort::Value> in;
    in.push_back(Ort::Value::CreateTensor<float>(mem, pixels.data(), pixels.size(), shape.data(), shape.size()));
    auto out = s.run(in);
    EXPECT_GT(out[0].GetTensorTypeAndShapeInfo().GetElementCount(), 0u);
  };
  dr::runtime::Runtime rt(o);
  auto faces = open(rt, "face-detector/yunet-n");
  auto text = open(rt, "text-detector/ppocrv4-det");
  run(*faces, 64);
  auto after_faces = faces->cpu_arena();
  ASSERT_TRUE(after_faces.has_value());
  EXPECT_GT(after_faces->allocations, 0u);
  EXPECT_EQ(text->cpu_arena()->allocations, after_faces->allocations);  // the text detector's arena counted them
  run(*text, 96);
  auto after_text = faces->cpu_arena();  // and the face detector's counts the text detector's run
  EXPECT_GT(after_text->allocations, after_faces->allocations);
  EXPECT_EQ(text->cpu_arena()->allocations, after_text->allocations);
  EXPECT_GE(after_text->reserved, after_text->most_in_use);
  EXPECT_GE(after_text->most_in_use, after_text->in_use);
  EXPECT_GT(after_text->most_in_use, 0u);

  dr::runtime::Runtime second(o);
  auto text2 = open(second, "text-detector/ppocrv4-det");
  run(*text2, 64);
  EXPECT_GT(faces->cpu_arena()->allocations, after_text->allocations);
  EXPECT_EQ(text2->cpu_arena()->allocations, faces->cpu_arena()->allocations);
}
