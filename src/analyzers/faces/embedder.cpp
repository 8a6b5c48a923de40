// Face embedding: an aligned 112x112 face in, an L2-normalised vector out. MobileFaceNet (ImageNet normalisation,
// batch fixed at 1, 128-d) and the InsightFace recognisers ((x - 127.5) / 127.5, any batch, 512-d) differ only in
// their manifest's input facts and their tensor shapes, which are read, not assumed.
#include <cmath>
#include <stdexcept>

#include "analyzers/faces/faces.h"

namespace dr::analyzers::faces {

float cosine(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("cosine: vectors of different sizes");
  double s = 0;
  for (size_t i = 0; i < a.size(); i++) s += double(a[i]) * b[i];
  return float(s);
}

FaceEmbedder::FaceEmbedder(std::shared_ptr<runtime::Session> session, const runtime::ModelEntry& entry)
    : session_(std::move(session)), facts_(InputFacts::from_manifest(entry.input)) {
  auto in = session_->input_shape(0);
  auto out = session_->output_shape(0);
  if (in.size() != 4 || in[1] != 3 || (in[2] > 0 && in[2] != in[3]))
    throw runtime::ModelError("the face embedder " + entry.id + " does not take [N,3,S,S] images");
  side_ = in[2] > 0 ? int(in[2]) : 112;
  if (side_ != 112)
    throw runtime::ModelError("the face embedder " + entry.id + " takes " + std::to_string(side_) +
                              "-pixel faces; only the 112x112 ArcFace alignment is supported");
  batched_ = in[0] != 1;
  dim_ = out.size() >= 2 && out.back() > 0 ? int(out.back())
                                           : entry.raw.value("output", nlohmann::json::object()).value("dim", 0);
  if (dim_ <= 0) throw runtime::ModelError("the face embedder " + entry.id + " has no fixed embedding size");
}

std::vector<std::vector<float>> FaceEmbedder::embed(const std::vector<cv::Mat>& aligned) const {
  std::vector<std::vector<float>> result;
  result.reserve(aligned.size());
  const size_t per = size_t(3) * side_ * side_;
  auto mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const size_t batch = batched_ ? 32 : 1;  // a batched model takes up to 32 faces a run
  std::vector<float> tensor;
  for (size_t start = 0; start < aligned.size(); start += batch) {
    const size_t n = std::min(batch, aligned.size() - start);
    // On the GPU a batch is padded with blank faces to a power of two: few shapes (runtime::Session::on_gpu).
    const size_t rows = batched_ && session_->on_gpu() ? runtime::gpu_batch(n, batch) : n;
    tensor.assign(per * rows, 0.f);
    for (size_t i = 0; i < n; i++) to_planar(aligned[start + i], facts_, tensor.data() + i * per, side_, side_);
    const int64_t shape[4] = {int64_t(rows), 3, side_, side_};
    std::vector<Ort::Value> inputs;
    inputs.push_back(Ort::Value::CreateTensor<float>(mem, tensor.data(), tensor.size(), shape, 4));
    auto outputs = session_->run(inputs);
    auto info = outputs[0].GetTensorTypeAndShapeInfo();
    if (info.GetElementCount() != rows * size_t(dim_))
      throw std::runtime_error("the face embedder " + session_->model_id() + " returned " +
                               std::to_string(info.GetElementCount()) + " values for " + std::to_string(rows) +
                               " faces of " + std::to_string(dim_));
    const float* o = outputs[0].GetTensorData<float>();
    for (size_t i = 0; i < n; i++) {
      std::vector<float> v(o + i * dim_, o + (i + 1) * dim_);
      double norm = 0;
      for (float x : v) norm += double(x) * x;
      norm = std::sqrt(norm);
      if (norm > 0)
        for (float& x : v) x = float(x / norm);
      result.push_back(std::move(v));
    }
  }
  return result;
}

FaceAnalyzer::FaceAnalyzer(std::unique_ptr<FaceDetector> detector, std::unique_ptr<FaceEmbedder> embedder)
    : detector_(std::move(detector)), embedder_(std::move(embedder)) {}

std::vector<Face> FaceAnalyzer::analyze(const image::Decoded& img, bool embed) const {
  return analyze(as_mat(img.rgb), img.to_display(), embed);
}

std::vector<Face> FaceAnalyzer::analyze(const cv::Mat& rgb, double to_display, bool embed) const {
  std::vector<Face> faces = detector_->detect(rgb);
  std::vector<cv::Mat> aligned;
  aligned.reserve(faces.size());
  for (auto& f : faces) {
    aligned.push_back(align_face(rgb, f.landmarks));
    float size = f.quality.size;
    f.quality = measure_quality(aligned.back(), f.landmarks);
    f.quality.size = float(size * to_display);
  }
  if (embed && embedder_ && !faces.empty()) {
    auto vecs = embedder_->embed(aligned);
    for (size_t i = 0; i < faces.size(); i++) faces[i].embedding = std::move(vecs[i]);
  }
  if (to_display != 1.0) {
    const float s = float(to_display);
    for (auto& f : faces) {
      f.box = cv::Rect2f(f.box.x * s, f.box.y * s, f.box.width * s, f.box.height * s);
      for (auto& p : f.landmarks) p *= s;
    }
  }
  return faces;
}

}  // namespace dr::analyzers::faces
