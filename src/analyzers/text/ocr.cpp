#include "analyzers/text/ocr.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "runtime/runtime.h"

namespace dr::analyzers::text {
namespace {

using Clock = std::chrono::steady_clock;

// A run of at least this many letters without a space: words read glued together.
constexpr int kGluedRun = 20;
// Or at least this many letters in words of this many letters on average.
constexpr int kGluedLetters = 24, kGluedMeanWord = 8;
// Small lines read first, tight, to decide whether a page's small print needs the margin.
constexpr size_t kProbeLines = 3;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

Ort::Value tensor(std::vector<float>& data, const std::vector<int64_t>& shape) {
  static const Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  return Ort::Value::CreateTensor<float>(mem, data.data(), data.size(), shape.data(), shape.size());
}

// The first output of one run, with its shape; throws when the model returned nothing usable.
const float* first_output(std::vector<Ort::Value>& outs, std::vector<int64_t>& shape, const char* what) {
  if (outs.empty() || !outs[0].IsTensor())
    throw std::runtime_error(std::string("the text ") + what + " returned no tensor");
  shape = outs[0].GetTensorTypeAndShapeInfo().GetShape();
  return outs[0].GetTensorData<float>();
}

// The median colour of a crop's outermost rows and columns: its background, as a rule.
cv::Scalar edge_colour(const cv::Mat& crop) {
  std::vector<uint8_t> ch[3];
  auto take = [&](int y, int x) {
    const auto& p = crop.at<cv::Vec3b>(y, x);
    for (int c = 0; c < 3; ++c) ch[c].push_back(p[c]);
  };
  for (int x = 0; x < crop.cols; ++x) take(0, x), take(crop.rows - 1, x);
  for (int y = 1; y + 1 < crop.rows; ++y) take(y, 0), take(y, crop.cols - 1);
  cv::Scalar s;
  for (int c = 0; c < 3; ++c) {
    auto mid = ch[c].begin() + ch[c].size() / 2;
    std::nth_element(ch[c].begin(), mid, ch[c].end());
    s[c] = *mid;
  }
  return s;
}

// The height of a box's text: its shorter side (a tall box is a line running down the page).
float text_height(const Quad& q) {
  const double w = std::max(cv::norm(q[0] - q[1]), cv::norm(q[2] - q[3]));
  const double h = std::max(cv::norm(q[0] - q[3]), cv::norm(q[1] - q[2]));
  return float(std::min(w, h));
}

// `crop` with `v` rows above and below and `h` columns at either side in the median colour of its edge.
cv::Mat bordered(const cv::Mat& crop, int v, int h) {
  cv::Mat out;
  cv::copyMakeBorder(crop, out, v, v, h, h, cv::BORDER_CONSTANT, edge_colour(crop));
  return out;
}

std::string trimmed(const std::string& s) {
  const size_t a = s.find_first_not_of(' ');
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(' ') - a + 1);
}

}  // namespace

bool glued_words(const std::string& text) {
  int run = 0, letters = 0, words = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    bool letter = c < 128 && std::isalpha(c);
    // Latin letters with accents (U+00C0 to U+024F, two bytes in UTF-8) count too; other scripts have no spaces
    // to lose.
    if (c >= 0xC3 && c <= 0xC9 && i + 1 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xC0) == 0x80) {
      const unsigned cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu);
      letter = cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7;
      ++i;
    }
    if (letter) {
      ++letters;
      if (run == 0) ++words;
    }
    run = letter ? run + 1 : 0;
    if (run >= kGluedRun) return true;
  }
  // Some of the spaces lost: words of 8 letters on average, where prose has about 5.
  return letters >= kGluedLetters && letters >= kGluedMeanWord * words;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool spaces_the_same_letters(const std::string& first, const std::string& second) {
  std::string a = trimmed(first), b = trimmed(second);
  const auto spaces_a = std::count(a.begin(), a.end(), ' '), spaces_b = std::count(b.begin(), b.end(), ' ');
  a.erase(std::remove(a.begin(), a.end(), ' '), a.end());
  b.erase(std::remove(b.begin(), b.end(), ' '), b.end());
  if (a.empty() || spaces_b <= spaces_a) return false;
  return a == b || edit_distance(a, b) <= a.size() / kRereadLettersPerEdit;
}

Ocr::Ocr(Model detector, std::optional<Model> classifier, Model recognizer, Charset charset, OcrOptions opts)
    : det_(std::move(detector)),
      cls_(std::move(classifier)),
      rec_(std::move(recognizer)),
      charset_(std::move(charset)),
      opts_(opts) {}

std::vector<DetBox> Ocr::detect(const cv::Mat& rgb) const {
  if (rgb.empty()) return {};
  cv::Size size;
  std::vector<float> input = det_preprocess(rgb, det_.norm, opts_.det, size);
  // The detector keeps the photo's own input shape on the GPU too, though a GPU prepares its convolutions for each
  // new shape: on a padded canvas its feature statistics change, boxes move by a pixel or two and imageTextN.png
  // reads "topie" for "topic" (BENCHMARKS.md, "The GPU path").
  std::vector<Ort::Value> in;
  in.push_back(tensor(input, {1, 3, size.height, size.width}));
  auto outs = det_.run(in);
  std::vector<int64_t> shape;
  const float* p = first_output(outs, shape, "detector");
  if (shape.size() < 2 || shape[shape.size() - 1] != size.width || shape[shape.size() - 2] != size.height)
    throw std::runtime_error("the text detector's output is not a probability map of its input's size");
  // The map is only read, never written: wrapping the output's buffer avoids a copy.
  cv::Mat prob(size.height, size.width, CV_32F, const_cast<float*>(p));
  return merge_row_pieces(db_boxes(prob, rgb.cols, rgb.rows, opts_.det));
}

std::vector<bool> Ocr::orient(std::vector<cv::Mat>& lines) const {
  std::vector<bool> turned(lines.size(), false);
  if (!cls_ || !opts_.classify || lines.empty()) return turned;
  // PaddleOCR squeezes a whole line into the classifier's 192x48 input; a long line then becomes unreadable and is
  // sometimes turned upside down by mistake (imageTextN.png loses a line that way). Here a line wider than the
  // input is judged on up to three windows of the input's aspect (start, middle, end) and the votes are averaged.
  const double aspect = double(opts_.cls_width) / opts_.cls_height;
  std::vector<std::vector<cv::Mat>> windows(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const cv::Mat& l = lines[i];
    int win = std::max(1, int(std::lround(aspect * l.rows)));
    if (l.cols <= win * 1.25) {
      windows[i].push_back(l);
      continue;
    }
    int k = std::min(3, int(std::ceil(double(l.cols) / win)));
    for (int j = 0; j < k; ++j) {
      int x = int(std::lround(double(l.cols - win) * j / (k - 1)));
      windows[i].push_back(l(cv::Rect(x, 0, win, l.rows)));
    }
    std::swap(windows[i][0], windows[i][k / 2]);  // the middle window first
  }
  std::vector<double> votes(lines.size(), 0.0);
  // Runs the classifier on windows[i][from..to) of the lines `which`, adding their votes for 180 degrees.
  auto classify = [&](const std::vector<size_t>& which, size_t from, size_t to) {
    std::vector<cv::Mat> batch;
    std::vector<size_t> owner;
    for (size_t i : which)
      for (size_t j = from; j < std::min(to, windows[i].size()); ++j)
        batch.push_back(windows[i][j]), owner.push_back(i);
    const size_t per_run = 16;
    for (size_t start = 0; start < batch.size(); start += per_run) {
      size_t n = std::min(batch.size() - start, per_run);
      std::vector<cv::Mat> group(batch.begin() + start, batch.begin() + start + n);
      // On the GPU, blank lines pad the batch to a power of two: few shapes.
      const size_t rows = cls_->gpu() ? runtime::gpu_batch(n, per_run) : n;
      std::vector<float> input = lines_tensor(group, opts_.cls_height, opts_.cls_width, cls_->norm, rows);
      std::vector<Ort::Value> in;
      in.push_back(tensor(input, {int64_t(rows), 3, opts_.cls_height, opts_.cls_width}));
      auto outs = cls_->run(in);
      std::vector<int64_t> shape;
      const float* p = first_output(outs, shape, "orientation classifier");
      if (shape.size() != 2 || shape[0] != int64_t(rows) || shape[1] < 2)
        throw std::runtime_error("the text orientation classifier's output is not [lines, 2]");
      for (size_t i = 0; i < n; ++i) {
        const float* row = p + i * shape[1];
        votes[owner[start + i]] += row[1] / (row[0] + row[1]);
      }
    }
  };
  std::vector<size_t> all(lines.size());
  std::iota(all.begin(), all.end(), 0);
  classify(all, 0, 1);
  // A line of k windows is turned when their mean vote reaches cls_thresh; when its first vote v is below
  // k * cls_thresh - (k - 1), the other k - 1 votes (at most 1 each) cannot bring the mean there, and they are
  // not asked for (1e-6: rounding): the same decisions as asking every window, for a third of the work on pages of
  // long lines.
  std::vector<size_t> undecided;
  for (size_t i = 0; i < lines.size(); ++i) {
    const double k = double(windows[i].size());
    if (windows[i].size() > 1 && votes[i] >= k * opts_.cls_thresh - (k - 1) - 1e-6) undecided.push_back(i);
  }
  classify(undecided, 1, 3);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (votes[i] / double(windows[i].size()) >= opts_.cls_thresh) {
      cv::rotate(lines[i], lines[i], cv::ROTATE_180);
      turned[i] = true;
    }
  }
  return turned;
}

std::vector<LineText> Ocr::recognize(const std::vector<cv::Mat>& lines) const {
  std::vector<LineText> out(lines.size());
  if (lines.empty()) return out;
  const int h = opts_.rec_height;
  std::vector<int> widths(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) widths[i] = scaled_width(lines[i], h);
  // Lines of similar widths share a run, so that little of each batch is padding.
  std::vector<size_t> order(lines.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return widths[a] < widths[b]; });
  size_t start = 0;
  while (start < order.size()) {
    size_t end = start + 1;
    while (end < order.size() && end - start < size_t(std::max(opts_.rec_batch, 1)) &&
           widths[order[end]] <= opts_.rec_width_spread * widths[order[start]])
      ++end;
    int width = std::max(widths[order[end - 1]], opts_.rec_min_width);
    width = (width + 7) / 8 * 8;  // the recognizer downsamples the width by 8
    std::vector<cv::Mat> group;
    for (size_t k = start; k < end; ++k) group.push_back(lines[order[k]]);
    size_t rows = group.size();
    if (rec_.gpu()) {
      // On the GPU: widths in steps of 128 and batches padded to a power of two, so that few shapes occur.
      width = (width + 127) / 128 * 128;
      rows = runtime::gpu_batch(rows, size_t(std::max(opts_.rec_batch, 1)));
    }
    std::vector<float> input = lines_tensor(group, h, width, rec_.norm, rows);
    std::vector<Ort::Value> in;
    in.push_back(tensor(input, {int64_t(rows), 3, h, width}));
    auto outs = rec_.run(in);
    std::vector<int64_t> shape;
    const float* p = first_output(outs, shape, "recognizer");
    if (shape.size() != 3 || shape[0] != int64_t(rows))
      throw std::runtime_error("the text recognizer's output is not [lines, steps, classes]");
    if (size_t(shape[2]) != charset_.classes())
      throw std::runtime_error("the text recognizer has " + std::to_string(shape[2]) +
                               " classes but its key file gives " + std::to_string(charset_.classes()) +
                               "; the key file does not belong to this model");
    for (size_t k = 0; k < group.size(); ++k)
      out[order[start + k]] =
          ctc_greedy(p + k * shape[1] * shape[2], int(shape[1]), int(shape[2]), charset_, opts_.space_from_blank);
    start = end;
  }
  return out;
}

std::vector<LineText> Ocr::read_lines(const std::vector<cv::Mat>& lines, const std::vector<bool>& small,
                                      OcrTimings& timings) const {
  if (small.size() != lines.size()) throw std::invalid_argument("read_lines: one 'small' flag per line");
  if (!opts_.reread_glued || opts_.crop_margin <= 0) return recognize(lines);
  // The small crops have their side margins already; this adds the one above and below.
  auto with_margin = [&](const cv::Mat& c) { return bordered(c, margin_of(c), 0); };
  // Reads the lines `which`, tight or with the margin, into `out`.
  std::vector<LineText> out(lines.size());
  auto read = [&](const std::vector<size_t>& which, bool margin) {
    std::vector<cv::Mat> batch;
    for (size_t i : which) batch.push_back(margin ? with_margin(lines[i]) : lines[i]);
    auto texts = recognize(batch);
    for (size_t k = 0; k < which.size(); ++k) out[which[k]] = std::move(texts[k]);
  };
  // Re-reads the glued small lines among `which` with the margin; returns how many readings that improved.
  auto reread = [&](const std::vector<size_t>& which) {
    std::vector<size_t> again;
    for (size_t i : which)
      if (small[i] && glued_words(out[i].plain)) again.push_back(i);
    if (again.empty()) return 0;
    std::vector<LineText> before;
    for (size_t i : again) before.push_back(out[i]);
    read(again, true);
    timings.rereads += int(again.size());
    int better = 0;
    for (size_t k = 0; k < again.size(); ++k) {
      if (spaces_the_same_letters(before[k].plain, out[again[k]].plain))
        ++better;
      else
        out[again[k]] = std::move(before[k]);
    }
    return better;
  };
  std::vector<size_t> first, rest;
  size_t probes = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (small[i] && probes >= kProbeLines)
      rest.push_back(i);
    else
      first.push_back(i), probes += small[i];
  }
  read(first, false);
  const int better = reread(first);
  // The page's first three small lines were all glued words that the margin separated: its other small lines are
  // taken to be the same print, and read with the margin without the tight reading first (and so unchecked).
  timings.margin_page = probes == kProbeLines && size_t(better) == kProbeLines;
  if (timings.margin_page) {
    read(rest, true);
  } else {
    read(rest, false);
    reread(rest);
  }
  return out;
}

OcrResult Ocr::run(const cv::Mat& rgb, const std::function<cv::Mat()>& full) const {
  OcrResult res;
  auto t0 = Clock::now();
  std::vector<DetBox> boxes = detect(rgb);
  res.timings.detect_ms = ms_since(t0);
  res.timings.boxes = int(boxes.size());
  if (boxes.empty()) return res;

  std::vector<cv::Mat> crops;
  crops.reserve(boxes.size());
  std::vector<bool> small;  // crops with the margin on their sides only
  cv::Mat fine;
  bool fine_asked = false;
  for (auto& b : boxes) {
    cv::Mat crop;
    if (full && opts_.fine_below > 0 && text_height(b.quad) < opts_.fine_below) {
      if (!fine_asked) {
        fine_asked = true;
        auto tf = Clock::now();
        fine = full();
        res.timings.fine_decode_ms = ms_since(tf);
        // The same picture, larger in both directions by one factor (up to rounding), or it is not used.
        const double fx = double(fine.cols) / rgb.cols, fy = double(fine.rows) / rgb.rows;
        if (!fine.empty() && (fine.type() != CV_8UC3 || fx <= 1.0 || fy <= 1.0 ||
                              std::abs(fx / fy - 1.0) > 0.02 + 1.0 / std::min(rgb.cols, rgb.rows)))
          fine = cv::Mat();
      }
      if (!fine.empty()) {
        const float sx = float(fine.cols) / float(rgb.cols), sy = float(fine.rows) / float(rgb.rows);
        Quad q = b.quad;
        for (auto& p : q) p = {p.x * sx, p.y * sy};
        crop = crop_quad(fine, q);
        ++res.timings.fine_crops;
      }
    }
    crops.push_back(crop.empty() ? crop_quad(rgb, b.quad) : crop);
    // Small crops get the margin on their sides only (see crop_margin_min_height).
    const int m = margin_of(crops.back());
    const int v = crops.back().rows >= opts_.crop_margin_min_height ? m : 0;
    if (m > 0) crops.back() = bordered(crops.back(), v, m);
    small.push_back(m > 0 && v == 0);
  }
  t0 = Clock::now();
  std::vector<bool> turned = orient(crops);
  res.timings.classify_ms = ms_since(t0);
  t0 = Clock::now();
  std::vector<LineText> texts = read_lines(crops, small, res.timings);
  res.timings.recognize_ms = ms_since(t0);

  std::vector<Quad> kept_boxes;
  std::vector<std::string> kept_texts;
  std::vector<float> kept_scores;
  size_t kept_turned = 0;
  for (size_t i = 0; i < boxes.size(); ++i) {
    // The margin around a crop may read as a space at either end.
    std::string& t = texts[i].text;
    t.erase(0, t.find_first_not_of(' '));
    t.erase(t.find_last_not_of(' ') + 1);
    if (t.empty() || texts[i].score < opts_.drop_score) continue;
    kept_boxes.push_back(boxes[i].quad);
    kept_texts.push_back(texts[i].text);
    kept_scores.push_back(texts[i].score);
    kept_turned += turned[i];
  }
  // A photo taken upside down: most lines were turned, so the page is read from its bottom-right corner.
  std::vector<Quad> order_boxes = kept_boxes;
  if (2 * kept_turned > kept_boxes.size())
    for (auto& q : order_boxes) q = {-q[2], -q[3], -q[0], -q[1]};
  auto rows = reading_rows(order_boxes);
  for (auto& r : rows)
    for (size_t i : r) res.lines.push_back({kept_texts[i], kept_scores[i], kept_boxes[i]});
  res.full = join_rows(rows, kept_texts);
  return res;
}

}  // namespace dr::analyzers::text
