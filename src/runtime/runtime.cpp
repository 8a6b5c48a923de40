#include "runtime/runtime.h"

#include <dlfcn.h>
#include <onnxruntime_session_options_config_keys.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <tuple>

#include "runtime/graph_rewrite.h"
#include "util/process.h"

namespace fs = std::filesystem;

namespace dr::runtime {
namespace {

constexpr const char* kCpu = "CPUExecutionProvider";
constexpr const char* kCuda = "CUDAExecutionProvider";
// --device auto takes the GPU for a model it runs at least this many times faster than the CPU (gpu_slower()).
constexpr double kGpuMinGain = 2.0;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The folder of the libonnxruntime this process runs with: the CUDA provider is looked for beside it.
std::string ort_library_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&OrtGetApiBase), &info) && info.dli_fname)
    return fs::path(info.dli_fname).parent_path().string();
  return {};
}

// ---- the representative probe input, made the same way in the parent and the child ----

struct ProbeTensor {
  std::string name;
  std::vector<int64_t> shape;
  bool int64 = false;
  std::vector<float> f;
  std::vector<int64_t> i;
};

// Input facts: a float image input gets pixel-like values 0..255 through the manifest's scale/mean/std; an int64
// input (token ids) gets ids in [1, 1000) framed by start and end tokens when the manifest names them.
std::vector<ProbeTensor> make_probe_input(const nlohmann::json& spec) {
  std::vector<ProbeTensor> out;
  std::mt19937 rng(spec.value("seed", 7));
  for (auto& in : spec.at("inputs")) {
    ProbeTensor t;
    t.name = in.at("name");
    t.shape = in.at("shape").get<std::vector<int64_t>>();
    t.int64 = in.value("int64", false);
    size_t n = 1;
    for (auto d : t.shape) n *= size_t(std::max<int64_t>(d, 1));
    if (t.int64) {
      std::uniform_int_distribution<int64_t> dist(1, 999);
      t.i.resize(n);
      for (auto& v : t.i) v = dist(rng);
    } else {
      double scale = in.value("scale", 1.0);
      auto mean = in.value("mean", std::vector<double>{0, 0, 0});
      auto stdv = in.value("std", std::vector<double>{1, 1, 1});
      std::uniform_real_distribution<float> dist(0.f, 255.f);
      t.f.resize(n);
      // NCHW: channel = (index / (H*W)) % C
      int64_t c = t.shape.size() == 4 ? std::max<int64_t>(t.shape[1], 1) : 1;
      int64_t hw = t.shape.size() == 4 ? std::max<int64_t>(t.shape[2] * t.shape[3], 1) : int64_t(n);
      for (size_t k = 0; k < n; ++k) {
        size_t ch = size_t((int64_t(k) / hw) % c) % std::max<size_t>(mean.size(), 1);
        double m = mean.empty() ? 0 : mean[ch], s = stdv.empty() ? 1 : stdv[ch % stdv.size()];
        t.f[k] = float((dist(rng) * scale - m) / (s == 0 ? 1 : s));
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<Ort::Value> to_values(std::vector<ProbeTensor>& ts) {
  auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<Ort::Value> v;
  for (auto& t : ts) {
    if (t.int64)
      v.push_back(Ort::Value::CreateTensor<int64_t>(mem, t.i.data(), t.i.size(), t.shape.data(), t.shape.size()));
    else
      v.push_back(Ort::Value::CreateTensor<float>(mem, t.f.data(), t.f.size(), t.shape.data(), t.shape.size()));
  }
  return v;
}

// Outputs as flat float vectors (int outputs converted), for comparison across processes.
std::vector<std::vector<float>> flatten(std::vector<Ort::Value>& outs) {
  std::vector<std::vector<float>> r;
  for (auto& o : outs) {
    std::vector<float> flat;
    if (o.IsTensor()) {
      auto info = o.GetTensorTypeAndShapeInfo();
      size_t n = info.GetElementCount();
      switch (info.GetElementType()) {
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: {
          const float* p = o.GetTensorData<float>();
          flat.assign(p, p + n);
          break;
        }
        case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: {
          const int64_t* p = o.GetTensorData<int64_t>();
          for (size_t k = 0; k < n; ++k) flat.push_back(float(p[k]));
          break;
        }
        default:
          break;  // other types are not compared
      }
    }
    r.push_back(std::move(flat));
  }
  return r;
}

void write_outputs(const std::string& path, const std::vector<std::vector<float>>& outs) {
  std::ofstream f(path, std::ios::binary);
  uint64_t n = outs.size();
  f.write(reinterpret_cast<const char*>(&n), sizeof n);
  for (auto& o : outs) {
    uint64_t k = o.size();
    f.write(reinterpret_cast<const char*>(&k), sizeof k);
    f.write(reinterpret_cast<const char*>(o.data()), std::streamsize(k * sizeof(float)));
  }
}

bool read_outputs(const std::string& path, std::vector<std::vector<float>>& outs) {
  std::ifstream f(path, std::ios::binary);
  uint64_t n = 0;
  if (!f.read(reinterpret_cast<char*>(&n), sizeof n) || n > 4096) return false;
  outs.resize(n);
  for (auto& o : outs) {
    uint64_t k = 0;
    if (!f.read(reinterpret_cast<char*>(&k), sizeof k) || k > (uint64_t(1) << 32)) return false;
    o.resize(k);
    if (!f.read(reinterpret_cast<char*>(o.data()), std::streamsize(k * sizeof(float)))) return false;
  }
  return true;
}

// The largest difference between the two runs, relative to the CPU output's range; empty when they agree.
std::string compare_outputs(const std::vector<std::vector<float>>& cpu, const std::vector<std::vector<float>>& gpu,
                            const std::vector<std::string>& names) {
  if (cpu.size() != gpu.size())
    return "the GPU gave " + std::to_string(gpu.size()) + " outputs, the CPU " + std::to_string(cpu.size());
  for (size_t k = 0; k < cpu.size(); ++k) {
    if (cpu[k].size() != gpu[k].size())
      return "output " + names[k] + " has " + std::to_string(gpu[k].size()) + " values on the GPU, " +
             std::to_string(cpu[k].size()) + " on the CPU";
    float range = 0;
    for (float v : cpu[k]) range = std::max(range, std::fabs(v));
    float tol = 1e-3f + 2e-2f * std::max(range, 1.0f);
    for (size_t i = 0; i < cpu[k].size(); ++i) {
      float a = cpu[k][i], b = gpu[k][i];
      if (!(std::fabs(a - b) <= tol)) {  // also catches NaN
        std::ostringstream s;
        s << "wrong numbers on the GPU: output " << names[k] << "[" << i << "] is " << b << ", the CPU gives " << a;
        return s.str();
      }
    }
  }
  return {};
}

}  // namespace

bool fault(const char* name) {
#ifdef DARKROOM_TEST_HOOKS
  const char* env = std::getenv("DARKROOM_FAULT");
  if (!env) return false;
  std::stringstream ss(env);
  std::string item;
  while (std::getline(ss, item, ','))
    if (item == name) return true;
  return false;
#else
  (void)name;
  return false;
#endif
}

DeviceRequest DeviceRequest::parse(const std::string& s) {
  DeviceRequest r;
  if (s.empty() || s == "auto") return r;
  if (s == "cpu") {
    r.kind = Cpu;
    return r;
  }
  if (s == "cuda" || s == "gpu") {
    r.kind = Cuda;
    return r;
  }
  if (s.starts_with("cuda:")) {
    r.kind = Cuda;
    try {
      size_t used = 0;
      r.index = std::stoi(s.substr(5), &used);
      if (used == s.size() - 5 && r.index >= 0) return r;
    } catch (...) {
    }
  }
  throw std::invalid_argument("unknown device '" + s + "' (use auto, cpu, cuda or cuda:N)");
}

std::string DeviceRequest::str() const {
  switch (kind) {
    case Auto:
      return "auto";
    case Cpu:
      return "cpu";
    default:
      return "cuda:" + std::to_string(index);
  }
}

// ---------------------------------------------------------------------------------------------------------------

std::string Options::parse_cudnn_conv_algo_search(const std::string& s) {
  std::string up;
  for (char c : s) up += char(std::toupper(static_cast<unsigned char>(c)));
  if (up == "HEURISTIC" || up == "EXHAUSTIVE" || up == "DEFAULT") return up;
  throw std::invalid_argument("unknown cuDNN algorithm search '" + s + "' (use heuristic, exhaustive or default)");
}

std::vector<std::string> nvidia_gpu_models(const std::string& root) {
  std::vector<std::string> dirs, models;
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(root + "/gpus", ec)) dirs.push_back(d.path().string());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs) {
    std::ifstream in(d + "/information");
    for (std::string line; std::getline(in, line);) {
      if (!line.starts_with("Model:")) continue;
      auto b = line.find_first_not_of(" \t", 6), e = line.find_last_not_of(" \t\r");
      if (b != std::string::npos) models.push_back(line.substr(b, e - b + 1));
      break;
    }
  }
  return models;
}

std::string nvidia_driver_version(const std::string& line) {
  // The first word made of digits and dots with at least one dot between digits ("580.159.04").
  std::istringstream words(line);
  for (std::string w; words >> w;) {
    bool digits_and_dots =
        std::all_of(w.begin(), w.end(), [](char c) { return std::isdigit((unsigned char)c) || c == '.'; });
    if (digits_and_dots && std::isdigit((unsigned char)w.front()) && std::isdigit((unsigned char)w.back()) &&
        w.find('.') != std::string::npos && w.find("..") == std::string::npos)
      return w;
  }
  return line;
}

namespace {
std::mutex live_mu;     // guards live_runtimes
int live_runtimes = 0;  // Runtime objects alive in this process
}  // namespace

Runtime::Runtime(Options opts) : opts_(std::move(opts)) {
  OrtThreadingOptions* topts = nullptr;
  Ort::ThrowOnError(Ort::GetApi().CreateThreadingOptions(&topts));
  int threads = opts_.threads > 0 ? opts_.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  Ort::ThrowOnError(Ort::GetApi().SetGlobalIntraOpNumThreads(topts, threads));
  Ort::ThrowOnError(Ort::GetApi().SetGlobalInterOpNumThreads(topts, 1));
  // One environment and one thread pool per process, shared by every session.
  env_ = std::make_unique<Ort::Env>(topts, ORT_LOGGING_LEVEL_ERROR, "darkroom");
  Ort::GetApi().ReleaseThreadingOptions(topts);
  // One memory arena on the CPU for every session, not one each: an arena keeps the largest blocks it was ever asked
  // for, so with one per model a process held the sum of every model's largest run (the text detector's, whose input
  // follows each photo's shape, the largest). Shared, the arena holds what the runs in flight together needed at most:
  // less memory, and it stops growing early in a long run (BENCHMARKS.md, "Long runs"). ONNX Runtime's environment is
  // one per process, and registering an arena replaces the one before for the sessions made after: a Runtime made while
  // another lives shares its arena.
  std::lock_guard lock(live_mu);
  if (live_runtimes++ > 0) return;
  try {
    env_->CreateAndRegisterAllocator(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault),
                                     Ort::ArenaCfg(0, -1, -1, -1));  // ONNX Runtime's defaults
  } catch (const Ort::Exception& e) {
    // Then each session makes an arena of its own, as before.
    spdlog::warn("no shared CPU memory arena for the models: {}", e.what());
  }
}

Runtime::~Runtime() {
  {
    std::lock_guard lock(live_mu);
    --live_runtimes;
  }
  sessions_.clear();
  cuda_devices_.clear();
}

namespace {

// Runtime::gpu_facts(), read.
GpuInfo read_gpu_facts(const Options& opts) {
  GpuInfo g;
  auto& req = opts.device;
  g.provider_library = !opts.cuda_provider.empty()
                           ? opts.cuda_provider
                           : (fs::path(ort_library_dir()) / "libonnxruntime_providers_cuda.so").string();
  std::string driver_line = read_first_line("/proc/driver/nvidia/version");
  if (!driver_line.empty()) g.driver = nvidia_driver_version(driver_line);
  if (req.kind == DeviceRequest::Cpu) {
    g.reason = "the CPU was requested (--device cpu)";
  } else if (fault("fake-gpu")) {
    g.usable = true;
    g.name = "fake GPU (test hook: sessions really run on the CPU)";
    g.driver = "test";
    g.provider_library = "(test hook)";
  } else if (req.kind == DeviceRequest::Auto && driver_line.empty() && !fs::exists("/dev/nvidia0")) {
    // --device auto on a machine without an NVIDIA driver: quietly the CPU, nothing loaded.
    g.reason = "no NVIDIA GPU found (no /proc/driver/nvidia/version)";
  } else if (!fs::exists(g.provider_library)) {
    g.reason = "the CUDA provider library " + g.provider_library +
               " does not exist; install it with scripts/setup.sh --gpu or pass --cuda-provider PATH";
  } else {
    g.usable = true;  // as far as can be told without loading the provider
    // The driver's name for it, when the list is unambiguous (one GPU, or all alike).
    auto models = nvidia_gpu_models();
    if (!models.empty() && std::all_of(models.begin(), models.end(), [&](auto& m) { return m == models[0]; }))
      g.name = models[0];
  }
  return g;
}

}  // namespace

const GpuInfo& Runtime::gpu_facts() {
  std::call_once(facts_once_, [this] { facts_ = read_gpu_facts(opts_); });
  return facts_;
}

const GpuInfo& Runtime::gpu() {
  std::lock_guard lock(mu_);
  if (gpu_) return *gpu_;
  auto& req = opts_.device;
  GpuInfo g = gpu_facts();
  if (g.usable && !fault("fake-gpu")) {
    g.usable = false;
    try {
      env_->RegisterExecutionProviderLibrary("darkroom_cuda", g.provider_library);
      for (auto& d : env_->GetEpDevices())
        if (std::string(d.EpName()) == kCuda) cuda_devices_.push_back(d);
      if (cuda_devices_.empty()) {
        g.reason = "the CUDA provider " + g.provider_library + " loaded but found no CUDA device";
      } else if (size_t(req.index) >= cuda_devices_.size()) {
        g.reason = "cuda:" + std::to_string(req.index) + " was requested but there are only " +
                   std::to_string(cuda_devices_.size()) + " CUDA devices";
      } else {
        g.usable = true;
        if (g.name.empty()) {  // no name from the driver: ONNX Runtime's (on Linux, often only the PCI device id)
          auto hw = cuda_devices_[size_t(req.index)].Device();
          std::ostringstream name;
          const char* vendor = hw.Vendor();
          name << (vendor && *vendor ? vendor : "NVIDIA") << " device 0x" << std::hex << hw.DeviceId();
          for (auto& [k, v] : hw.Metadata().GetKeyValuePairs())
            if (k == "Description" || k == "DeviceName" || k == "name") name.str(v);
          g.name = name.str();
        }
      }
    } catch (const Ort::Exception& e) {
      g.reason = "the CUDA provider library " + g.provider_library + " could not be loaded: " + e.what();
    }
  }
  // Said once per process; each model's placement repeats it for `doctor`. --device auto without a GPU is quiet.
  if (!g.usable && req.kind == DeviceRequest::Cuda) spdlog::warn("{}; models will run on the CPU", g.reason);
  gpu_ = g;
  return *gpu_;
}

Ort::SessionOptions Runtime::session_options(bool on_gpu) {
  Ort::SessionOptions so;
  so.DisablePerSessionThreads();  // the environment's pool
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  // On the CPU, no memory pattern: ONNX Runtime would plan one block for all of a run's tensors per input shape and
  // keep each in its arena, and photos come in many shapes (the text detector's input follows the photo's). Peak RSS
  // of `work` with every default model on 12-MP photos, two threads: 711-720 MB with patterns, 553-591 MB without,
  // at the same speed within the noise (BENCHMARKS.md, "Memory").
  if (!on_gpu) so.DisableMemPattern();
  if (!on_gpu) so.AddConfigEntry(kOrtSessionOptionsConfigUseEnvAllocators, "1");  // the shared arena (Runtime())
  // ONNX Runtime's own per-node timings, one JSON file per session (a file name prefix): for finding where time goes.
  if (const char* prefix = std::getenv("DARKROOM_ORT_PROFILE"); prefix && *prefix) so.EnableProfiling(prefix);
  if (on_gpu && !fault("fake-gpu")) {
    std::unordered_map<std::string, std::string> ep_options{{"cudnn_conv_algo_search", opts_.cudnn_conv_algo_search}};
    so.AppendExecutionProvider_V2(*env_, {cuda_devices_[size_t(opts_.device.index)]}, ep_options);
  }
  return so;
}

namespace {
constexpr uintmax_t kRewriteMaxBytes = 64u << 20;
}  // namespace

std::unique_ptr<Ort::Session> Runtime::make_session(const std::string& path, bool on_gpu, const Int8Ranges* int8,
                                                    bool* in_int8) {
  if (in_int8) *in_int8 = false;
  auto so = session_options(on_gpu);
  // Small models are read here and given the exact rewrites of graph_rewrite.h (large ones are dominated by matrix
  // products, and reading them twice would cost memory); the file is loaded as it is when nothing matches.
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (opts_.rewrite_graphs && !ec && size <= kRewriteMaxBytes) {
    std::ifstream in(path, std::ios::binary);
    std::string bytes(size, '\0');
    if (in.read(bytes.data(), std::streamsize(size))) {
      RewriteStats stats;
      if (auto rewritten = rewrite_graph(bytes, &stats, on_gpu ? nullptr : int8)) {
        spdlog::debug(
            "{}: rewritten ({} affine folds into the next convolution, {} into the previous one, {} left as depthwise "
            "convolutions, {} hard-swish; int8: {} convolutions, {} hard-swish)",
            path, stats.affine_into_next_conv, stats.affine_into_conv, stats.affine_depthwise, stats.hard_swish,
            stats.int8_convs, stats.int8_hard_swish);
        try {
          auto session = std::make_unique<Ort::Session>(*env_, rewritten->data(), rewritten->size(), so);
          if (in_int8) *in_int8 = stats.int8_convs + stats.int8_hard_swish > 0;
          return session;
        } catch (const Ort::Exception& e) {
          // A rewrite ONNX Runtime refuses is a bug here, not in the model: load the file as it is.
          spdlog::warn("{}: the rewritten graph did not load ({}); loading the model as it is", path, e.what());
        }
      }
    }
  }
  return std::make_unique<Ort::Session>(*env_, path.c_str(), so);
}

namespace {

// The probe input for a model: the manifest's probe_shape (or the model's own static shape) for each input.
nlohmann::json probe_spec(const ModelEntry& entry, Ort::Session& s) {
  nlohmann::json spec = {{"seed", 7}, {"inputs", nlohmann::json::array()}};
  Ort::AllocatorWithDefaultOptions alloc;
  for (size_t i = 0; i < s.GetInputCount(); ++i) {
    auto type_info = s.GetInputTypeInfo(i);  // owns what the shape info below points into
    auto info = type_info.GetTensorTypeAndShapeInfo();
    std::vector<int64_t> shape = info.GetShape();
    if (i == 0 && entry.input.contains("probe_shape")) shape = entry.input["probe_shape"].get<std::vector<int64_t>>();
    for (auto& d : shape)
      if (d < 0) d = 1;
    nlohmann::json in = {{"name", s.GetInputNameAllocated(i, alloc).get()}, {"shape", shape}};
    // A model that meets each photo's shape is also timed at a second one: its dynamic height and width 32 larger.
    if (i == 0 && entry.input.value("shape_varies", false)) {
      auto model_shape = info.GetShape();
      auto grown = shape;
      for (size_t d = 2; d < grown.size() && d < model_shape.size(); ++d)
        if (model_shape[d] < 0) grown[d] += 32;
      if (grown != shape) in["new_shape"] = grown;
    }
    if (info.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) in["int64"] = true;
    for (const char* k : {"scale", "mean", "std"})
      if (entry.input.contains(k)) in[k] = entry.input[k];
    spec["inputs"].push_back(in);
  }
  return spec;
}

// Runs a session on the probe input described by `spec` (made before the clock starts); returns its outputs, their
// names and the milliseconds of the run alone.
std::vector<Ort::Value> run_spec(Ort::Session& s, const nlohmann::json& spec, std::vector<std::string>& out_names,
                                 double& ms) {
  auto inputs = make_probe_input(spec);
  auto values = to_values(inputs);
  Ort::AllocatorWithDefaultOptions alloc;
  std::vector<std::string> in_names;
  out_names.clear();
  for (size_t i = 0; i < s.GetInputCount(); ++i) in_names.push_back(s.GetInputNameAllocated(i, alloc).get());
  for (size_t i = 0; i < s.GetOutputCount(); ++i) out_names.push_back(s.GetOutputNameAllocated(i, alloc).get());
  std::vector<const char*> ip, op;
  for (auto& n : in_names) ip.push_back(n.c_str());
  for (auto& n : out_names) op.push_back(n.c_str());
  auto t0 = std::chrono::steady_clock::now();
  auto outs = s.Run(Ort::RunOptions{nullptr}, ip.data(), values.data(), values.size(), op.data(), op.size());
  ms = ms_since(t0);
  return outs;
}

// The probe input's outputs flattened, and their names.
std::vector<std::vector<float>> run_probe_input(Ort::Session& s, const nlohmann::json& spec,
                                                std::vector<std::string>& out_names) {
  double ms = 0;
  auto outs = run_spec(s, spec, out_names, ms);
  return flatten(outs);
}

// The spec at its inputs' new shapes (probe_spec), or null when none has one.
nlohmann::json at_new_shape(const nlohmann::json& spec) {
  nlohmann::json r = spec;
  bool any = false;
  for (auto& in : r["inputs"])
    if (in.contains("new_shape")) {
      in["shape"] = in["new_shape"];
      any = true;
    }
  return any ? r : nlohmann::json();
}

// Milliseconds of one run of a session on the input described by `spec`.
double timed_run(Ort::Session& s, const nlohmann::json& spec) {
  std::vector<std::string> names;
  double ms = 0;
  run_spec(s, spec, names, ms);
  return ms;
}

// After a first run at the probe's input: the best of three more there, and the first run at the new shape (when
// the spec has one): the session's half of ProbeTimes, as {steady, new_shape}.
std::pair<double, double> time_probe(Ort::Session& s, const nlohmann::json& spec) {
  double best = timed_run(s, spec);
  for (int k = 0; k < 2; ++k) best = std::min(best, timed_run(s, spec));
  auto grown = at_new_shape(spec);
  return {best, grown.is_null() ? -1.0 : timed_run(s, grown)};
}

nlohmann::json times_json(const ProbeTimes& t) {
  return {{"gpu_ms", t.gpu_ms},
          {"cpu_ms", t.cpu_ms},
          {"cpu_share", t.cpu_share},
          {"gpu_new_shape_ms", t.gpu_new_shape_ms},
          {"cpu_new_shape_ms", t.cpu_new_shape_ms}};
}

ProbeTimes times_from_json(const nlohmann::json& j) {
  ProbeTimes t;
  if (!j.is_object()) return t;
  t.gpu_ms = j.value("gpu_ms", -1.0);
  t.cpu_ms = j.value("cpu_ms", -1.0);
  t.cpu_share = j.value("cpu_share", 1.0);
  t.gpu_new_shape_ms = j.value("gpu_new_shape_ms", -1.0);
  t.cpu_new_shape_ms = j.value("cpu_new_shape_ms", -1.0);
  return t;
}

// The probe ran the model as loaded: rewritten (graph_rewrite.h, this version of it) or as it is.
constexpr const char* kRewriteVersion = "rewrite-2";

std::string cache_key(const ModelEntry& entry, const std::string& sha256, const GpuInfo& g, const Options& o) {
  struct stat st {};
  stat(g.provider_library.c_str(), &st);
  std::ostringstream k;
  k << entry.id << "|" << sha256 << "|" << g.provider_library << "|" << st.st_size << "|" << st.st_mtim.tv_sec << "|"
    << g.name << "|" << g.driver << "|" << (o.rewrite_graphs ? kRewriteVersion : "as-is") << "|"
    << o.cudnn_conv_algo_search << "|threads " << o.threads;  // the CPU's timing depends on its threads
  return k.str();
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(in);
  } catch (...) {
    return nlohmann::json::object();
  }
}

}  // namespace

Placement Runtime::place(const ModelEntry& entry, const std::string& path, const std::string& sha256) {
  Placement p;
  // What can be told without loading the CUDA provider (230 MB, and CUDA's start): a cached verdict that keeps this
  // model on the CPU needs no more.
  const GpuInfo& facts = gpu_facts();
  bool wanted =
      opts_.device.kind == DeviceRequest::Cuda ||
      (opts_.device.kind == DeviceRequest::Auto && (facts.usable || !facts.reason.starts_with("no NVIDIA GPU")));
  p.provider_requested = wanted ? kCuda : kCpu;
  p.provider = kCpu;
  if (!wanted) return p;
  // Looks for the GPU (loading the provider); when there is none usable, puts the reason (said once by gpu()) in p.
  auto unusable = [&] {
    const GpuInfo& g = gpu();
    if (g.usable) return false;
    p.fallback_reason = g.reason;
    p.gpu_unusable = true;
    return true;
  };
  // Under --device auto, a model the GPU does not run fast enough (gpu_slower(), from p.times) stays on the CPU.
  auto left_on_cpu_for_speed = [&](const char* note) {
    if (opts_.device.kind != DeviceRequest::Auto) return false;
    auto slower = gpu_slower(entry.id, p.times);
    if (slower.empty()) return false;
    p.fallback_reason = slower + "; using the CPU for this model" + note;
    p.gpu_slower = true;
    return true;
  };
  if (!facts.usable) {
    unusable();  // nothing is loaded when the facts rule the GPU out
    return p;
  }
  // A verdict for this (model, provider library, GPU, driver) from an earlier run?
  std::string key = cache_key(entry, sha256, facts, opts_);
  if (!opts_.probe_cache.empty()) {
    auto cache = read_json_file(opts_.probe_cache);
    if (cache.contains(key)) {
      p.probe_cached = true;
      auto& v = cache[key];
      p.times = times_from_json(v.value("times", nlohmann::json()));
      if (!v.value("ok", false)) {
        p.fallback_reason = v.value("reason", "the GPU probe failed") + " (verdict cached)";
      } else if (!left_on_cpu_for_speed(" (verdict cached; --device cuda takes the GPU)") && !unusable()) {
        p.provider = kCuda;
      }
      return p;
    }
  }
  if (unusable()) return p;
  const GpuInfo& g = gpu();
  auto t0 = std::chrono::steady_clock::now();
  std::string reason;
  try {
    // The CPU's answer on the representative input, here; the GPU's in a child process.
    auto cpu = make_session(path, false);
    auto spec = probe_spec(entry, *cpu);
    std::vector<std::string> out_names;
    auto cpu_out = run_probe_input(*cpu, spec, out_names);
    std::tie(p.times.cpu_ms, p.times.cpu_new_shape_ms) = time_probe(*cpu, spec);
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    p.times.cpu_share = opts_.threads > 0 ? std::min(1.0, double(opts_.threads) / cores) : 1.0;

    std::string out_path = (fs::temp_directory_path() / ("darkroom-probe-" + std::to_string(getpid()) + "-" +
                                                         std::to_string(t0.time_since_epoch().count())))
                               .string();
    std::string exe = opts_.self_exe.empty() ? util::self_exe() : opts_.self_exe;
    auto r = util::run_process(
        {exe, "__probe", "--model", path, "--input", spec.dump(), "--device",
         opts_.device.kind == DeviceRequest::Cuda ? opts_.device.str() : "cuda:0", "--provider-lib", g.provider_library,
         "--out", out_path, "--rewrite", opts_.rewrite_graphs ? "1" : "0", "--cudnn-algo-search",
         opts_.cudnn_conv_algo_search, "--threads", std::to_string(opts_.threads)},
        opts_.probe_timeout_ms);
    std::vector<std::vector<float>> gpu_out;
    if (!r.ok()) {
      std::string err = r.err;
      while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
      if (auto nl = err.rfind('\n'); nl != std::string::npos) err = err.substr(nl + 1);
      reason = "the CUDA probe of " + entry.id + " failed (" + r.describe(opts_.probe_timeout_ms) +
               (err.empty() ? "" : ": " + err) + ")";
    } else if (!read_outputs(out_path, gpu_out)) {
      reason = "the CUDA probe of " + entry.id + " wrote no readable outputs";
    } else if (auto diff = compare_outputs(cpu_out, gpu_out, out_names); !diff.empty()) {
      reason = "the CUDA probe of " + entry.id + " gave " + diff;
    } else {
      auto gpu_times = times_from_json(read_json_file(out_path + ".times"));
      p.times.gpu_ms = gpu_times.gpu_ms;
      p.times.gpu_new_shape_ms = gpu_times.gpu_new_shape_ms;
    }
    std::error_code ec;
    fs::remove(out_path, ec);
    fs::remove(out_path + ".times", ec);
  } catch (const Ort::Exception& e) {
    reason = "the CPU reference run of " + entry.id + " failed during the probe: " + e.what();
  }
  p.probe_ms = ms_since(t0);
  if (!reason.empty()) {
    p.fallback_reason = reason + "; using the CPU for this model";
  } else if (!left_on_cpu_for_speed(" (--device cuda takes the GPU)")) {
    p.provider = kCuda;
  }
  if (!opts_.probe_cache.empty()) {
    auto cache = read_json_file(opts_.probe_cache);
    cache[key] = {{"ok", reason.empty()}, {"reason", reason}, {"times", times_json(p.times)}};
    std::string tmp = opts_.probe_cache + ".tmp." + std::to_string(getpid());
    std::error_code ec;
    fs::create_directories(fs::path(opts_.probe_cache).parent_path(), ec);
    {
      std::ofstream out(tmp);
      out << cache.dump(1);
    }
    fs::rename(tmp, opts_.probe_cache, ec);
  }
  return p;
}

std::shared_ptr<const Int8Ranges> int8_ranges(const ModelEntry& entry) {
  const auto& raw = entry.raw;
  if (!raw.is_object() || !raw.contains("int8") || !raw["int8"].is_object() || !raw["int8"].contains("ranges") ||
      !raw["int8"]["ranges"].is_object())
    return nullptr;
  auto r = std::make_shared<Int8Ranges>();
  for (const auto& [name, v] : raw["int8"]["ranges"].items()) {
    if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
      throw ModelError("the manifest entry " + entry.id + " has an int8 range for " + name +
                       " that is not [lowest, highest]");
    (*r)[name] = {v[0].get<float>(), v[1].get<float>()};
  }
  return r;
}

std::shared_ptr<Session> Runtime::open(const ModelEntry& entry, const std::string& path, const std::string& sha256) {
  {
    std::lock_guard lock(mu_);
    for (auto& [id, s] : sessions_)
      if (id == entry.id) return s;
  }
  auto s = std::shared_ptr<Session>(new Session());
  s->rt_ = this;
  s->id_ = entry.id;
  s->sha256_ = sha256;
  s->path_ = path;
  if (opts_.int8) s->int8_ = int8_ranges(entry);  // read only when they will be used
  Placement p = place(entry, path, sha256);
  if (p.fallback_reason && p.gpu_slower)
    spdlog::info("{}", *p.fallback_reason);       // a choice, not a failure
  else if (p.fallback_reason && !p.gpu_unusable)  // the GPU's own reason is said once, by gpu()
    spdlog::warn("{}", *p.fallback_reason);
  auto t0 = std::chrono::steady_clock::now();
  if (p.provider == kCuda) {
    try {
      s->gpu_ = make_session(path, true);
      s->on_gpu_ = true;
    } catch (const Ort::Exception& e) {
      p.provider = kCpu;
      p.fallback_reason =
          "the CUDA session of " + entry.id + " could not be created (" + e.what() + "); using the CPU for this model";
      spdlog::warn("{}", *p.fallback_reason);
    }
  }
  if (!s->on_gpu_) {
    try {
      s->cpu_ = make_session(path, false, s->int8_.get(), &s->cpu_int8_);
    } catch (const Ort::Exception& e) {
      throw ModelError("the model " + path + " (" + entry.id + ") cannot be loaded by ONNX Runtime: " + e.what());
    }
  }
  p.load_ms = ms_since(t0);
  s->placement_ = p;
  Ort::Session& live = s->on_gpu_ ? *s->gpu_ : *s->cpu_;
  Ort::AllocatorWithDefaultOptions alloc;
  for (size_t i = 0; i < live.GetInputCount(); ++i) s->in_names_.push_back(live.GetInputNameAllocated(i, alloc).get());
  for (size_t i = 0; i < live.GetOutputCount(); ++i)
    s->out_names_.push_back(live.GetOutputNameAllocated(i, alloc).get());
  std::lock_guard lock(mu_);
  for (auto& [id, existing] : sessions_)
    if (id == entry.id) return existing;  // another thread was quicker
  sessions_.emplace_back(entry.id, s);
  return s;
}

int Runtime::probe_child(const std::string& model_path, const std::string& input_json, const std::string& device,
                         const std::string& provider_lib, const std::string& out_path, Options settings) {
  try {
    if (fault("probe-crash")) std::raise(SIGSEGV);
    if (fault("probe-hang")) std::this_thread::sleep_for(std::chrono::hours(1));
    Options o = std::move(settings);
    o.device = DeviceRequest::parse(device);
    o.cuda_provider = provider_lib;
    Runtime rt(o);
    const GpuInfo& g = rt.gpu();
    if (!g.usable) {
      std::fprintf(stderr, "%s\n", g.reason.c_str());
      return 3;
    }
    auto s = rt.make_session(model_path, true);
    std::vector<std::string> out_names;
    auto spec = nlohmann::json::parse(input_json);
    auto flat = run_probe_input(*s, spec, out_names);
    if (fault("probe-wrong"))
      for (auto& o : flat)
        for (auto& v : o) v = v * 1.5f + 1.0f;
    write_outputs(out_path, flat);
    ProbeTimes t;
    std::tie(t.gpu_ms, t.gpu_new_shape_ms) = time_probe(*s, spec);
    if (fault("fake-gpu")) {  // it ran on the CPU: make it a fast GPU or, for tests, a slow one
      double f = fault("gpu-slow") ? 100 : 0.01;
      t.gpu_ms *= f;
      t.gpu_new_shape_ms *= fault("gpu-slow-new-shape") ? 100 : f;
    }
    std::ofstream(out_path + ".times") << times_json(t).dump();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 4;
  }
}

// ---------------------------------------------------------------------------------------------------------------

std::vector<int64_t> Session::input_shape(size_t i) const {
  std::lock_guard lock(mu_);
  Ort::Session& s = on_gpu_ ? *gpu_ : *cpu_;
  return s.GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape();
}

std::vector<int64_t> Session::output_shape(size_t i) const {
  std::lock_guard lock(mu_);
  Ort::Session& s = on_gpu_ ? *gpu_ : *cpu_;
  return s.GetOutputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape();
}

ONNXTensorElementDataType Session::input_type(size_t i) const {
  std::lock_guard lock(mu_);
  Ort::Session& s = on_gpu_ ? *gpu_ : *cpu_;
  return s.GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetElementType();
}

Placement Session::placement() const {
  std::lock_guard lock(mu_);
  return placement_;
}

bool Session::on_gpu() const { return on_gpu_; }  // an atomic: asked before every run, no lock needed

std::string gpu_slower(const std::string& model_id, const ProbeTimes& t) {
  auto ms = [](double v) {
    std::ostringstream s;
    s.precision(v < 10 ? 2 : 0);
    s << std::fixed << v << " ms";
    return s.str();
  };
  const double share = t.cpu_share > 0 && t.cpu_share < 1 ? t.cpu_share : 1.0;
  // "the CPU's 3.47 ms" or, on part of the cores, "the CPU's 12 ms on 6% of its cores (0.75 ms with all busy)"
  auto cpu = [&](double v) {
    if (share == 1.0) return "the CPU's " + ms(v);
    std::ostringstream s;
    s << "the CPU's " << ms(v) << " on " << std::lround(share * 100) << "% of its cores (" << ms(v * share)
      << " with all busy)";
    return s.str();
  };
  if (t.gpu_ms >= 0 && t.cpu_ms >= 0 && t.gpu_ms * kGpuMinGain > t.cpu_ms * share)
    return "the GPU ran " + model_id + " in " + ms(t.gpu_ms) + " a run against " + cpu(t.cpu_ms) +
           " in its probe, less than the 2x gain that pays for its first runs on each thread and input shape";
  if (t.gpu_new_shape_ms >= 0 && t.cpu_new_shape_ms >= 0 &&
      t.gpu_new_shape_ms * kGpuMinGain > t.cpu_new_shape_ms * share)
    return "the GPU ran " + model_id + " at a new input shape in " + ms(t.gpu_new_shape_ms) + " against " +
           cpu(t.cpu_new_shape_ms) + ", less than a 2x gain, and this model meets each photo's shape";
  return {};
}

size_t gpu_batch(size_t n, size_t most) {
  size_t b = 1;
  while (b < n && b < most) b *= 2;
  return std::max(std::min(b, most), n);
}

std::optional<Session::ArenaStats> Session::cpu_arena() const {
  std::lock_guard lock(mu_);
  if (!cpu_) return std::nullopt;
  auto stats = Ort::Allocator(*cpu_, Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault)).GetStats();
  auto count = [&](const char* key) -> uint64_t {
    const char* v = stats.GetValue(key);
    return v ? std::strtoull(v, nullptr, 10) : 0;
  };
  return ArenaStats{count("TotalAllocated"), count("InUse"), count("MaxInUse"), count("NumAllocs")};
}

bool Session::int8() const {
  std::lock_guard lock(mu_);
  return !on_gpu_ && cpu_int8_;
}

std::vector<Ort::Value> Session::run_on(Ort::Session& s, std::vector<Ort::Value>& inputs) {
  std::vector<const char*> ip, op;
  for (auto& n : in_names_) ip.push_back(n.c_str());
  for (auto& n : out_names_) op.push_back(n.c_str());
  if (inputs.size() != ip.size())
    throw std::invalid_argument(id_ + " takes " + std::to_string(ip.size()) + " inputs, " +
                                std::to_string(inputs.size()) + " given");
  return s.Run(Ort::RunOptions{nullptr}, ip.data(), inputs.data(), inputs.size(), op.data(), op.size());
}

void Session::demote(const std::string& reason) {
  std::lock_guard lock(mu_);
  if (!on_gpu_) return;
  if (!cpu_) cpu_ = rt_->make_session(path_, false, int8_.get(), &cpu_int8_);
  on_gpu_ = false;
  placement_.provider = kCpu;
  placement_.fallback_reason = reason;
  spdlog::warn("{}", reason);
}

std::vector<Ort::Value> Session::run(std::vector<Ort::Value>& inputs) {
  if (on_gpu_) {
    try {
      if (fault("gpu-run-error")) throw Ort::Exception("injected GPU run error (test hook)", ORT_FAIL);
      return run_on(*gpu_, inputs);
    } catch (const Ort::Exception& e) {
      demote("the CUDA run of " + id_ + " failed (" + e.what() + "); re-ran it on the CPU and moved " + id_ +
             " to the CPU for the rest of this process");
    }
  }
  Ort::Session* cpu;
  {
    std::lock_guard lock(mu_);
    cpu = cpu_.get();
  }
  return run_on(*cpu, inputs);
}

}  // namespace dr::runtime
