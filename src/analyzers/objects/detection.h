// Plain result structs of object detection and the decoders shared by the detector families.
#pragma once
#include <string>
#include <vector>

namespace dr::analyzers::objects {

struct Box {
  float x = 0, y = 0, w = 0, h = 0;  // top-left corner and size, in pixels
};

struct Detection {
  int class_index = -1;  // the family's own class numbering (YOLOX: 0..79; DETR: COCO id 1..90)
  std::string label;     // "cat", "sports ball", ...
  float score = 0;       // 0..1
  Box box;
};

float iou(const Box& a, const Box& b);

// Class-aware non-maximum suppression: within each class_index, a detection is dropped when it overlaps a better one
// by more than `iou_threshold`. Returns the survivors sorted by score, best first, at most `max_keep` (0: all).
std::vector<Detection> nms(std::vector<Detection> dets, float iou_threshold, size_t max_keep = 0);

}  // namespace dr::analyzers::objects
