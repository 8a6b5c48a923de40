// The YOLOX family (nano at 416, the larger sizes at 640): letterboxed BGR input with raw 0..255 values, and one
// output row per grid cell of strides 8, 16 and 32 (see ../shared/models/MODELS.md for the facts measured here).
#pragma once
#include <vector>

#include "analyzers/objects/detection.h"
#include "image/decode.h"

namespace dr::analyzers::objects::yolox {

struct Letterbox {
  int width = 0, height = 0;  // the model's input size
  float scale = 1;            // model pixels per image pixel
  std::vector<float> chw;     // 3 x height x width, channels B, G, R (or R, G, B when rgb is set)
};

// Scales the image to fit width x height keeping its aspect ratio, places it at the top-left corner and fills the
// rest with `pad`. Values stay raw (0..255).
Letterbox letterbox(const image::Rgb& img, int width, int height, float pad = 114, bool rgb = false);

struct DecodeParams {
  int input_width = 416, input_height = 416;
  std::vector<int> strides = {8, 16, 32};
  float score_threshold = 0.3f;  // on objectness * class score
  float nms_iou = 0.45f;
  size_t max_detections = 100;
};

// Decodes an output of shape [rows, 5 + classes] (rows = the sum over strides of (H/s) * (W/s), cells in row-major
// order, stride by stride). Boxes come back in letterboxed-model pixels divided by `scale` (the image's pixels),
// clipped to image_width x image_height. Labels are COCO's 80 names when classes == 80. Throws
// std::invalid_argument when rows does not match the strides.
std::vector<Detection> decode(const float* out, size_t rows, size_t classes, const DecodeParams& p, float scale,
                              int image_width, int image_height);

}  // namespace dr::analyzers::objects::yolox
