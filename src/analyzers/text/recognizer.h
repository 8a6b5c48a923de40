// Text-line recognition (PP-OCR CRNN/SVTR models with a CTC head) and the orientation classifier's input: cropping a
// detected box upright, resizing lines to the models' height, batching them, and decoding the CTC output.
// Pure functions; the models are run by the caller. Follows PaddleOCR's inference code (PaddlePaddle/PaddleOCR:
// tools/infer/predict_system.py get_rotate_crop_image, tools/infer/predict_rec.py resize_norm_img,
// tools/infer/predict_cls.py, ppocr/postprocess/rec_postprocess.py CTCLabelDecode).
#pragma once
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "analyzers/text/detector.h"

namespace dr::analyzers::text {

// The characters a recognizer can emit: class 0 is the CTC blank, classes 1..n are the key file's lines, and class
// n + 1 is a space when the model has one (PP-OCR's use_space_char).
class Charset {
 public:
  Charset() = default;
  // Keys one per line ('\n' or "\r\n"); a last line without a newline counts.
  static Charset from_text(const std::string& text, bool space_last = true);
  // Reads a key file; throws std::runtime_error with the path when it cannot be read or is empty.
  static Charset load(const std::string& path, bool space_last = true);
  // Number of classes the model's output must have: blank + keys (+ space).
  size_t classes() const { return symbols_.size(); }
  const std::string& symbol(size_t cls) const { return symbols_[cls]; }

 private:
  std::vector<std::string> symbols_;  // index = class; [0] is the blank (empty)
};

struct LineText {
  std::string text;
  float score = 0;  // mean of the winning probabilities of the emitted characters; 0 for an empty line
  // The reading with only the spaces that won their steps (`text` less the spaces taken from blank steps): what the
  // glued-words rule judges, so that its decisions do not depend on OcrOptions::space_from_blank.
  std::string plain;
};

// Greedy CTC decoding of one line: `probs` is steps x classes (row-major), the best class per step, repeats merged,
// blanks dropped. With `space_from_blank` > 0, a blank step whose space probability is at least that much puts a
// space before the next character, when it and the one before are Latin (ASCII or accented) and no space came
// between them: small print, read tight, often has its word gaps won by the blank with the space second
// (BENCHMARKS.md, "Spaces from blank steps"). The space is the charset's last class.
LineText ctc_greedy(const float* probs, int steps, int classes, const Charset& cs, float space_from_blank = 0);

// The box cut out of the image with a perspective warp, upright: width = the longer of the top and bottom edges,
// height = the longer of the left and right edges; a crop at least 1.5 times taller than wide is turned 90 degrees
// counter-clockwise (text that runs down the page). Coordinates in `img`'s pixels.
cv::Mat crop_quad(const cv::Mat& img, const Quad& q);

// The width a line gets at `height` pixels high, keeping its aspect ratio: ceil(height * w / h), at least 1.
int scaled_width(const cv::Mat& line, int height);

// Resizes each line to `height` (width by aspect, at most `width`) and writes them as a [rows,3,height,width] tensor;
// the right of each line is padded with zeros (the normalised mid-grey, as PaddleOCR pads), and so are the rows
// after the lines (rows: at least lines.size(); 0 = lines.size()).
std::vector<float> lines_tensor(const std::vector<cv::Mat>& lines, int height, int width, const Normalize& n,
                                size_t rows = 0);

}  // namespace dr::analyzers::text
