// The DETR family (facebook/detr-resnet-50 and its ONNX exports): RGB input scaled to 0..1 and normalised with
// ImageNet's mean and std, shortest side resized (800 by default, longest at most 1333); outputs class logits
// [1, Q, 92] (COCO category ids 0..90 and a last "no object" class) and boxes [1, Q, 4] as centre x, centre y,
// width, height relative to the input image. Every query is one prediction; there is no NMS.
#pragma once
#include <array>
#include <vector>

#include "analyzers/objects/detection.h"
#include "image/decode.h"

namespace dr::analyzers::objects::detr {

struct Preprocessed {
  int width = 0, height = 0;
  std::vector<float> chw;  // 3 x height x width, R, G, B normalised
};

// Resizes so that the shortest side is `shortest` and the longest at most `longest` (bilinear), then normalises.
Preprocessed preprocess(const image::Rgb& img, int shortest, int longest, const std::array<float, 3>& mean,
                        const std::array<float, 3>& std);

// Softmax over each query's classes; the best class other than the last ("no object") wins; a query is kept when
// that class has a COCO name and its probability is at least `score_threshold`. Boxes come back in the pixels of an
// image_width x image_height image. Sorted by score, best first.
std::vector<Detection> decode(const float* logits, const float* boxes, size_t queries, size_t classes,
                              float score_threshold, int image_width, int image_height);

}  // namespace dr::analyzers::objects::detr
