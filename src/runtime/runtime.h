// ONNX Runtime for darkroom: one environment per process, one session per model shared by all threads, and the
// device choice. A model earns the GPU with a probe run in a child process (a provider can kill the process that
// runs it); anything that goes wrong puts that model, and only that model, on the CPU, with the reason kept.
#pragma once
#include <onnxruntime_cxx_api.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/graph_rewrite.h"
#include "runtime/model_store.h"

namespace dr::runtime {

struct DeviceRequest {
  enum Kind { Auto, Cpu, Cuda } kind = Auto;
  int index = 0;
  // "auto", "cpu", "cuda", "cuda:N"; throws std::invalid_argument with a sentence otherwise.
  static DeviceRequest parse(const std::string& s);
  std::string str() const;
};

struct Options {
  DeviceRequest device;
  int threads = 0;            // intra-op threads per session; 0 = all cores
  std::string cuda_provider;  // path of libonnxruntime_providers_cuda.so; empty = beside libonnxruntime
  std::string probe_cache;    // file that keeps probe verdicts; empty = none
  int probe_timeout_ms = 120000;
  std::string self_exe;        // the darkroom binary, spawned for probes; empty = /proc/self/exe
  bool rewrite_graphs = true;  // apply graph_rewrite.h's exact rewrites to models of up to 64 MiB
  // On the CPU, run models whose manifest entry has calibrated int8 ranges in int8 (graph_rewrite.h); needs
  // rewrite_graphs. Off by default: the int8 recognizer is twice as fast but reads some test pages worse
  // (BENCHMARKS.md, "Text").
  bool int8 = false;
  // cuDNN's convolution algorithm choice on the GPU: "HEURISTIC" (cuDNN's own ranking, at once), "EXHAUSTIVE" (ONNX
  // Runtime's default: every algorithm timed for every new input shape, seconds each for the detectors, whose shape
  // follows the photo's), or "DEFAULT" (one fixed algorithm). BENCHMARKS.md, "The GPU path", has the figures.
  std::string cudnn_conv_algo_search = "HEURISTIC";
  // Check a cudnn_conv_algo_search value; throws std::invalid_argument with a sentence otherwise.
  static std::string parse_cudnn_conv_algo_search(const std::string& s);
};

// The GPU models the NVIDIA driver lists in <root>/gpus/*/information ("Model: NVIDIA H200"), in the order of the
// folders' names (PCI addresses); empty without the driver. ONNX Runtime's device entry has no name on Linux.
std::vector<std::string> nvidia_gpu_models(const std::string& root = "/proc/driver/nvidia");
// The version number in the driver's version line ("NVRM version: NVIDIA UNIX ... Kernel Module  580.159.04  ..."),
// or the line itself when it holds none.
std::string nvidia_driver_version(const std::string& version_line);

// What was found of the GPU side, for `doctor`.
struct GpuInfo {
  bool usable = false;           // a CUDA device is registered and may be probed
  std::string name, driver;      // when known
  std::string provider_library;  // the path tried
  std::string reason;            // why not usable (empty when usable)
};

// What a model's probe timed, in ms (negative: not timed): a run at the probe's input once warm, on the GPU (in the
// probe child) and on the CPU (the parent's reference session, Options::threads, float); and, for a model whose input
// shape follows each photo's (its manifest input says "shape_varies": true: the text detector), the first run at a
// second, larger shape, which on the GPU includes preparing every convolution for it.
struct ProbeTimes {
  double gpu_ms = -1, cpu_ms = -1;
  double gpu_new_shape_ms = -1, cpu_new_shape_ms = -1;
  // The share of the cores a CPU run had (Options::threads / cores): `darkroom work` gives each of its workers'
  // sessions one thread, so with every core busy the CPU makes cores / threads runs in the time of one, where the one
  // GPU is shared by all the workers.
  double cpu_share = 1;
};

// Why --device auto leaves a model that passed its probe on the CPU: the GPU did not run it at least twice as fast as
// the CPU with every core busy (cpu_ms x cpu_share) at a shape it had seen or, for a model that meets each photo's
// shape, at a new shape. Empty when it did or
// nothing was timed. Twice, because the probe's runs, one thread at a time, do not show what a GPU costs in use: on
// an H200 ONNX Runtime's CUDA provider took about 0.5 s for the face detector's first run on each of `analyze`'s
// worker threads, and a model 1.1 to 1.5 times faster there in its probe left `darkroom work` 7 times slower than the
// CPU (BENCHMARKS.md, "The GPU path").
std::string gpu_slower(const std::string& model_id, const ProbeTimes& t);

// How one model ended up placed.
struct Placement {
  std::string provider_requested;  // "CPUExecutionProvider" or "CUDAExecutionProvider"
  std::string provider;            // what runs it now
  std::optional<std::string> fallback_reason;
  double load_ms = 0, probe_ms = 0;
  bool probe_cached = false;
  ProbeTimes times;           // when probed (or its verdict cached)
  bool gpu_slower = false;    // on the CPU by choice (--device auto, gpu_slower()), not for a failure
  bool gpu_unusable = false;  // on the CPU because there is no usable GPU (GpuInfo::reason, said once)
};

class Runtime;

// The batch to run n items in on a GPU: the next power of two, at most `most` (n itself when n is larger), so that
// a model meets a handful of batch shapes.
size_t gpu_batch(size_t n, size_t most);

// One loaded model. run() is thread-safe (ONNX Runtime sessions are).
class Session {
 public:
  const std::string& model_id() const { return id_; }
  const std::string& sha256() const { return sha256_; }
  const std::vector<std::string>& input_names() const { return in_names_; }
  const std::vector<std::string>& output_names() const { return out_names_; }
  std::vector<int64_t> input_shape(size_t i) const;  // -1 for dynamic dimensions
  std::vector<int64_t> output_shape(size_t i) const;
  ONNXTensorElementDataType input_type(size_t i) const;
  Placement placement() const;
  // Whether its inferences run in int8 now (Options::int8, calibrated ranges, the CPU): results a little different
  // from the float model's, which a task records with them (analyzers::ModelRef::variant).
  bool int8() const;
  // Whether its inferences run on the GPU now. ONNX Runtime's CUDA provider prepares its convolutions for each new
  // input shape (on an H200, 0.1 to 1.7 s per shape for the face and text detectors against 3 to 6 ms a run at a
  // shape seen before), so a caller there feeds few shapes where that keeps its results: the face detector's fixed
  // canvas, batches padded to gpu_batch(). BENCHMARKS.md, "The GPU path".
  bool on_gpu() const;

  // The counters of the memory arena its CPU runs draw from, which every CPU session of the process shares (see
  // Runtime()); nullopt while it has no CPU session.
  struct ArenaStats {
    uint64_t reserved = 0;     // bytes the arena holds from the system
    uint64_t in_use = 0;       // of them, handed out now
    uint64_t most_in_use = 0;  // the most ever handed out at once
    uint64_t allocations = 0;  // blocks handed out so far
  };
  std::optional<ArenaStats> cpu_arena() const;

  // Runs with inputs in input_names() order; returns every output in output_names() order. An error on the GPU
  // re-runs this inference on the CPU and moves the model to the CPU for good (logged once).
  std::vector<Ort::Value> run(std::vector<Ort::Value>& inputs);

 private:
  friend class Runtime;
  Session() = default;
  std::vector<Ort::Value> run_on(Ort::Session& s, std::vector<Ort::Value>& inputs);
  void demote(const std::string& reason);

  Runtime* rt_ = nullptr;
  std::string id_, sha256_, path_;
  std::shared_ptr<const Int8Ranges> int8_;  // the manifest's calibrated ranges, when Options::int8 is on
  std::unique_ptr<Ort::Session> cpu_;       // always created when the model runs on the CPU; lazily otherwise
  bool cpu_int8_ = false;                   // cpu_ has int8 nodes
  std::unique_ptr<Ort::Session> gpu_;       // only when the probe passed
  std::atomic<bool> on_gpu_{false};
  mutable std::mutex mu_;
  Placement placement_;
  std::vector<std::string> in_names_, out_names_;
};

class Runtime {
 public:
  explicit Runtime(Options opts);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const Options& options() const { return opts_; }
  Ort::Env& env() { return *env_; }
  // Looks for the GPU side once (quietly and quickly for --device auto on a machine without one), loading the CUDA
  // provider when there is one. Models whose cached verdicts keep them on the CPU do not call it.
  const GpuInfo& gpu();
  // Whether gpu() has run in this process.
  bool gpu_looked_for() {
    std::lock_guard lock(mu_);
    return gpu_.has_value();
  }

  // Loads a model from its verified file. The same (id) returns the same session.
  std::shared_ptr<Session> open(const ModelEntry& entry, const std::string& path, const std::string& sha256);

  // The hidden `darkroom __probe` child: loads the model on the requested device, runs the representative input,
  // writes the outputs to out_path and its timings (ProbeTimes' GPU half, JSON) to out_path + ".times". Returns the
  // process exit status. `settings` gives the parent's threads, rewrite_graphs and cudnn_conv_algo_search (the rest
  // is set here).
  static int probe_child(const std::string& model_path, const std::string& input_json, const std::string& device,
                         const std::string& provider_lib, const std::string& out_path, Options settings);

 private:
  friend class Session;
  // gpu() without loading anything: the reasons that rule the GPU out before the provider is loaded, the provider
  // library, the driver's version and its name for the GPU; `usable` means "may be", pending the load. Read once
  // (from /proc and the file system), then kept: every model's placement asks.
  const GpuInfo& gpu_facts();
  Ort::SessionOptions session_options(bool gpu);
  // `int8`: calibrated ranges, used on the CPU only (ONNX Runtime's CUDA provider has no kernels for QLinear nodes);
  // `in_int8`, when given, says whether the session got int8 nodes.
  std::unique_ptr<Ort::Session> make_session(const std::string& path, bool gpu, const Int8Ranges* int8 = nullptr,
                                             bool* in_int8 = nullptr);
  Placement place(const ModelEntry& entry, const std::string& path, const std::string& sha256);

  Options opts_;
  std::unique_ptr<Ort::Env> env_;
  std::mutex mu_;
  std::optional<GpuInfo> gpu_;
  std::once_flag facts_once_;
  GpuInfo facts_;  // gpu_facts(), once facts_once_ has run
  std::vector<Ort::ConstEpDevice> cuda_devices_;
  std::vector<std::pair<std::string, std::shared_ptr<Session>>> sessions_;
};

// The calibrated int8 ranges of a manifest entry ("int8": {"ranges": {tensor: [lowest, highest]}}), or null when it
// has none; throws ModelError when they are malformed.
std::shared_ptr<const Int8Ranges> int8_ranges(const ModelEntry& entry);

// The fault-injection switches of test builds (DARKROOM_TEST_HOOKS): $DARKROOM_FAULT is a comma-separated list of
// "fake-gpu" (pretend a CUDA device exists; its sessions really run on the CPU), "probe-crash" (the probe child
// dies of SIGSEGV), "probe-wrong" (the probe child returns wrong numbers), "probe-hang" (it never answers) and
// "gpu-run-error" (every run on the fake GPU fails). The fake GPU's probe reports its timings divided by 100 (a fast
// GPU), or multiplied by 100 with "gpu-slow", or only its run at a new shape multiplied with "gpu-slow-new-shape".
// Always false in other builds.
bool fault(const char* name);

}  // namespace dr::runtime
