// Face detection: letterbox-free resize (longest side at most max_side, padded on the right and bottom to the
// model's multiple), one run, decoding of the per-stride outputs, score and size filters, NMS, and coordinates
// mapped back to the caller's image.
#include <algorithm>
#include <cmath>
#include <map>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "analyzers/faces/faces.h"

namespace dr::analyzers::faces {

InputFacts InputFacts::from_manifest(const nlohmann::json& in) {
  InputFacts f;
  f.bgr = in.value("colour", "RGB") == "BGR";
  f.scale = in.value("scale", 1.0f);
  if (in.contains("mean"))
    for (int c = 0; c < 3; c++) f.mean[c] = in["mean"].at(c).get<float>();
  if (in.contains("std"))
    for (int c = 0; c < 3; c++) f.std[c] = in["std"].at(c).get<float>();
  f.multiple = in.value("multiple", 32);
  return f;
}

void to_planar(const cv::Mat& rgb, const InputFacts& f, float* out, int pw, int ph) {
  CV_Assert(rgb.type() == CV_8UC3 && rgb.cols <= pw && rgb.rows <= ph);
  // value = (p * scale - mean) / std = p * a + b, per output channel.
  float a[3], b[3];
  for (int c = 0; c < 3; c++) {
    a[c] = f.scale / f.std[c];
    b[c] = -f.mean[c] / f.std[c];
  }
  const size_t plane = size_t(pw) * ph;
  // Padding holds what a black pixel becomes.
  for (int c = 0; c < 3; c++)
    if (rgb.cols < pw || rgb.rows < ph) std::fill(out + c * plane, out + (c + 1) * plane, b[c]);
  // Output channel c reads source channel src[c]: RGB keeps the order, BGR reverses it.
  const int src[3] = {f.bgr ? 2 : 0, 1, f.bgr ? 0 : 2};
  for (int y = 0; y < rgb.rows; y++) {
    const uint8_t* p = rgb.ptr<uint8_t>(y);
    float* o0 = out + size_t(y) * pw;
    float* o1 = o0 + plane;
    float* o2 = o1 + plane;
    for (int x = 0; x < rgb.cols; x++, p += 3) {
      o0[x] = p[src[0]] * a[0] + b[0];
      o1[x] = p[src[1]] * a[1] + b[1];
      o2[x] = p[src[2]] * a[2] + b[2];
    }
  }
}

cv::Mat as_mat(const image::Rgb& img) {
  return cv::Mat(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.pixels.data()));
}

void nms(std::vector<Face>& faces, float iou) {
  std::stable_sort(faces.begin(), faces.end(), [](const Face& a, const Face& b) { return a.score > b.score; });
  std::vector<Face> kept;
  kept.reserve(faces.size());
  for (auto& f : faces) {
    bool keep = true;
    for (auto& k : kept) {
      float inter = (f.box & k.box).area();
      float uni = f.box.area() + k.box.area() - inter;
      if (uni > 0 && inter / uni > iou) {
        keep = false;
        break;
      }
    }
    if (keep) kept.push_back(f);
  }
  faces.swap(kept);
}

namespace {

DetectorFamily family_of(const runtime::ModelEntry& e) {
  if (e.family == "yunet") return DetectorFamily::YuNet;
  if (e.family == "scrfd") return DetectorFamily::Scrfd;
  throw runtime::ModelError("model " + e.id + " has family '" + e.family +
                            "', which the face detector cannot decode (known: yunet, scrfd)");
}

struct Output {
  const float* data;
  size_t count;
  int64_t last_dim;
};

std::vector<Output> outputs_of(std::vector<Ort::Value>& values) {
  std::vector<Output> out;
  for (auto& v : values) {
    auto info = v.GetTensorTypeAndShapeInfo();
    auto shape = info.GetShape();
    out.push_back({v.GetTensorData<float>(), info.GetElementCount(), shape.empty() ? 1 : shape.back()});
  }
  return out;
}

void add_face(std::vector<Face>& faces, float score, float x1, float y1, float x2, float y2, const float* lm) {
  Face f;
  f.score = score;
  f.box = cv::Rect2f(x1, y1, x2 - x1, y2 - y1);
  for (int k = 0; k < 5; k++) f.landmarks[k] = {lm[2 * k], lm[2 * k + 1]};
  faces.push_back(f);
}

// YuNet: per stride s, outputs cls_s, obj_s [K,1], bbox_s [K,4], kps_s [K,10] over the (H/s) x (W/s) cells in
// row-major order. score = sqrt(cls * obj); centre = (cell + b01) * s; size = exp(b23) * s; landmark = (cell + k) * s.
void decode_yunet(const runtime::Session& s, std::vector<Ort::Value>& values, int W, int H, float min_score,
                  std::vector<Face>& faces) {
  auto outs = outputs_of(values);
  std::map<std::string, Output> by_name;
  for (size_t i = 0; i < outs.size(); i++) by_name.emplace(s.output_names()[i], outs[i]);
  for (int stride : {8, 16, 32}) {
    auto get = [&](const char* what, int64_t dim) {
      auto it = by_name.find(what + std::to_string(stride));
      if (it == by_name.end())
        throw std::runtime_error("the YuNet model " + s.model_id() + " has no output " + what + std::to_string(stride));
      if (it->second.last_dim != dim) throw std::runtime_error("unexpected output shape in " + s.model_id());
      return it->second;
    };
    Output cls = get("cls_", 1), obj = get("obj_", 1), bbox = get("bbox_", 4), kps = get("kps_", 10);
    const int cols = W / stride, rows = H / stride;
    const size_t K = size_t(cols) * rows;
    if (cls.count != K || obj.count != K || bbox.count != 4 * K || kps.count != 10 * K)
      throw std::runtime_error("the YuNet model " + s.model_id() + " gave outputs of unexpected size");
    for (size_t i = 0; i < K; i++) {
      float sc = std::sqrt(std::clamp(cls.data[i], 0.f, 1.f) * std::clamp(obj.data[i], 0.f, 1.f));
      if (sc < min_score) continue;
      const float c = float(i % cols), r = float(i / cols);
      const float* b = bbox.data + 4 * i;
      float cx = (c + b[0]) * stride, cy = (r + b[1]) * stride;
      float w = std::exp(b[2]) * stride, h = std::exp(b[3]) * stride;
      float lm[10];
      const float* k = kps.data + 10 * i;
      for (int j = 0; j < 5; j++) {
        lm[2 * j] = (k[2 * j] + c) * stride;
        lm[2 * j + 1] = (k[2 * j + 1] + r) * stride;
      }
      add_face(faces, sc, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, lm);
    }
  }
}

// SCRFD (InsightFace): per stride, a score [K*A,1], distances [K*A,4] (left, top, right, bottom, in strides) and
// landmark offsets [K*A,10] (in strides), A anchors per cell whose centre is (c, r) * s. The outputs are told apart by
// their last dimension (1, 4, 10) and their strides by their size, not by their names: buffalo_l's det_10g names them
// by number.
void decode_scrfd(const runtime::Session& s, std::vector<Ort::Value>& values, int W, int H, float min_score,
                  std::vector<Face>& faces) {
  auto outs = outputs_of(values);
  std::vector<Output> score, dist, kps;
  for (auto& o : outs) {
    if (o.last_dim == 1)
      score.push_back(o);
    else if (o.last_dim == 4)
      dist.push_back(o);
    else if (o.last_dim == 10)
      kps.push_back(o);
  }
  if (score.empty() || score.size() != dist.size() || score.size() != kps.size())
    throw std::runtime_error("the SCRFD model " + s.model_id() +
                             " does not have score, box and landmark outputs for each stride");
  auto by_size = [](const Output& a, const Output& b) { return a.count > b.count; };
  std::stable_sort(score.begin(), score.end(), by_size);
  std::stable_sort(dist.begin(), dist.end(), by_size);
  std::stable_sort(kps.begin(), kps.end(), by_size);
  int stride = 8;
  for (size_t level = 0; level < score.size(); level++, stride *= 2) {
    const int cols = W / stride, rows = H / stride;
    const size_t K = size_t(cols) * rows;
    if (K == 0 || score[level].count % K) throw std::runtime_error("unexpected output size in " + s.model_id());
    const size_t A = score[level].count / K;
    if (dist[level].count != 4 * K * A || kps[level].count != 10 * K * A)
      throw std::runtime_error("the SCRFD model " + s.model_id() + " gave outputs of unexpected size");
    for (size_t i = 0; i < K * A; i++) {
      float sc = score[level].data[i];
      if (sc < min_score) continue;
      const size_t cell = i / A;
      const float cx = float(cell % cols) * stride, cy = float(cell / cols) * stride;
      const float* d = dist[level].data + 4 * i;
      const float* k = kps[level].data + 10 * i;
      float lm[10];
      for (int j = 0; j < 5; j++) {
        lm[2 * j] = cx + k[2 * j] * stride;
        lm[2 * j + 1] = cy + k[2 * j + 1] * stride;
      }
      add_face(faces, sc, cx - d[0] * stride, cy - d[1] * stride, cx + d[2] * stride, cy + d[3] * stride, lm);
    }
  }
}

}  // namespace

float default_min_score(DetectorFamily f) { return f == DetectorFamily::YuNet ? 0.7f : 0.5f; }

FaceDetector::FaceDetector(std::shared_ptr<runtime::Session> session, const runtime::ModelEntry& entry,
                           DetectorOptions opts)
    : session_(std::move(session)),
      family_(family_of(entry)),
      facts_(InputFacts::from_manifest(entry.input)),
      opts_(opts) {
  auto in = session_->input_shape(0);
  if (in.size() != 4 || in[1] != 3)
    throw runtime::ModelError("the face detector " + entry.id + " does not take [N,3,H,W] images");
  if (in[2] > 0 && in[3] > 0) fixed_h_ = int(in[2]), fixed_w_ = int(in[3]);
  if (opts_.min_score < 0) opts_.min_score = default_min_score(family_);
  if (opts_.max_side < facts_.multiple)
    throw std::invalid_argument("faces: max_side " + std::to_string(opts_.max_side) + " is below the detector's " +
                                std::to_string(facts_.multiple) + "-pixel stride");
}

std::vector<Face> FaceDetector::detect(const image::Rgb& img) const { return detect(as_mat(img)); }

std::vector<Face> FaceDetector::detect(const cv::Mat& rgb) const {
  if (rgb.empty()) return {};
  const int longest = std::max(rgb.cols, rgb.rows);
  double scale = longest > opts_.max_side ? double(opts_.max_side) / longest : 1.0;
  if (fixed_w_) scale = std::min({scale, double(fixed_w_) / rgb.cols, double(fixed_h_) / rgb.rows});
  const int w = std::max(1, int(std::lround(rgb.cols * scale))), h = std::max(1, int(std::lround(rgb.rows * scale)));
  const int m = facts_.multiple;
  // On the GPU every photo gets the same max_side canvas: one input shape, prepared once (runtime::Session::on_gpu).
  const int canvas = session_->on_gpu() ? (opts_.max_side + m - 1) / m * m : 0;
  const int W = fixed_w_ ? fixed_w_ : canvas ? canvas : (w + m - 1) / m * m;
  const int H = fixed_h_ ? fixed_h_ : canvas ? canvas : (h + m - 1) / m * m;

  cv::Mat small = rgb;
  if (w != rgb.cols || h != rgb.rows) cv::resize(rgb, small, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  std::vector<float> tensor(size_t(3) * W * H);
  to_planar(small, facts_, tensor.data(), W, H);

  const int64_t shape[4] = {1, 3, H, W};
  auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<Ort::Value> inputs;
  inputs.push_back(Ort::Value::CreateTensor<float>(mem, tensor.data(), tensor.size(), shape, 4));
  auto outputs = session_->run(inputs);

  std::vector<Face> faces;
  if (family_ == DetectorFamily::YuNet)
    decode_yunet(*session_, outputs, W, H, opts_.min_score, faces);
  else
    decode_scrfd(*session_, outputs, W, H, opts_.min_score, faces);

  std::erase_if(faces, [&](const Face& f) { return std::min(f.box.width, f.box.height) < opts_.min_size; });
  nms(faces, opts_.nms_iou);
  if (int(faces.size()) > opts_.max_faces) faces.resize(opts_.max_faces);

  // Back to the caller's pixels; boxes clipped to the image, landmarks left where the model put them.
  const float inv_x = float(rgb.cols) / w, inv_y = float(rgb.rows) / h;
  const cv::Rect2f bounds(0, 0, float(rgb.cols), float(rgb.rows));
  for (auto& f : faces) {
    f.box = cv::Rect2f(f.box.x * inv_x, f.box.y * inv_y, f.box.width * inv_x, f.box.height * inv_y);
    f.quality.size = std::min(f.box.width, f.box.height);  // before clipping: how big the face really is
    f.box &= bounds;
    for (auto& p : f.landmarks) p = {p.x * inv_x, p.y * inv_y};
  }
  return faces;
}

}  // namespace dr::analyzers::faces
