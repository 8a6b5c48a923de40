#include "analyzers/objects/objects_task.h"

#include <algorithm>
#include <cmath>

#include "analyzers/objects/detr.h"
#include "analyzers/objects/yolox.h"

namespace dr::analyzers {
namespace objects {
namespace {

std::array<float, 3> triple(const nlohmann::json& j, const char* key, std::array<float, 3> dflt) {
  if (!j.contains(key)) return dflt;
  auto& v = j.at(key);
  if (!v.is_array() || v.size() != 3)
    throw runtime::ModelError(std::string("manifest input.") + key + " must hold 3 numbers");
  return {v[0].get<float>(), v[1].get<float>(), v[2].get<float>()};
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

Ort::Value float_tensor(std::vector<float>& data, const std::vector<int64_t>& shape) {
  static const Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  return Ort::Value::CreateTensor<float>(mem, data.data(), data.size(), shape.data(), shape.size());
}

double r2(double v, double q) { return std::round(v * q) / q; }

}  // namespace

Detector::Detector(runtime::Runtime& rt, const runtime::ModelEntry& entry, const std::string& path,
                   const std::string& sha256, float min_score)
    : family_(entry.family), model_id_(entry.id) {
  const nlohmann::json in = entry.input.is_object() ? entry.input : nlohmann::json::object();
  const nlohmann::json out =
      entry.raw.is_object() ? entry.raw.value("output", nlohmann::json::object()) : nlohmann::json::object();
  if (family_ == "yolox") {
    auto size = in.value("size", std::vector<int>{416, 416});
    if (size.size() != 2 || size[0] <= 0 || size[1] <= 0)
      throw runtime::ModelError("model " + model_id_ + ": manifest input.size must be [height, width]");
    height_ = size[0];
    width_ = size[1];
    pad_ = in.contains("letterbox") ? in["letterbox"].value("pad", 114.f) : 114.f;
    rgb_ = in.value("colour", "BGR") == "RGB";
    strides_ = out.value("strides", std::vector<int>{8, 16, 32});
    min_score_ = out.value("score_threshold", 0.45f);
    nms_iou_ = out.value("nms_iou", 0.45f);
    wanted_side_ = std::max(width_, height_);
  } else if (family_ == "detr") {
    shortest_ = in.value("shortest", 800);
    longest_ = in.value("longest", 1333);
    mean_ = triple(in, "mean", {0.485f, 0.456f, 0.406f});
    std_ = triple(in, "std", {0.229f, 0.224f, 0.225f});
    min_score_ = out.value("score_threshold", 0.7f);
    wanted_side_ = longest_ > 0 ? longest_ : shortest_ * 2;
  } else {
    throw runtime::ModelError("model " + model_id_ + " has family '" + family_ +
                              "', which the objects task cannot decode (known: yolox, detr)");
  }
  if (min_score >= 0) min_score_ = min_score;
  session_ = rt.open(entry, path, sha256);
  auto& s = *session_;
  if (s.input_names().empty() || s.input_shape(0).size() != 4)
    throw runtime::ModelError("model " + model_id_ + " (" + path + ") must take one [N,3,H,W] image input; it takes " +
                              (s.input_names().empty() ? std::string("nothing") : shape_str(s.input_shape(0))));
  if (family_ == "yolox") {
    auto sh = s.input_shape(0);
    if ((sh[2] > 0 && sh[2] != height_) || (sh[3] > 0 && sh[3] != width_))
      throw runtime::ModelError("model " + model_id_ + " takes " + shape_str(sh) + " but the manifest says " +
                                std::to_string(height_) + "x" + std::to_string(width_));
  } else if (s.output_names().size() < 2) {
    throw runtime::ModelError("model " + model_id_ + " (" + path +
                              ") is not DETR-shaped: it needs two outputs, class logits and boxes");
  }
}

std::vector<Detection> Detector::detect(const image::Rgb& img) const {
  if (img.width <= 0 || img.height <= 0) return {};
  return family_ == "yolox" ? detect_yolox(img) : detect_detr(img);
}

std::vector<Detection> Detector::detect_yolox(const image::Rgb& img) const {
  auto lb = yolox::letterbox(img, width_, height_, pad_, rgb_);
  std::vector<Ort::Value> inputs;
  inputs.push_back(float_tensor(lb.chw, {1, 3, height_, width_}));
  auto outs = session_->run(inputs);
  auto shape = outs.at(0).GetTensorTypeAndShapeInfo().GetShape();
  if (shape.size() != 3 || shape[0] != 1 || shape[2] < 6)
    throw runtime::ModelError("model " + model_id_ + " gave an output of shape " + shape_str(shape) +
                              "; YOLOX gives [1, cells, 5 + classes]");
  yolox::DecodeParams p;
  p.input_width = width_;
  p.input_height = height_;
  p.strides = strides_;
  p.score_threshold = min_score_;
  p.nms_iou = nms_iou_;
  return yolox::decode(outs[0].GetTensorData<float>(), size_t(shape[1]), size_t(shape[2] - 5), p, lb.scale, img.width,
                       img.height);
}

std::vector<Detection> Detector::detect_detr(const image::Rgb& img) const {
  auto pre = detr::preprocess(img, shortest_, longest_, mean_, std_);
  std::vector<Ort::Value> inputs;
  inputs.push_back(float_tensor(pre.chw, {1, 3, pre.height, pre.width}));
  // Some exports also take a pixel mask (1 where the image is, 0 in padding); there is no padding here.
  std::vector<int64_t> mask;
  if (session_->input_names().size() > 1) {
    static const Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    mask.assign(size_t(pre.width) * pre.height, 1);
    std::vector<int64_t> ms = {1, pre.height, pre.width};
    inputs.push_back(Ort::Value::CreateTensor<int64_t>(mem, mask.data(), mask.size(), ms.data(), ms.size()));
  }
  auto outs = session_->run(inputs);
  // Which output is which: by name when the export names them, else by shape (boxes end in 4).
  int li = -1, bi = -1;
  auto& names = session_->output_names();
  for (size_t i = 0; i < outs.size(); ++i) {
    auto sh = outs[i].GetTensorTypeAndShapeInfo().GetShape();
    if (sh.size() != 3) continue;
    bool boxes =
        names[i].find("box") != std::string::npos || (names[i].find("logit") == std::string::npos && sh[2] == 4);
    (boxes ? bi : li) = int(i);
  }
  if (li < 0 || bi < 0)
    throw runtime::ModelError("model " + model_id_ + " did not give DETR's outputs (logits [1,Q,C] and boxes [1,Q,4])");
  auto ls = outs[li].GetTensorTypeAndShapeInfo().GetShape();
  auto bs = outs[bi].GetTensorTypeAndShapeInfo().GetShape();
  if (ls[0] != 1 || bs[0] != 1 || ls[1] != bs[1] || bs[2] != 4)
    throw runtime::ModelError("model " + model_id_ + " gave logits " + shape_str(ls) + " and boxes " + shape_str(bs) +
                              "; DETR gives [1,Q,C] and [1,Q,4]");
  return detr::decode(outs[li].GetTensorData<float>(), outs[bi].GetTensorData<float>(), size_t(ls[1]), size_t(ls[2]),
                      min_score_, img.width, img.height);
}

}  // namespace objects

namespace {

class ObjectsTask : public Task {
 public:
  ObjectsTask(TaskContext& ctx) {
    auto settings = ctx.settings.value("objects", nlohmann::json::object());
    const auto* entry = ctx.store.manifest().pick("objects", "detector", settings.value("model", std::string()));
    if (!entry) throw runtime::ModelError("no object detector in the manifest; run `darkroom models list`");
    std::string path = ctx.store.require(*entry, "model");
    ref_ = {entry->id, entry->onnx().sha256};
    detector_ = std::make_unique<objects::Detector>(ctx.rt, *entry, path, entry->onnx().sha256,
                                                    settings.value("min_score", -1.f));
  }
  std::string name() const override { return "objects"; }
  int wanted_side() const override { return detector_->wanted_side(); }
  std::vector<ModelRef> models() const override { return {ref_}; }

  nlohmann::json run(const image::Decoded& img, const RunOptions&) override {
    auto dets = detector_->detect(img.rgb);
    const float k = float(img.to_display());
    nlohmann::json out = nlohmann::json::array();
    for (auto& d : dets)
      out.push_back({{"label", d.label},
                     {"score", objects::r2(d.score, 1e4)},
                     {"box",
                      {objects::r2(d.box.x * k, 10), objects::r2(d.box.y * k, 10), objects::r2(d.box.w * k, 10),
                       objects::r2(d.box.h * k, 10)}}});
    return out;
  }

 private:
  ModelRef ref_;
  std::unique_ptr<objects::Detector> detector_;
};

}  // namespace

std::unique_ptr<Task> make_objects_task(TaskContext& ctx) { return std::make_unique<ObjectsTask>(ctx); }

}  // namespace dr::analyzers
