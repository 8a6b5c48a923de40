// The OCR pipeline: DB detection -> upright crops -> 0/180-degree orientation -> CTC recognition -> reading order.
// Pixels in, lines out. The models are given as functions that run one inference (the task passes
// runtime::Session::run), so the pipeline knows nothing of sessions, devices, the catalog or the queue.
#pragma once
#include <onnxruntime_cxx_api.h>

#include <cmath>
#include <functional>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <string_view>
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
  // Whether `run` is on a GPU now; there batches are padded to powers of two and recognizer widths to steps of 128
  // (runtime::Session::on_gpu says why). Empty: never.
  std::function<bool()> on_gpu;
  bool gpu() const { return on_gpu && on_gpu(); }
};

struct OcrOptions {
  DetParams det;
  bool classify = true;     // run the 0/180-degree classifier (when one is given)
  float cls_thresh = 0.9f;  // a line is turned only when the classifier says 180 with at least this probability
  int cls_height = 48, cls_width = 192;
  int rec_height = 48;
  // Lines per recognition run. On the CPU one line per run is cheapest: imageTextN.png read twice cost 10.5 s of
  // CPU in runs of up to 8 lines and 8.2 s one line at a time (the padding of a batch is work too). The task asks for
  // 8 when the recognizer runs on a GPU.
  int rec_batch = 1;
  int rec_min_width = 0;          // pad narrower batches to this width (PaddleOCR: 320); 0 = as wide as the widest line
  float rec_width_spread = 2.0f;  // a batch closes when a line is this many times wider than its first line
  float drop_score = 0.5f;        // lines recognised with a lower confidence are dropped
  // A blank step of the recognizer's output whose space probability is at least this much counts as a space
  // between Latin characters (ctc_greedy); 0 = only steps the space wins. 0.1: imageTextR.png's wrong characters
  // 18 -> 1, bench/text_precision's 1641 -> 1047; lower thresholds gained little more (BENCHMARKS.md, "Spaces from
  // blank steps"). The glued-words rule (reread_glued) judges the readings without these spaces.
  float space_from_blank = 0.1f;
  // Background added around each crop, as a fraction of its height, in the median colour of its edge. Crops as tight as
  // the DB boxes lose the spaces between words; a wider unclip would fix that but takes in the neighbouring lines
  // of dense text. See BENCHMARKS.md (Text) for the measurement.
  float crop_margin = 0.3f;
  // Only crops at least this tall get the margin above and below (smaller ones on their sides only): small text
  // (imageTextR.png's 18-pixel lines) is already enlarged to the recognizer's 48 pixels, and shrinking it further
  // costs more characters than the margin saves.
  int crop_margin_min_height = 24;
  // Boxes whose text is less tall than this, in the pixels run() is given, are cut from the full-resolution photo
  // when run() is given one (a photo decoded smaller): a 2000-pixel line of 22-point text decoded at 1600 pixels
  // loses every space between its words, and reads exactly from the full-size pixels. 0 = never.
  int fine_below = 32;
  // Small crops (no margin above and below) read tight lose the spaces between the words of small sans-serif print,
  // and read with the margin they lose letters of small serif print. So a small line read as glued words
  // (glued_words()) is read again with the margin, and that reading is taken when it has the same letters (but for
  // one in 20) and more spaces. When a page's first three small lines were all glued lines whose second reading was
  // taken, its other small lines are read with the margin at once (one reading each instead of two) and taken as read:
  // on a page that mixes the two kinds of small print, serif lines below three such lines may lose letters (the cost of
  // this shortcut; the dense page's one wrong character is such a reading). See BENCHMARKS.md ("Text").
  bool reread_glued = true;
};

struct TextLine {
  std::string text;
  float score = 0;
  Quad box;  // in the input image's pixels
};

struct OcrTimings {
  double detect_ms = 0, classify_ms = 0, recognize_ms = 0;
  int boxes = 0;              // boxes found by the detector (before low-confidence lines are dropped)
  int fine_crops = 0;         // boxes cut from the full-resolution photo (OcrOptions::fine_below)
  double fine_decode_ms = 0;  // what getting that photo cost
  int rereads = 0;            // glued lines read again with the margin (OcrOptions::reread_glued)
  bool margin_page = false;   // the page's small lines were read with the margin at once
};

struct OcrResult {
  std::vector<TextLine> lines;  // in reading order (of the page turned upright when most lines were upside down)
  std::string full;             // the lines' text in reading order: one row of text per line
  OcrTimings timings;
};

// A reading with a run of 20 or more letters and no space, or with 24 letters or more in words of 8 letters or more
// on average (prose averages about 5): words read glued together (OcrOptions::reread_glued). Letters are Latin
// ones, accented or not; scripts written without spaces never count as glued.
bool glued_words(const std::string& text);
// Whether `second` reads the letters of `first`, but for at most one in 20 (kRereadLettersPerEdit; edits of the
// letters without their spaces), with more spaces between them (ends ignored): what a second reading of a glued
// line must do to be taken. The second reading, with the margin above and below, reads small sans-serif letters
// at least as well, so a letter it reads otherwise is no reason to refuse its spaces (BENCHMARKS.md, "Float against
// int8 on print neither was tuned on": 602 -> 494 wrong characters on 41 pages of small print in float).
constexpr size_t kRereadLettersPerEdit = 20;
bool spaces_the_same_letters(const std::string& first, const std::string& second);
// Levenshtein distance over bytes.
size_t edit_distance(std::string_view a, std::string_view b);

class Ocr {
 public:
  // `classifier` may be empty (no orientation step).
  Ocr(Model detector, std::optional<Model> classifier, Model recognizer, Charset charset, OcrOptions opts = {});

  // Thread-safe when the models' run functions are. `rgb` is CV_8UC3 in RGB order. `full`, when given, returns the
  // same picture at a higher resolution (or an empty Mat when it cannot): it is called at most once, and only when
  // a box is smaller than OcrOptions::fine_below. Boxes in the result are in `rgb`'s pixels either way.
  OcrResult run(const cv::Mat& rgb, const std::function<cv::Mat()>& full = {}) const;

  // The steps, for tests and benchmarks.
  std::vector<DetBox> detect(const cv::Mat& rgb) const;
  // Turns upside-down lines upright in place; returns which were turned.
  std::vector<bool> orient(std::vector<cv::Mat>& lines) const;
  std::vector<LineText> recognize(const std::vector<cv::Mat>& lines) const;
  // recognize() with the glued-words rule for the lines marked small (OcrOptions::reread_glued).
  std::vector<LineText> read_lines(const std::vector<cv::Mat>& lines, const std::vector<bool>& small,
                                   OcrTimings& timings) const;

  const OcrOptions& options() const { return opts_; }

 private:
  // The background added around a crop, in pixels: OcrOptions::crop_margin of its height (0 when off).
  int margin_of(const cv::Mat& crop) const {
    return opts_.crop_margin > 0 ? int(std::lround(opts_.crop_margin * crop.rows)) : 0;
  }

  Model det_;
  std::optional<Model> cls_;
  Model rec_;
  Charset charset_;
  OcrOptions opts_;
};

}  // namespace dr::analyzers::text
