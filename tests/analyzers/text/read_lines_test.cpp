// Ocr::read_lines, the glued-words rule, with a recognizer made here: no model is needed. The fake recognizer reads
// a line's number from its bars and tells a tight crop from one with the margin above and below (the bars reach the
// top row only in a tight crop); it reads tight crops as glued words and margin crops as spaced ones, except for
// the lines it is told to misread with the margin.
#include <gtest/gtest.h>
#include <onnxruntime_cxx_api.h>

#include <map>
#include <opencv2/imgproc.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "analyzers/text/ocr.h"

namespace dr::analyzers::text {
namespace {

const std::string kLetters = "abcdefghijklmnopqrstuvwxyz";

Charset letters() {
  std::string keys;
  for (char c : kLetters) keys += std::string(1, c) + "\n";
  keys.pop_back();
  return Charset::from_text(keys);  // blank, a..z, space
}

// Line `id`: a white 10x200 crop with `id` black bars from its top row to its bottom row.
cv::Mat line(int id) {
  cv::Mat m(10, 200, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int k = 0; k < id; ++k) m(cv::Rect(10 + 20 * k, 0, 3, 10)).setTo(cv::Scalar(0, 0, 0));
  return m;
}

std::string words(int id, bool spaced) {
  std::string out;
  for (int w = 0; w < 4; ++w) {  // four 6-letter words: 24 letters glued, a run of 20 or more
    if (spaced && w) out += ' ';
    out += std::string("word") + char('a' + id) + char('a' + w);
  }
  return out;
}

// Dark runs (values below 0: the normalised black) in one row of one item of the input tensor.
int dark_runs(const float* row, int width) {
  int runs = 0;
  for (int x = 0; x < width; ++x) runs += row[x] < 0 && (x == 0 || row[x - 1] >= 0);
  return runs;
}

struct FakeRecognizer {
  std::map<int, int> misread_with_margin;  // line -> how many of its letters change when read with the margin
  int runs = 0;                            // inferences made
  // Tight readings give the space 0.3 on the blank step after each word (the blank still wins): the decoder then
  // reads the spaces (OcrOptions::space_from_blank) though the reading is glued as far as the model's winners go.
  bool close_spaces = false;

  std::vector<Ort::Value> operator()(std::vector<Ort::Value>& in) {
    ++runs;
    const auto shape = in.at(0).GetTensorTypeAndShapeInfo().GetShape();  // n, 3, 48, width
    const int n = int(shape[0]), h = int(shape[2]), w = int(shape[3]);
    const float* x = in[0].GetTensorData<float>();
    const Charset cs = letters();
    std::vector<std::string> texts;
    std::vector<bool> tight;
    for (int i = 0; i < n; ++i) {
      const float* item = x + size_t(i) * 3 * h * w;  // channel 0
      const bool margin = dark_runs(item, w) == 0;
      const int id = dark_runs(item + size_t(h / 2) * w, w);
      std::string t = words(id, margin);
      if (margin && misread_with_margin.count(id))
        for (int k = 0; k < misread_with_margin.at(id); ++k) t[size_t(1 + 6 * k)] = 'x';  // one a word
      texts.push_back(t);
      tight.push_back(!margin);
    }
    size_t steps = 0;
    for (auto& t : texts) steps = std::max(steps, 2 * t.size() + 1);
    Ort::AllocatorWithDefaultOptions alloc;
    const int64_t classes = int64_t(cs.classes());
    std::vector<int64_t> out_shape = {n, int64_t(steps), classes};
    auto out = Ort::Value::CreateTensor<float>(alloc, out_shape.data(), out_shape.size());
    float* p = out.GetTensorMutableData<float>();
    std::fill(p, p + size_t(n) * steps * classes, 0.f);
    for (int i = 0; i < n; ++i)
      for (size_t s = 0; s < steps; ++s) {
        // odd steps carry the characters, even ones the blank between them (repeats stay apart)
        int cls = 0;
        if (s % 2 == 1 && s / 2 < texts[i].size()) {
          const char c = texts[i][s / 2];
          cls = c == ' ' ? int(classes) - 1 : int(kLetters.find(c)) + 1;
        }
        p[(size_t(i) * steps + s) * classes + cls] = 1.f;
        if (close_spaces && tight[i] && s % 2 == 0 && s > 0 && (s / 2) % 6 == 0 && s / 2 < texts[i].size())
          p[(size_t(i) * steps + s) * classes + classes - 1] = 0.3f;
      }
    std::vector<Ort::Value> v;
    v.push_back(std::move(out));
    return v;
  }
};

struct Reading {
  std::vector<LineText> texts;
  OcrTimings timings;
  int runs = 0;
};

Reading read(const std::vector<int>& ids, const std::vector<bool>& small, std::map<int, int> misread = {},
             bool reread = true, bool close_spaces = false) {
  auto fake = std::make_shared<FakeRecognizer>();
  fake->misread_with_margin = std::move(misread);
  fake->close_spaces = close_spaces;
  Model rec{[fake](std::vector<Ort::Value>& in) { return (*fake)(in); }, Normalize{}};
  Model det{[](std::vector<Ort::Value>&) -> std::vector<Ort::Value> { throw std::logic_error("not used"); },
            Normalize{}};
  OcrOptions o;
  o.reread_glued = reread;
  Ocr ocr(det, std::nullopt, rec, letters(), o);
  std::vector<cv::Mat> crops;
  for (int id : ids) crops.push_back(line(id));
  Reading r;
  r.texts = ocr.read_lines(crops, small, r.timings);
  r.runs = fake->runs;
  return r;
}

TEST(ReadLines, TheFakeRecognizerSeesTheLineAndTheMargin) {
  auto r = read({3}, {true}, {}, false);
  ASSERT_EQ(r.texts.size(), 1u);
  EXPECT_EQ(r.texts[0].text, words(3, false));
  EXPECT_EQ(r.runs, 1);
}

// A page of small sans-serif print: the first three lines are read twice and fixed, the other two once, with the
// margin, in their own places.
TEST(ReadLines, APageWhoseFirstThreeSmallLinesAreGluedReadsTheRestWithTheMargin) {
  auto r = read({1, 2, 3, 4, 5}, std::vector<bool>(5, true));
  ASSERT_EQ(r.texts.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.texts[size_t(i)].text, words(i + 1, true)) << i;
  EXPECT_TRUE(r.timings.margin_page);
  EXPECT_EQ(r.timings.rereads, 3);
  EXPECT_EQ(r.runs, 3 + 3 + 2);  // one line per run on the CPU
}

// Spaces taken from blank steps do not hide glued readings from the rule: it judges the model's winners, so the
// page is read as in APageWhoseFirstThreeSmallLinesAreGluedReadsTheRestWithTheMargin, and a reading kept tight
// keeps the spaces its blank steps gave it.
TEST(ReadLines, SpacesFromBlankStepsLeaveTheGluedWordsRuleAsItWas) {
  auto r = read({1, 2, 3, 4, 5}, std::vector<bool>(5, true), {}, true, true);
  EXPECT_TRUE(r.timings.margin_page);
  EXPECT_EQ(r.timings.rereads, 3);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.texts[size_t(i)].text, words(i + 1, true)) << i;
  EXPECT_EQ(r.texts[0].plain, words(1, true));  // the margin's reading, its spaces won by the space

  auto once = read({1, 2}, {true, true}, {}, false, true);  // not read again: the tight readings as decoded
  EXPECT_EQ(once.texts[0].text, words(1, true));
  EXPECT_EQ(once.texts[0].plain, words(1, false));
}

// One probe whose second reading changes two letters of its 24 (more than one in 20): it keeps its first reading,
// the page rule does not apply, and every later glued line is read twice and checked.
TEST(ReadLines, ASecondReadingThatChangesMoreThanOneLetterIn20IsNotTaken) {
  auto r = read({1, 2, 3, 4, 5}, std::vector<bool>(5, true), {{2, 2}, {5, 2}});
  EXPECT_FALSE(r.timings.margin_page);
  EXPECT_EQ(r.timings.rereads, 5);
  EXPECT_EQ(r.texts[0].text, words(1, true));
  EXPECT_EQ(r.texts[1].text, words(2, false));  // glued, but with its letters
  EXPECT_EQ(r.texts[2].text, words(3, true));
  EXPECT_EQ(r.texts[3].text, words(4, true));
  EXPECT_EQ(r.texts[4].text, words(5, false));
}

// One letter in 24 read otherwise is taken with the spaces (the second reading's letter), and the page rule applies.
TEST(ReadLines, ASecondReadingThatChangesOneLetterIn24IsTaken) {
  auto r = read({1, 2, 3, 4, 5}, std::vector<bool>(5, true), {{2, 1}});
  EXPECT_TRUE(r.timings.margin_page);
  EXPECT_EQ(r.timings.rereads, 3);
  std::string second = words(2, true);
  second[1] = 'x';
  EXPECT_EQ(r.texts[1].text, second);
  EXPECT_EQ(r.texts[0].text, words(1, true));
  EXPECT_EQ(r.texts[4].text, words(5, true));
}

// Lines that are not small (they already have the margin) are read once and kept as read, between small ones; a
// page with fewer than three small lines never takes the shortcut.
TEST(ReadLines, OnlySmallLinesAreReadAgain) {
  auto r = read({1, 2, 3, 4}, {true, false, true, false});
  EXPECT_FALSE(r.timings.margin_page);
  EXPECT_EQ(r.timings.rereads, 2);
  EXPECT_EQ(r.texts[0].text, words(1, true));
  EXPECT_EQ(r.texts[1].text, words(2, false));
  EXPECT_EQ(r.texts[2].text, words(3, true));
  EXPECT_EQ(r.texts[3].text, words(4, false));
}

TEST(ReadLines, OneSmallFlagPerLine) { EXPECT_THROW(read({1, 2}, {true}), std::invalid_argument); }

TEST(ReadLines, TheRuleCanBeTurnedOff) {
  auto r = read({1, 2, 3, 4}, std::vector<bool>(4, true), {}, false);
  EXPECT_EQ(r.timings.rereads, 0);
  EXPECT_EQ(r.runs, 4);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.texts[size_t(i)].text, words(i + 1, false));
}

}  // namespace
}  // namespace dr::analyzers::text
