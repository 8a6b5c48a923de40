#include "analyzers/objects/yolox.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>

#include "analyzers/objects/coco.h"

namespace dr::analyzers::objects::yolox {

Letterbox letterbox(const image::Rgb& img, int width, int height, float pad, bool rgb) {
  if (img.width <= 0 || img.height <= 0) throw std::invalid_argument("letterbox: empty image");
  Letterbox lb;
  lb.width = width;
  lb.height = height;
  lb.scale = std::min(float(width) / img.width, float(height) / img.height);
  int rw = std::clamp(int(std::lround(img.width * lb.scale)), 1, width);
  int rh = std::clamp(int(std::lround(img.height * lb.scale)), 1, height);
  cv::Mat src(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.pixels.data()));
  cv::Mat resized;
  if (rw == img.width && rh == img.height)
    resized = src;
  else
    cv::resize(src, resized, cv::Size(rw, rh), 0, 0, rw < img.width ? cv::INTER_AREA : cv::INTER_LINEAR);
  size_t plane = size_t(width) * height;
  lb.chw.assign(plane * 3, pad);
  // Source channels are R, G, B; the model wants B, G, R unless rgb is set.
  const int order[3] = {rgb ? 0 : 2, 1, rgb ? 2 : 0};
  for (int y = 0; y < rh; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(y);
    for (int c = 0; c < 3; ++c) {
      float* dst = lb.chw.data() + plane * c + size_t(y) * width;
      const int sc = order[c];
      for (int x = 0; x < rw; ++x) dst[x] = row[x * 3 + sc];
    }
  }
  return lb;
}

std::vector<Detection> decode(const float* out, size_t rows, size_t classes, const DecodeParams& p, float scale,
                              int image_width, int image_height) {
  size_t expected = 0;
  for (int s : p.strides) expected += size_t(p.input_width / s) * size_t(p.input_height / s);
  if (rows != expected)
    throw std::invalid_argument("YOLOX output has " + std::to_string(rows) + " rows; strides of a " +
                                std::to_string(p.input_width) + "x" + std::to_string(p.input_height) + " input give " +
                                std::to_string(expected));
  const auto& names = coco80_names();
  const size_t width = 5 + classes;
  std::vector<Detection> dets;
  size_t row = 0;
  for (int s : p.strides) {
    const int gw = p.input_width / s, gh = p.input_height / s;
    for (int r = 0; r < gh; ++r)
      for (int c = 0; c < gw; ++c, ++row) {
        const float* v = out + row * width;
        const float obj = v[4];
        if (obj < p.score_threshold) continue;  // the class score is at most 1
        size_t best = 0;
        for (size_t k = 1; k < classes; ++k)
          if (v[5 + k] > v[5 + best]) best = k;
        const float score = obj * v[5 + best];
        if (score < p.score_threshold) continue;
        const float cx = (v[0] + c) * s, cy = (v[1] + r) * s;
        const float w = std::exp(v[2]) * s, h = std::exp(v[3]) * s;
        float x0 = std::clamp((cx - w / 2) / scale, 0.f, float(image_width));
        float y0 = std::clamp((cy - h / 2) / scale, 0.f, float(image_height));
        float x1 = std::clamp((cx + w / 2) / scale, 0.f, float(image_width));
        float y1 = std::clamp((cy + h / 2) / scale, 0.f, float(image_height));
        if (x1 <= x0 || y1 <= y0) continue;
        Detection d;
        d.class_index = int(best);
        d.label = classes == names.size() ? std::string(names[best]) : "class " + std::to_string(best);
        d.score = score;
        d.box = {x0, y0, x1 - x0, y1 - y0};
        dets.push_back(std::move(d));
      }
  }
  return nms(std::move(dets), p.nms_iou, p.max_detections);
}

}  // namespace dr::analyzers::objects::yolox
