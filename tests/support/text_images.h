// Images with known text for the OCR tests and benchmarks, made on the spot: lines rendered with OpenCV's Hershey
// fonts in several fonts, sizes and colours, on plain backgrounds or on a real photo, optionally rotated; and the
// character error rate used to score what was read. Header-only so that bench/ can use the same images.
#pragma once
#include <algorithm>
#include <cctype>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "analyzers/text/ocr.h"
#include "image/decode.h"

namespace dr::test {

struct TextLineSpec {
  std::string text;
  int font = cv::FONT_HERSHEY_SIMPLEX;
  double scale = 1.0;
  cv::Scalar ink{20, 20, 20};  // RGB
  int thickness = 2;
};

struct TextImage {
  cv::Mat rgb;        // CV_8UC3, RGB
  std::string truth;  // the lines, top to bottom, joined with '\n'
};

// The lines drawn one under the other from (x0, y0), spaced by their own height; `band` draws a filled rectangle
// behind a line when its alpha channel (the 4th value) is not 0.
inline TextImage draw_lines(cv::Mat canvas, const std::vector<TextLineSpec>& lines, int x0 = 40, int y0 = 40,
                            const std::vector<cv::Scalar>& bands = {}) {
  TextImage out;
  int y = y0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& l = lines[i];
    int base = 0;
    cv::Size sz = cv::getTextSize(l.text, l.font, l.scale, l.thickness, &base);
    y += sz.height;
    if (i < bands.size() && bands[i][3] != 0)
      cv::rectangle(canvas, cv::Rect(x0 - 12, y - sz.height - 12, sz.width + 24, sz.height + base + 24),
                    cv::Scalar(bands[i][0], bands[i][1], bands[i][2]), cv::FILLED);
    cv::putText(canvas, l.text, cv::Point(x0, y), l.font, l.scale, l.ink, l.thickness, cv::LINE_AA);
    y += base + sz.height;  // a line's height of space between lines
    out.truth += (out.truth.empty() ? "" : "\n") + l.text;
  }
  out.rgb = canvas;
  return out;
}

// Six lines in four fonts, sizes from small to large, dark, coloured and light-on-dark.
inline std::vector<TextLineSpec> sample_lines() {
  return {
      {"Harbour Street 42", cv::FONT_HERSHEY_SIMPLEX, 1.6, {20, 20, 20}, 3},
      {"Open daily from 9 to 17", cv::FONT_HERSHEY_DUPLEX, 1.0, {180, 30, 30}, 2},
      {"Fresh bread and coffee", cv::FONT_HERSHEY_COMPLEX, 1.1, {30, 60, 160}, 2},
      {"NO PARKING", cv::FONT_HERSHEY_TRIPLEX, 1.4, {240, 240, 240}, 2},
      {"Tickets at the front desk", cv::FONT_HERSHEY_SIMPLEX, 0.8, {40, 110, 40}, 2},
      {"Platform 3 departures 18:45", cv::FONT_HERSHEY_DUPLEX, 0.9, {60, 60, 60}, 1},
  };
}

inline std::vector<cv::Scalar> sample_bands() {
  return {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {30, 40, 90, 255}, {0, 0, 0, 0}, {0, 0, 0, 0}};
}

// The sample lines on a plain light background (860 x 560).
inline TextImage plain_sample() {
  return draw_lines(cv::Mat(560, 860, CV_8UC3, cv::Scalar(245, 240, 228)), sample_lines(), 40, 40, sample_bands());
}

// Rotates about the centre by `degrees` (counter-clockwise), growing the canvas so nothing is cut off.
inline cv::Mat rotated(const cv::Mat& img, double degrees, cv::Scalar fill = {245, 240, 228}) {
  cv::Point2f c(img.cols / 2.0f, img.rows / 2.0f);
  cv::Mat m = cv::getRotationMatrix2D(c, degrees, 1.0);
  cv::Rect2f bb = cv::RotatedRect(c, img.size(), float(degrees)).boundingRect2f();
  m.at<double>(0, 2) += bb.width / 2.0 - c.x;
  m.at<double>(1, 2) += bb.height / 2.0 - c.y;
  cv::Mat out;
  cv::warpAffine(img, out, m, bb.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, fill);
  return out;
}

// Collapses every run of whitespace to one space and trims both ends.
inline std::string squeeze(const std::string& s) {
  std::string out;
  bool space = false;
  for (unsigned char ch : s) {
    if (std::isspace(ch)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += char(ch);
  }
  return out;
}

// The picture as the decoder hands it to the tasks; the displayed size defaults to the picture's own.
inline image::Decoded decoded(const cv::Mat& rgb, int display_w = 0, int display_h = 0) {
  image::Decoded d;
  d.rgb.width = rgb.cols;
  d.rgb.height = rgb.rows;
  cv::Mat c = rgb.isContinuous() ? rgb : rgb.clone();
  d.rgb.pixels.assign(c.data, c.data + c.total() * 3);
  d.info.display_width = display_w ? display_w : rgb.cols;
  d.info.display_height = display_h ? display_h : rgb.rows;
  return d;
}

using analyzers::text::edit_distance;  // over bytes (the texts here are ASCII)

// Character error rate of `got` against `truth`, whitespace squeezed: edits / characters of the truth.
inline double cer(const std::string& got, const std::string& truth) {
  std::string g = squeeze(got), t = squeeze(truth);
  return t.empty() ? (g.empty() ? 0.0 : 1.0) : double(edit_distance(g, t)) / t.size();
}

}  // namespace dr::test
