// DB text detection (the "Differentiable Binarization" detector of PP-OCR): the pre-processing that turns a photo
// into the detector's input tensor, and the post-processing that turns its probability map into quadrilaterals.
// Pure functions of pixels and floats; the model itself is run by the caller.
//
// Both follow PaddleOCR's inference code for these models (PaddlePaddle/PaddleOCR, read at commit 03ed63ea:
// ppocr/data/imaug/operators.py DetResizeForTest.resize_image_type0 and NormalizeImage; tools/infer/predict_det.py
// for the normalisation constants and filter_tag_det_res; ppocr/postprocess/db_postprocess.py for boxes_from_bitmap,
// get_mini_boxes, box_score_fast and unclip; tools/infer/utility.py for the defaults limit_type "max",
// limit_side_len 960, thresh 0.3, box_thresh 0.6, unclip_ratio 1.5).
#pragma once
#include <array>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <vector>

namespace dr::analyzers::text {

// A text box: four corners, clockwise from the top-left as read (top-left, top-right, bottom-right, bottom-left).
using Quad = std::array<cv::Point2f, 4>;

// How an image becomes a float tensor: value = (pixel * scale - mean[c]) / std[c], channels in `bgr` or RGB order.
// PaddleOCR reads images with cv2.imread (BGR) and applies mean[0] to the blue channel, so its models want BGR.
struct Normalize {
  bool bgr = true;
  float scale = 1.0f / 255.0f;
  std::array<float, 3> mean{0.5f, 0.5f, 0.5f};
  std::array<float, 3> std{0.5f, 0.5f, 0.5f};
  // From a manifest entry's "input" object: "colour" ("RGB" or "BGR"), "scale", "mean", "std".
  static Normalize from_input(const nlohmann::json& input);
};

// Writes an 8-bit RGB image (CV_8UC3) as a planar CHW float tensor of 3 * rows * cols values at `out`, whose rows
// are `out_cols` floats long (>= img.cols); the columns beyond img.cols are left as they are.
void to_chw(const cv::Mat& rgb, const Normalize& n, float* out, int out_cols);

struct DetParams {
  int limit_side = 960;       // the longest side of the detector's input is at most this (PaddleOCR limit_type "max")
  int multiple = 32;          // both sides are rounded to a multiple of this
  float thresh = 0.3f;        // binarisation of the probability map
  float box_thresh = 0.6f;    // a box's mean probability must reach this
  float unclip_ratio = 1.5f;  // the DB expansion: distance = area * ratio / perimeter
  int max_candidates = 1000;
  int min_size = 3;  // shortest side of a candidate box, in probability-map pixels
};

// The detector's input size for an image: PaddleOCR's resize_image_type0 with limit_type "max" (never enlarges),
// each side rounded to the nearest multiple (at least one multiple).
cv::Size det_input_size(int width, int height, const DetParams& p);

// Resizes and normalises an RGB image into a [1,3,H,W] tensor (H, W from det_input_size).
std::vector<float> det_preprocess(const cv::Mat& rgb, const Normalize& n, const DetParams& p, cv::Size& size);

struct DetBox {
  Quad quad;  // in the source image's pixels, ordered as Quad says
  float score = 0;
};

// Post-processing of a probability map (`prob`, CV_32F, the detector's input size) into boxes in the source image's
// pixels (src_w x src_h). Boxes are not sorted; see reading_order().
std::vector<DetBox> db_boxes(const cv::Mat& prob, int src_w, int src_h, const DetParams& p);

// The minimum-area rectangle of a point set, its corners ordered as PaddleOCR's get_mini_boxes does (left pair
// sorted by y, right pair sorted by y, then top-left, top-right, bottom-right, bottom-left). `short_side` receives
// the rectangle's shorter side.
Quad mini_box(const std::vector<cv::Point2f>& pts, float& short_side);

// Expands a convex polygon outwards by area * ratio / perimeter with Clipper (round joins); empty when the result
// is not one polygon.
std::vector<cv::Point2f> unclip(const Quad& q, float ratio);

// The mean of `prob` inside the quad (PaddleOCR's "fast" score: the polygon filled on its bounding box).
float box_score(const cv::Mat& prob, const Quad& q);

// Orders four corners clockwise from the top-left (PaddleOCR's order_points_clockwise).
Quad order_clockwise(const Quad& q);

}  // namespace dr::analyzers::text
