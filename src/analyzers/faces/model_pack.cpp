#include "analyzers/faces/model_pack.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace dr::analyzers::faces {
namespace {

struct Shapes {
  std::vector<std::vector<int64_t>> in, out;
};

bool is_image_input(const std::vector<int64_t>& s) { return s.size() == 4 && s[1] == 3; }

// Input and output shapes as a run shows them: exports often leave output dimensions symbolic (SCRFD's are [-1,-1]),
// so a model with one image input runs once on a small black image (its fixed size, else 160x160) and the actual
// output shapes are read.
Shapes read_shapes(Ort::Env& env, const std::string& path) {
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(1);
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_DISABLE_ALL);
  Ort::Session s(env, path.c_str(), so);
  Shapes sh;
  for (size_t i = 0; i < s.GetInputCount(); i++)
    sh.in.push_back(s.GetInputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape());
  for (size_t i = 0; i < s.GetOutputCount(); i++)
    sh.out.push_back(s.GetOutputTypeInfo(i).GetTensorTypeAndShapeInfo().GetShape());
  if (sh.in.size() != 1 || !is_image_input(sh.in[0]) ||
      s.GetInputTypeInfo(0).GetTensorTypeAndShapeInfo().GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
    return sh;
  std::vector<int64_t> dims = sh.in[0];
  dims[0] = 1;
  for (int k : {2, 3})
    if (dims[k] <= 0) dims[k] = 160;
  std::vector<float> zeros(size_t(3 * dims[2] * dims[3]), 0.f);
  auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  Ort::Value input = Ort::Value::CreateTensor<float>(mem, zeros.data(), zeros.size(), dims.data(), dims.size());
  Ort::AllocatorWithDefaultOptions alloc;
  std::string in_name = s.GetInputNameAllocated(0, alloc).get();
  std::vector<std::string> out_names;
  for (size_t i = 0; i < s.GetOutputCount(); i++) out_names.push_back(s.GetOutputNameAllocated(i, alloc).get());
  const char* in_c = in_name.c_str();
  std::vector<const char*> out_c;
  for (auto& n : out_names) out_c.push_back(n.c_str());
  auto outs = s.Run(Ort::RunOptions{nullptr}, &in_c, &input, 1, out_c.data(), out_c.size());
  for (size_t i = 0; i < outs.size(); i++) sh.out[i] = outs[i].GetTensorTypeAndShapeInfo().GetShape();
  return sh;
}

// "" when it is an SCRFD-layout detector with landmarks, else why not.
std::string detector_mismatch(const Shapes& sh) {
  if (sh.in.size() != 1 || !is_image_input(sh.in[0])) return "not one [N,3,H,W] input";
  size_t n1 = 0, n4 = 0, n10 = 0;
  for (auto& o : sh.out) {
    int64_t last = o.empty() ? 0 : o.back();
    if (last == 1) n1++;
    else if (last == 4) n4++;
    else if (last == 10) n10++;
    else return "an output whose last dimension is " + std::to_string(last);
  }
  if (n1 < 2 || n1 != n4) return "not a score and a box output for each stride";
  if (n10 != n1) return "a detector without five-point landmarks, which alignment needs";
  return "";
}

// The embedding size when it is a 112x112 recogniser, else 0.
int64_t recognizer_dim(const Shapes& sh) {
  if (sh.in.size() != 1 || sh.out.size() != 1) return 0;
  auto& in = sh.in[0];
  auto& out = sh.out[0];
  if (!is_image_input(in) || in[2] != 112 || in[3] != 112) return 0;
  if (out.size() != 2 || out[1] < 64) return 0;
  return out[1];
}

}  // namespace

ModelPack scan_model_pack(const std::string& dir, Ort::Env& env) {
  ModelPack pack;
  pack.dir = fs::absolute(dir).lexically_normal().string();
  std::error_code ec;
  if (!fs::is_directory(pack.dir, ec))
    throw runtime::ModelError("the face model pack " + pack.dir + " is not a folder; point the setting at a folder " +
                              "such as ~/.insightface/models/buffalo_l");
  std::vector<fs::path> files;
  for (auto& de : fs::directory_iterator(pack.dir, ec))
    if (de.path().extension() == ".onnx") files.push_back(de.path());
  if (ec) throw runtime::ModelError("cannot read the face model pack " + pack.dir + ": " + ec.message());
  std::sort(files.begin(), files.end());

  // The model store's sha256 check, with its per-folder memo of (size, mtime) -> sha256.
  runtime::ModelStore memo(pack.dir, runtime::Manifest{});
  for (auto& p : files) {
    const std::string name = p.filename().string();
    Shapes sh;
    try {
      sh = read_shapes(env, p.string());
    } catch (const std::exception& e) {
      pack.skipped.push_back(name + ": cannot be loaded (" + std::string(e.what()) + ")");
      continue;
    }
    std::string why = detector_mismatch(sh);
    int64_t dim = recognizer_dim(sh);
    if (!why.empty() && dim == 0) {
      pack.skipped.push_back(name + ": neither an SCRFD detector (" + why + ") nor a 112x112 recogniser");
      continue;
    }
    auto& slot = why.empty() ? pack.detector : pack.recognizer;
    if (slot) {
      pack.skipped.push_back(name + ": another " + std::string(why.empty() ? "detector" : "recogniser") + ", " +
                             fs::path(slot->path).filename().string() + ", comes first");
      continue;
    }
    runtime::ModelFile mf;
    mf.name = "model";
    mf.path = name;
    auto check = memo.check(mf);
    if (!check.present || check.actual_sha256.empty()) {
      pack.skipped.push_back(name + ": cannot be read");
      continue;
    }
    PackModel m;
    m.path = check.path;
    m.sha256 = check.actual_sha256;
    mf.sha256 = m.sha256;
    mf.path = m.path;
    mf.size = fs::file_size(p, ec);
    auto& e = m.entry;
    e.task = "faces";
    e.licence = "InsightFace model pack at " + pack.dir + " (InsightFace's pretrained weights: non-commercial)";
    e.files = {mf};
    const std::string tag = "pack-" + m.sha256.substr(0, 12);
    if (why.empty()) {
      e.id = "face-detector/" + tag;
      e.role = "detector";
      e.family = "scrfd";
      e.input = {{"layout", "NCHW"}, {"colour", "RGB"},           {"scale", 1.0},    {"mean", {127.5, 127.5, 127.5}},
                 {"std", {128, 128, 128}}, {"multiple", 32}, {"dynamic", true}, {"probe_shape", {1, 3, 640, 640}}};
    } else {
      e.id = "face-embedder/" + tag;
      e.role = "embedder";
      e.family = "arcface";
      e.input = {{"layout", "NCHW"},
                 {"colour", "RGB"},
                 {"scale", 1.0},
                 {"mean", {127.5, 127.5, 127.5}},
                 {"std", {127.5, 127.5, 127.5}},
                 {"size", {112, 112}},
                 {"probe_shape", {1, 3, 112, 112}}};
      e.raw["output"] = {{"dim", dim}, {"normalise", "l2"}};
    }
    e.raw["id"] = e.id;
    e.raw["input"] = e.input;
    slot = std::move(m);
  }
  if (!pack.detector && !pack.recognizer)
    throw runtime::ModelError("the face model pack " + pack.dir + " holds no SCRFD detector and no 112x112 " +
                              "recogniser (" + std::to_string(files.size()) + " .onnx files looked at)");
  return pack;
}

}  // namespace dr::analyzers::faces
