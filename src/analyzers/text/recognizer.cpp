#include "analyzers/text/recognizer.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <stdexcept>

namespace dr::analyzers::text {

Charset Charset::from_text(const std::string& text, bool space_last) {
  Charset cs;
  cs.symbols_.emplace_back();  // the blank
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    cs.symbols_.push_back(std::move(line));
    start = end + 1;
  }
  if (space_last) cs.symbols_.emplace_back(" ");
  return cs;
}

Charset Charset::load(const std::string& path, bool space_last) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the recognizer's key file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  Charset cs = from_text(ss.str(), space_last);
  if (cs.classes() <= (space_last ? 2u : 1u))
    throw std::runtime_error("the recognizer's key file " + path + " holds no characters");
  return cs;
}

namespace {

// The index of the first largest value, as std::max_element finds it, but over 16 running maxima that the compiler
// turns into vector instructions: a line's steps x 6625 classes took 3 ms one element at a time, a tenth of
// the recognizer's own time on a line of small text. A row with a NaN (a broken model) goes to std::max_element,
// whose answer the lanes would not reproduce.
int argmax(const float* v, int n) {
  constexpr int kLanes = 16;
  if (n < 2 * kLanes) return int(std::max_element(v, v + n) - v);
  float lane[kLanes];
  int nan = 0;
  for (int k = 0; k < kLanes; ++k) lane[k] = v[k], nan |= v[k] != v[k];
  int i = kLanes;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      const float x = v[i + k];
      nan |= x != x;
      lane[k] = x > lane[k] ? x : lane[k];
    }
  float m = lane[0];
  for (int k = 1; k < kLanes; ++k) m = lane[k] > m ? lane[k] : m;
  for (; i < n; ++i) nan |= v[i] != v[i], m = v[i] > m ? v[i] : m;
  if (nan) return int(std::max_element(v, v + n) - v);
  for (int j = 0; j < n; ++j)
    if (v[j] == m) return j;
  return 0;  // unreachable: m is one of the values
}

// A symbol of a script written with spaces between its words: ASCII, or a Latin letter with an accent (two bytes
// in UTF-8 led by 0xC3 to 0xC9: U+00C0 to U+027F).
bool spaced_script(const std::string& symbol) {
  if (symbol.empty()) return false;
  const auto c = static_cast<unsigned char>(symbol[0]);
  return c < 0x80 || (c >= 0xC3 && c <= 0xC9);
}

}  // namespace

LineText ctc_greedy(const float* probs, int steps, int classes, const Charset& cs, float space_from_blank) {
  LineText out;
  double sum = 0;
  int kept = 0;
  int prev = -1;
  // The space is the charset's last class (Charset::from_text); a blank step where it comes close asks for one
  // before the next character, when both neighbours are of a script that spaces its words.
  const int space = cs.classes() > 1 && cs.symbol(cs.classes() - 1) == " " ? int(cs.classes()) - 1 : -1;
  const bool spaces_from_blanks = space > 0 && space < classes && space_from_blank > 0;
  bool wanted = false;
  int last = -1;  // the last class emitted
  for (int t = 0; t < steps; ++t) {
    const float* row = probs + size_t(t) * classes;
    int best = argmax(row, classes);
    if (best == 0 && spaces_from_blanks && row[space] >= space_from_blank && last > 0 && last != space) wanted = true;
    if (best != 0 && best != prev && size_t(best) < cs.classes()) {
      if (wanted && best != space && spaced_script(cs.symbol(size_t(last))) && spaced_script(cs.symbol(size_t(best))))
        out.text += ' ';
      wanted = false;
      out.text += cs.symbol(best);
      out.plain += cs.symbol(best);
      last = best;
      sum += row[best];
      ++kept;
    }
    prev = best;
  }
  out.score = kept ? float(sum / kept) : 0.0f;
  return out;
}

cv::Mat crop_quad(const cv::Mat& img, const Quad& q) {
  int w = int(std::max(cv::norm(q[0] - q[1]), cv::norm(q[2] - q[3])));
  int h = int(std::max(cv::norm(q[0] - q[3]), cv::norm(q[1] - q[2])));
  w = std::max(w, 1);
  h = std::max(h, 1);
  const cv::Point2f dst[4] = {{0, 0}, {float(w), 0}, {float(w), float(h)}, {0, float(h)}};
  cv::Mat m = cv::getPerspectiveTransform(q.data(), dst);
  cv::Mat out;
  cv::warpPerspective(img, out, m, cv::Size(w, h), cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  if (h >= 1.5 * w) cv::rotate(out, out, cv::ROTATE_90_COUNTERCLOCKWISE);
  return out;
}

int scaled_width(const cv::Mat& line, int height) {
  if (line.rows <= 0) return 1;
  return std::max(1, int(std::ceil(double(height) * line.cols / line.rows)));
}

std::vector<float> lines_tensor(const std::vector<cv::Mat>& lines, int height, int width, const Normalize& n,
                                size_t rows) {
  const size_t per = size_t(3) * height * width;
  std::vector<float> t(per * std::max(rows, lines.size()), 0.0f);
  cv::Mat resized;
  for (size_t i = 0; i < lines.size(); ++i) {
    int w = std::min(width, scaled_width(lines[i], height));
    cv::resize(lines[i], resized, cv::Size(w, height), 0, 0, cv::INTER_LINEAR);
    to_chw(resized, n, t.data() + i * per, width);
  }
  return t;
}

}  // namespace dr::analyzers::text
