#include "analyzers/clip/clip_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>

#include "util/sha256.h"

namespace fs = std::filesystem;

namespace dr::analyzers::clip {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + (s[i] < 0 ? std::string("?") : std::to_string(s[i]));
  return out + "]";
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw runtime::ModelError("cannot read " + path);
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw runtime::ModelError(path + " is not valid JSON (" + e.what() + ")");
  }
}

const Ort::MemoryInfo& cpu_memory() {
  static const Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  return mem;
}

runtime::ModelEntry session_entry(const ModelFiles& f, const std::string& part, const std::string& path,
                                  const std::string& sha, nlohmann::json input) {
  runtime::ModelEntry e;
  e.id = f.id + "#" + part + "@" + sha.substr(0, 12);  // a changed file is a new session
  e.task = "clip";
  e.role = part;
  e.family = "openclip";
  runtime::ModelFile mf;
  mf.name = "model";
  mf.path = path;
  mf.sha256 = sha;
  e.files.push_back(mf);
  e.input = std::move(input);
  return e;
}

// The embedding of one batch item out of an [N,D] (or [N,1,D]) output.
std::vector<float> first_row(Ort::Value& out, const std::string& what) {
  auto shape = out.GetTensorTypeAndShapeInfo().GetShape();
  if (shape.empty() || shape[0] != 1 || shape.back() <= 0)
    throw runtime::ModelError("the CLIP " + what + " encoder gave an output of shape " + shape_str(shape) +
                              "; [1, D] expected");
  size_t d = size_t(shape.back());
  const float* p = out.GetTensorData<float>();
  std::vector<float> v(p, p + d);
  l2_normalise(v);
  return v;
}

}  // namespace

Preprocess Preprocess::from_json(const nlohmann::json& j) {
  Preprocess p;
  try {
    if (j.contains("size")) {
      auto& s = j["size"];
      p.size = s.is_array() ? s.at(0).get<int>() : s.get<int>();
    }
    for (auto [key, dst] : {std::pair{"mean", &p.mean}, std::pair{"std", &p.std}})
      if (j.contains(key)) {
        auto v = j[key].get<std::vector<float>>();
        if (v.size() != 3) throw std::invalid_argument(std::string(key) + " must hold 3 numbers");
        std::copy(v.begin(), v.end(), dst->begin());
      }
    if (j.contains("interpolation")) p.bicubic = j["interpolation"].get<std::string>() != "bilinear";
  } catch (const std::exception& e) {
    throw runtime::ModelError(std::string("CLIP preprocessing config: ") + e.what());
  }
  if (p.size <= 0 || p.size > 4096) throw runtime::ModelError("CLIP preprocessing config: bad size");
  for (float s : p.std)
    if (!(s > 0)) throw runtime::ModelError("CLIP preprocessing config: std must be positive");
  return p;
}

std::vector<float> preprocess(const image::Rgb& img, const Preprocess& cfg) {
  if (img.width <= 0 || img.height <= 0) throw std::invalid_argument("CLIP preprocessing: empty image");
  const int s = cfg.size;
  cv::Mat src(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.pixels.data()));
  cv::Mat cur = src;
  // Average big reductions down to twice the target first: bicubic alone would alias.
  int shortest = std::min(img.width, img.height);
  if (shortest > 2 * s) {
    double k = double(2 * s) / shortest;
    cv::Mat tmp;
    cv::resize(cur, tmp,
               cv::Size(std::max(1, int(std::lround(img.width * k))), std::max(1, int(std::lround(img.height * k)))), 0,
               0, cv::INTER_AREA);
    cur = tmp;
  }
  shortest = std::min(cur.cols, cur.rows);
  double k = double(s) / shortest;
  int rw = std::max(s, int(std::lround(cur.cols * k))), rh = std::max(s, int(std::lround(cur.rows * k)));
  cv::Mat resized;
  if (rw == cur.cols && rh == cur.rows)
    resized = cur;
  else
    cv::resize(cur, resized, cv::Size(rw, rh), 0, 0, cfg.bicubic ? cv::INTER_CUBIC : cv::INTER_LINEAR);
  const int x0 = (rw - s) / 2, y0 = (rh - s) / 2;
  const size_t plane = size_t(s) * s;
  std::vector<float> out(plane * 3);
  for (int y = 0; y < s; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(y0 + y) + size_t(x0) * 3;
    for (int c = 0; c < 3; ++c) {
      float* dst = out.data() + plane * c + size_t(y) * s;
      const float m = cfg.mean[c], inv = 1.f / cfg.std[c];
      for (int x = 0; x < s; ++x) dst[x] = (row[x * 3 + c] / 255.f - m) * inv;
    }
  }
  return out;
}

void l2_normalise(std::vector<float>& v) {
  double n = 0;
  for (float x : v) n += double(x) * x;
  if (n <= 0) return;
  const float inv = float(1 / std::sqrt(n));
  for (float& x : v) x *= inv;
}

ModelFiles folder_files(const std::string& folder) {
  if (!fs::is_directory(folder)) throw runtime::ModelError("the CLIP model folder " + folder + " does not exist");
  ModelFiles f;
  f.id = "clip/" + fs::path(folder).lexically_normal().filename().string();
  if (f.id == "clip/") f.id = "clip/" + fs::path(folder).lexically_normal().parent_path().filename().string();
  for (auto [part, dst, sha] :
       {std::tuple{"visual", &f.visual, &f.visual_sha256}, std::tuple{"textual", &f.textual, &f.textual_sha256}}) {
    fs::path p = fs::path(folder) / part / "model.onnx";
    if (!fs::is_regular_file(p))
      throw runtime::ModelError("the CLIP model folder " + folder + " has no " + std::string(part) +
                                "/model.onnx (an OpenCLIP / Immich-style folder has visual/model.onnx and "
                                "textual/model.onnx)");
    *dst = p.string();
    *sha = util::sha256_file(p.string());
  }
  if (fs::is_regular_file(fs::path(folder) / "config.json")) f.config = (fs::path(folder) / "config.json").string();
  if (fs::is_regular_file(fs::path(folder) / "visual" / "preprocess_cfg.json"))
    f.preprocess = (fs::path(folder) / "visual" / "preprocess_cfg.json").string();
  if (fs::is_regular_file(fs::path(folder) / "textual" / "tokenizer.json"))
    f.tokenizer = (fs::path(folder) / "textual" / "tokenizer.json").string();
  return f;
}

Model::Model(runtime::Runtime& rt, const ModelFiles& files, std::shared_ptr<const Tokenizer> tokenizer)
    : files_(files), tok_(std::move(tokenizer)) {
  if (!tok_) throw runtime::ModelError("CLIP model " + files.id + " needs the CLIP tokenizer");
  nlohmann::json config = files.config.empty() ? nlohmann::json::object() : read_json(files.config);
  if (!files.preprocess.empty()) {
    pre_ = Preprocess::from_json(read_json(files.preprocess));
  } else if (config.contains("vision_cfg") && config["vision_cfg"].contains("image_size")) {
    auto& s = config["vision_cfg"]["image_size"];
    pre_.size = s.is_array() ? s.at(0).get<int>() : s.get<int>();
  }
  if (config.contains("preprocess_cfg")) pre_ = Preprocess::from_json(config["preprocess_cfg"]);
  if (config.contains("text_cfg")) context_ = config["text_cfg"].value("context_length", context_);

  visual_ = rt.open(session_entry(files, "visual", files.visual, files.visual_sha256,
                                  {{"probe_shape", {1, 3, pre_.size, pre_.size}}}),
                    files.visual, files.visual_sha256);
  auto vin = visual_->input_shape(0);
  if (vin.size() != 4 || (vin[1] > 0 && vin[1] != 3))
    throw runtime::ModelError(files.visual + " takes " + shape_str(vin) + "; a CLIP image encoder takes [N,3,S,S]");
  if (vin[2] > 0 && vin[3] > 0) {
    if (vin[2] != vin[3]) throw runtime::ModelError(files.visual + " takes non-square images " + shape_str(vin));
    pre_.size = int(vin[2]);  // the model's own input size wins over any config
  }
  textual_ = rt.open(
      session_entry(files, "textual", files.textual, files.textual_sha256, {{"probe_shape", {1, int64_t(context_)}}}),
      files.textual, files.textual_sha256);
  auto tin = textual_->input_shape(0);
  auto ttype = textual_->input_type(0);
  if (tin.size() != 2 || (ttype != ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 && ttype != ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32))
    throw runtime::ModelError(files.textual + " takes " + shape_str(tin) +
                              "; a CLIP text encoder takes token ids [N,C] as int64 or int32");
  text_int32_ = ttype == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
  if (tin[1] > 0) context_ = size_t(tin[1]);
  if (context_ < 3) throw runtime::ModelError(files.textual + " has a context of " + std::to_string(context_));

  auto vout = visual_->output_shape(0), tout = textual_->output_shape(0);
  int64_t vd = vout.empty() ? -1 : vout.back(), td = tout.empty() ? -1 : tout.back();
  if (vd > 0 && td > 0 && vd != td)
    throw runtime::ModelError("CLIP model " + files.id + ": the image encoder gives " + std::to_string(vd) +
                              "-d embeddings and the text encoder " + std::to_string(td) +
                              "-d; both files must come from the same model");
  // Dynamic output shapes: one run tells the dimension.
  dim_ = int(vd > 0 ? vd : td);
  if (dim_ <= 0) {
    image::Rgb grey;
    grey.width = grey.height = 8;
    grey.pixels.assign(8 * 8 * 3, 128);
    dim_ = int(encode_image(grey).size());
    if (int(encode_text("a").embedding.size()) != dim_)
      throw runtime::ModelError("CLIP model " + files.id + ": the image and text encoders give different sizes");
  }
}

std::vector<float> Model::encode_image(const image::Rgb& img) const {
  auto x = preprocess(img, pre_);
  std::vector<int64_t> shape = {1, 3, pre_.size, pre_.size};
  std::vector<Ort::Value> in;
  in.push_back(Ort::Value::CreateTensor<float>(cpu_memory(), x.data(), x.size(), shape.data(), shape.size()));
  auto out = visual_->run(in);
  return first_row(out.at(0), "image");
}

Model::Text Model::encode_text(std::string_view text) const {
  auto t = tok_->tokenize(text, context_);
  std::vector<int64_t> shape = {1, int64_t(context_)};
  std::vector<Ort::Value> in;
  std::vector<int32_t> ids32;
  if (text_int32_) {
    ids32.assign(t.ids.begin(), t.ids.end());
    in.push_back(Ort::Value::CreateTensor<int32_t>(cpu_memory(), ids32.data(), ids32.size(), shape.data(), 2));
  } else {
    in.push_back(Ort::Value::CreateTensor<int64_t>(cpu_memory(), t.ids.data(), t.ids.size(), shape.data(), 2));
  }
  auto out = textual_->run(in);
  Text r;
  r.embedding = first_row(out.at(0), "text");
  r.truncated = t.truncated;
  r.tokens = t.length;
  return r;
}

}  // namespace dr::analyzers::clip
