#include "analyzers/objects/detection.h"

#include <algorithm>

namespace dr::analyzers::objects {

float iou(const Box& a, const Box& b) {
  float x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
  float x1 = std::min(a.x + a.w, b.x + b.w), y1 = std::min(a.y + a.h, b.y + b.h);
  float inter = std::max(0.f, x1 - x0) * std::max(0.f, y1 - y0);
  float uni = std::max(0.f, a.w) * std::max(0.f, a.h) + std::max(0.f, b.w) * std::max(0.f, b.h) - inter;
  return uni > 0 ? inter / uni : 0.f;
}

std::vector<Detection> nms(std::vector<Detection> dets, float iou_threshold, size_t max_keep) {
  std::stable_sort(dets.begin(), dets.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (auto& d : dets) {
    bool suppressed = false;
    for (auto& k : kept)
      if (k.class_index == d.class_index && iou(k.box, d.box) > iou_threshold) {
        suppressed = true;
        break;
      }
    if (suppressed) continue;
    kept.push_back(std::move(d));
    if (max_keep && kept.size() >= max_keep) break;
  }
  return kept;
}

}  // namespace dr::analyzers::objects
