// The OCR pipeline: DB detection -> upright crops -> 0/180-degree orientation -> CTC recognition -> reading order.
// Pixels in, lines out. The models are given as functions that run one inference (the task passes
// runtime::Session::run), so the pipeline knows nothing of sessions, devices, the catalog or the queue.
#pragma once
#include <onnxruntime_cxx_api.h>

#include <functional>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "analyzers/text/detector.h"
#include "analyzers/text/layout.h"
#include "analyzers/text/recognizer.h"

namespace dr::analyzers::text {

// One inference: inputs in the model's input order, every output returned.
using Infer = std::function<std::vector<Ort::Value>(std::vector<Ort::Value>&)>;

struct Model {
  Infer run;
  Normalize norm;
};

struct OcrOptions {
  DetParams det;
  bool classify = true;     // run the 0/180-degree classifier (when one is given)
  float cls_thresh = 0.9f;  // a line is turned only when the classifier says 180 with at least this probability
  int cls_height = 48, cls_width = 192;
  int rec_height = 48;
  int rec_batch = 8;              // lines per recognition run
  int rec_min_width = 0;          // pad narrower batches to this width (PaddleOCR: 320); 0 = as wide as the widest line
  float rec_width_spread = 2.0f;  // a batch closes when a line is this many times wider than its first line
  float drop_score = 0.5f;        // lines recognised with a lower confidence are dropped
};

struct TextLine {
  std::string text;
  float score = 0;
  Quad box;  // in the input image's pixels
};

struct OcrTimings {
  double detect_ms = 0, classify_ms = 0, recognize_ms = 0;
  int boxes = 0;  // boxes found by the detector (before low-confidence lines are dropped)
};

struct OcrResult {
  std::vector<TextLine> lines;  // in reading order (of the page turned upright when most lines were upside down)
  std::string full;             // the lines' text in reading order: one row of text per line
  OcrTimings timings;
};

class Ocr {
 public:
  // `classifier` may be empty (no orientation step).
  Ocr(Model detector, std::optional<Model> classifier, Model recognizer, Charset charset, OcrOptions opts = {});

  // Thread-safe when the models' run functions are. `rgb` is CV_8UC3 in RGB order.
  OcrResult run(const cv::Mat& rgb) const;

  // The steps, for tests and benchmarks.
  std::vector<DetBox> detect(const cv::Mat& rgb) const;
  // Turns upside-down lines upright in place; returns which were turned.
  std::vector<bool> orient(std::vector<cv::Mat>& lines) const;
  std::vector<LineText> recognize(const std::vector<cv::Mat>& lines) const;

  const OcrOptions& options() const { return opts_; }

 private:
  Model det_;
  std::optional<Model> cls_;
  Model rec_;
  Charset charset_;
  OcrOptions opts_;
};

}  // namespace dr::analyzers::text
