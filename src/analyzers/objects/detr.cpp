#include "analyzers/objects/detr.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>

#include "analyzers/objects/coco.h"

namespace dr::analyzers::objects::detr {

Preprocessed preprocess(const image::Rgb& img, int shortest, int longest, const std::array<float, 3>& mean,
                        const std::array<float, 3>& std) {
  if (img.width <= 0 || img.height <= 0) throw std::invalid_argument("DETR preprocessing: empty image");
  double s = double(shortest) / std::min(img.width, img.height);
  if (longest > 0 && std::max(img.width, img.height) * s > longest)
    s = double(longest) / std::max(img.width, img.height);
  Preprocessed p;
  p.width = std::max(1, int(std::lround(img.width * s)));
  p.height = std::max(1, int(std::lround(img.height * s)));
  cv::Mat src(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.pixels.data()));
  cv::Mat resized;
  cv::resize(src, resized, cv::Size(p.width, p.height), 0, 0, cv::INTER_LINEAR);
  const size_t plane = size_t(p.width) * p.height;
  p.chw.resize(plane * 3);
  for (int y = 0; y < p.height; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(y);
    for (int c = 0; c < 3; ++c) {
      float* dst = p.chw.data() + plane * c + size_t(y) * p.width;
      const float m = mean[c], inv = 1.f / std[c];
      for (int x = 0; x < p.width; ++x) dst[x] = (row[x * 3 + c] / 255.f - m) * inv;
    }
  }
  return p;
}

std::vector<Detection> decode(const float* logits, const float* boxes, size_t queries, size_t classes,
                              float score_threshold, int image_width, int image_height) {
  if (classes < 2) throw std::invalid_argument("DETR logits need at least 2 classes, got " + std::to_string(classes));
  std::vector<Detection> dets;
  for (size_t q = 0; q < queries; ++q) {
    const float* l = logits + q * classes;
    const float mx = *std::max_element(l, l + classes);
    double sum = 0;
    for (size_t k = 0; k < classes; ++k) sum += std::exp(double(l[k] - mx));
    size_t best = 0;
    for (size_t k = 1; k + 1 < classes; ++k)
      if (l[k] > l[best]) best = k;
    const float score = float(std::exp(double(l[best] - mx)) / sum);
    if (score < score_threshold) continue;
    auto name = coco91_name(int(best));
    if (name.empty()) continue;
    const float* b = boxes + q * 4;
    float x0 = std::clamp((b[0] - b[2] / 2) * image_width, 0.f, float(image_width));
    float y0 = std::clamp((b[1] - b[3] / 2) * image_height, 0.f, float(image_height));
    float x1 = std::clamp((b[0] + b[2] / 2) * image_width, 0.f, float(image_width));
    float y1 = std::clamp((b[1] + b[3] / 2) * image_height, 0.f, float(image_height));
    if (x1 <= x0 || y1 <= y0) continue;
    Detection d;
    d.class_index = int(best);
    d.label = std::string(name);
    d.score = score;
    d.box = {x0, y0, x1 - x0, y1 - y0};
    dets.push_back(std::move(d));
  }
  std::stable_sort(dets.begin(), dets.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  return dets;
}

}  // namespace dr::analyzers::objects::detr
