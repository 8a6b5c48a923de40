// The OCR pipeline's pure parts on synthetic data: detector input size, DB post-processing, unclip, CTC decoding,
// crops and reading order. No model is needed.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <random>

#include "analyzers/text/detector.h"
#include "analyzers/text/layout.h"
#include "analyzers/text/ocr.h"
#include "analyzers/text/recognizer.h"

namespace dr::analyzers::text {
namespace {

TEST(TextDetector, InputSizeFollowsPaddleOcrLimitMax) {
  DetParams p;
  EXPECT_EQ(det_input_size(1920, 1080, p), cv::Size(960, 544));  // 540 rounds to 544
  EXPECT_EQ(det_input_size(1080, 1920, p), cv::Size(544, 960));
  EXPECT_EQ(det_input_size(100, 50, p), cv::Size(96, 64));  // never enlarged, only rounded
  EXPECT_EQ(det_input_size(80, 80, p), cv::Size(64, 64));   // 2.5 rounds half to even, as Python's round()
  EXPECT_EQ(det_input_size(3, 5, p), cv::Size(32, 32));     // at least one multiple
  p.limit_side = 640;
  EXPECT_EQ(det_input_size(4000, 3000, p), cv::Size(640, 480));
  // A long strip keeps its height: 2000x80 would become 960x32 and lose its text.
  p.limit_side = 960;
  EXPECT_EQ(det_input_size(2000, 80, p), cv::Size(1984, 64));  // 62.5 and 2.5 round half to even
  EXPECT_EQ(det_input_size(1600, 100, p), cv::Size(1600, 96));
  // ... but within the pixels of a 960 square: 8000x1000 gets 2714x339 at most, not 8000.
  cv::Size pano = det_input_size(8000, 1000, p);
  EXPECT_LE(double(pano.width) * pano.height, 960.0 * 960 * 1.1);
  EXPECT_GE(pano.height, 256);
}

TEST(TextDetector, NormalisesInTheModelsChannelOrder) {
  cv::Mat px(1, 2, CV_8UC3, cv::Scalar(0, 0, 0));
  px.at<cv::Vec3b>(0, 0) = {255, 0, 51};  // R G B
  Normalize n;
  n.bgr = true;
  n.mean = {0.5f, 0.5f, 0.5f};
  n.std = {0.5f, 0.5f, 0.5f};
  std::vector<float> out(3 * 2, 7.0f);
  to_chw(px, n, out.data(), 2);
  EXPECT_NEAR(out[0], 51 / 255.0 * 2 - 1, 1e-5);  // channel 0 is blue
  EXPECT_NEAR(out[2], -1.0, 1e-5);                // green
  EXPECT_NEAR(out[4], 1.0, 1e-5);                 // channel 2 is red
  n.bgr = false;
  to_chw(px, n, out.data(), 2);
  EXPECT_NEAR(out[0], 1.0, 1e-5);
  EXPECT_NEAR(out[1], -1.0, 1e-5);  // the second pixel, black
}

TEST(TextDetector, UnclipExpandsByAreaOverPerimeter) {
  Quad sq{cv::Point2f(10, 10), {30, 10}, {30, 30}, {10, 30}};
  auto poly = unclip(sq, 1.5f);  // distance = 400 * 1.5 / 80 = 7.5
  ASSERT_GE(poly.size(), 4u);
  float side = 0;
  Quad box = mini_box(poly, side);
  EXPECT_NEAR(side, 20 + 2 * 7.5, 1.0);
  EXPECT_NEAR(box[0].x, 2.5, 1.0);
  EXPECT_NEAR(box[0].y, 2.5, 1.0);
}

TEST(TextDetector, BoxesFromAProbabilityMap) {
  cv::Mat prob(320, 640, CV_32F, cv::Scalar(0.01f));
  prob(cv::Rect(100, 40, 200, 20)).setTo(0.9f);   // a line of text
  prob(cv::Rect(100, 200, 200, 20)).setTo(0.4f);  // above thresh but too faint for box_thresh
  prob(cv::Rect(500, 100, 2, 2)).setTo(0.95f);    // a speck
  DetParams p;
  auto boxes = db_boxes(prob, 1280, 640, p);  // the source image is twice the map's size
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_NEAR(boxes[0].score, 0.9, 0.02);
  const Quad& q = boxes[0].quad;
  // distance = 199 * 19 * 1.5 / (2 * 218) ~ 13 map pixels on each side, then doubled.
  EXPECT_NEAR(q[0].x, 2 * (100 - 13), 6);
  EXPECT_NEAR(q[0].y, 2 * (40 - 13), 6);
  EXPECT_NEAR(q[2].x, 2 * (299 + 13), 6);
  EXPECT_NEAR(q[2].y, 2 * (59 + 13), 6);
  EXPECT_LT(q[0].x, q[1].x);  // clockwise from the top-left
  EXPECT_LT(q[1].y, q[2].y);

  p.box_thresh = 0.3f;
  EXPECT_EQ(db_boxes(prob, 640, 320, p).size(), 2u);  // the faint one passes a lower bar
}

TEST(TextDetector, EmptyMapGivesNoBoxes) {
  cv::Mat prob(64, 64, CV_32F, cv::Scalar(0.0f));
  EXPECT_TRUE(db_boxes(prob, 64, 64, {}).empty());
}

TEST(TextRecognizer, CharsetPutsBlankFirstAndSpaceLast) {
  Charset cs = Charset::from_text("a\r\nb\nc");  // no newline after the last key
  ASSERT_EQ(cs.classes(), 5u);
  EXPECT_EQ(cs.symbol(0), "");
  EXPECT_EQ(cs.symbol(1), "a");
  EXPECT_EQ(cs.symbol(3), "c");
  EXPECT_EQ(cs.symbol(4), " ");
  EXPECT_EQ(Charset::from_text("a\nb", false).classes(), 3u);
  EXPECT_THROW(Charset::load("/nonexistent/keys.txt"), std::runtime_error);
}

TEST(TextRecognizer, CtcGreedyMergesRepeatsAndDropsBlanks) {
  Charset cs = Charset::from_text("a\nb\nc");
  // steps: a a _ a b ' ' c c -> "aab c"
  std::vector<int> best = {1, 1, 0, 1, 2, 4, 3, 3};
  std::vector<float> probs(best.size() * cs.classes(), 0.02f);
  std::vector<float> win = {0.9f, 0.8f, 0.99f, 0.7f, 0.6f, 0.5f, 0.9f, 0.95f};
  for (size_t t = 0; t < best.size(); ++t) probs[t * cs.classes() + best[t]] = win[t];
  LineText lt = ctc_greedy(probs.data(), int(best.size()), int(cs.classes()), cs);
  EXPECT_EQ(lt.text, "aab c");
  // Emitted at steps 0, 3, 4, 5, 6.
  EXPECT_NEAR(lt.score, (0.9 + 0.7 + 0.6 + 0.5 + 0.9) / 5, 1e-5);

  std::vector<float> blank(3 * cs.classes(), 0.0f);
  for (int t = 0; t < 3; ++t) blank[t * cs.classes()] = 1.0f;
  LineText none = ctc_greedy(blank.data(), 3, int(cs.classes()), cs);
  EXPECT_EQ(none.text, "");
  EXPECT_EQ(none.score, 0.0f);
}

// A blank step whose space probability reaches space_from_blank puts a space between two Latin characters, once;
// not at either end, not where the space itself was read, not between characters of a script written without
// spaces, and not below the threshold.
TEST(TextRecognizer, CtcGreedyTakesASpaceFromABlankWhereTheSpaceCameClose) {
  Charset cs = Charset::from_text("a\nb\n\u4e2d\n\u6587");  // blank, a, b, two CJK characters, space
  const int classes = int(cs.classes());
  ASSERT_EQ(cs.symbol(5), " ");
  // Each step: the winning class, and the space's probability when the blank wins.
  auto decode = [&](const std::vector<std::pair<int, float>>& steps, float threshold) {
    std::vector<float> probs(steps.size() * classes, 0.01f);
    for (size_t t = 0; t < steps.size(); ++t) {
      probs[t * classes + steps[t].first] = 0.7f;
      if (steps[t].first == 0) probs[t * classes + 5] = steps[t].second;
    }
    return ctc_greedy(probs.data(), int(steps.size()), classes, cs, threshold);
  };
  const std::vector<std::pair<int, float>> ab = {{0, 0.3f}, {1, 0}, {0, 0.25f}, {0, 0.1f}, {2, 0}, {0, 0.4f}};
  EXPECT_EQ(decode(ab, 0.2f).text, "a b");  // the blanks before "a" and after "b" add nothing
  EXPECT_EQ(decode(ab, 0.2f).plain, "ab");  // without the spaces taken from blank steps
  EXPECT_EQ(decode(ab, 0.3f).text, "ab");   // 0.25 is under this threshold
  EXPECT_EQ(decode(ab, 0).text, "ab");      // off
  const auto read_space = decode({{1, 0}, {0, 0.3f}, {5, 0}, {0, 0.3f}, {2, 0}}, 0.2f);
  EXPECT_EQ(read_space.text, "a b");  // the space read: one space
  EXPECT_EQ(read_space.plain, "a b");
  EXPECT_EQ(decode({{1, 0}, {0, 0.3f}, {0, 0.3f}, {1, 0}}, 0.2f).text, "a a");  // a repeat split by a blank
  EXPECT_EQ(decode({{3, 0}, {0, 0.5f}, {4, 0}, {0, 0.5f}, {1, 0}}, 0.2f).text, "\u4e2d\u6587a");  // no Latin pair
}

// The best class is searched over many classes at a time (PP-OCRv4 has 6625): wherever the best one sits, at the
// start, on either side of a 16-value boundary or in the tail, it is found, and of two equal ones the first wins.
TEST(TextRecognizer, CtcGreedyFindsTheBestClassAnywhereInALongRow) {
  std::string keys;
  for (int k = 1; k <= 98; ++k) keys += "<" + std::to_string(k) + ">\n";
  keys.pop_back();
  Charset cs = Charset::from_text(keys);  // blank, 98 keys, space: 100 classes
  const int classes = int(cs.classes());
  ASSERT_EQ(classes, 100);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-4.f, 0.5f);  // logits too: negative values are scored as well
  std::vector<float> probs(size_t(classes) * classes);
  for (auto& p : probs) p = u(rng);
  std::string want;
  for (int t = 0; t < classes; ++t) {  // step t: class t wins
    probs[size_t(t) * classes + t] = 0.9f;
    if (t > 0) want += cs.symbol(t);
  }
  EXPECT_EQ(ctc_greedy(probs.data(), classes, classes, cs).text, want);

  std::vector<float> tie(size_t(classes), -1.f);
  tie[40] = tie[70] = 2.f;
  EXPECT_EQ(ctc_greedy(tie.data(), 1, classes, cs).text, "<40>");
  std::vector<float> negative(size_t(classes), -9.f);
  negative[77] = -3.f;
  EXPECT_EQ(ctc_greedy(negative.data(), 1, classes, cs).text, "<77>");
  // A NaN anywhere (a broken model) is decided as std::max_element decides it: skipped unless it comes first.
  std::vector<float> nan(size_t(classes), 0.1f);
  nan[19] = 0.9f;
  nan[3] = std::nanf("");
  EXPECT_EQ(ctc_greedy(nan.data(), 1, classes, cs).text, "<19>");
  nan[0] = std::nanf("");
  EXPECT_EQ(ctc_greedy(nan.data(), 1, classes, cs).text, "");  // class 0, the blank
}

// The rule that decides when a small line is read a second time, and whether that reading is taken.
TEST(TextRecognizer, GluedReadingsAreReplacedOnlyBySpacedOnesWithAlmostTheSameLetters) {
  EXPECT_TRUE(glued_words("harbourwindowbluecitymarket"));
  EXPECT_TRUE(glued_words("Platform 3: harbourwindowbluecity 18:45"));
  EXPECT_FALSE(glued_words("harbour window blue city market"));
  EXPECT_FALSE(glued_words("Donaudampfschiff 42"));  // 16 letters: a long word, not glued ones
  EXPECT_FALSE(glued_words("abcdefghijklmnopqrs"));  // 19 letters
  EXPECT_TRUE(glued_words("abcdefghijklmnopqrst"));  // 20
  // 8 CJK characters, 24 bytes of UTF-8: no spaces to lose, and no ASCII letters.
  EXPECT_FALSE(glued_words("\u6e2f\u53e3\u7a97\u6237\u8f66\u7ad9\u516c\u56ed"));
  // Accented Latin letters count: "\u00e9t\u00e9" seven times is 21 letters glued.
  EXPECT_TRUE(
      glued_words("\u00e9t\u00e9\u00e9t\u00e9\u00e9t\u00e9\u00e9t\u00e9\u00e9t\u00e9\u00e9t\u00e9\u00e9t\u00e9"));
  EXPECT_FALSE(
      glued_words("\u00e9t\u00e9 \u00e9t\u00e9 \u00e9t\u00e9 \u00e9t\u00e9 \u00e9t\u00e9 \u00e9t\u00e9 \u00e9t\u00e9"));
  EXPECT_FALSE(glued_words("abcdefghij\u00d7klmnopqrst"));  // a multiplication sign is no letter
  // Some spaces lost: 55 letters in 6 words.
  EXPECT_TRUE(glued_words("school coffeesummer harbourbakery city mountain squarewindow"));
  EXPECT_FALSE(glued_words("school coffee summer harbour bakery city mountain square window"));
  EXPECT_FALSE(glued_words("technical details are too complex to cover in the book itself."));
  EXPECT_FALSE(glued_words("Donaudampfschiff Kapit\u00e4n"));  // 23 letters in long words: too short to tell
  EXPECT_TRUE(glued_words("abcdefgh abcdefgh abcdefgh"));      // 24 letters, 8 a word
  EXPECT_FALSE(glued_words("abcdefgh abcdefgh abcdefg"));      // 23
  EXPECT_TRUE(spaces_the_same_letters("harbourwindowblue", " harbour window blue"));
  EXPECT_FALSE(spaces_the_same_letters("harbourwindowblue", "harbour windowbIue"));  // a letter in 17 changed
  EXPECT_FALSE(spaces_the_same_letters("harbour window", "harbour window "));        // no space added between words
  EXPECT_FALSE(spaces_the_same_letters("harbourwindow", "harbour"));                 // letters lost
  EXPECT_FALSE(spaces_the_same_letters("", " "));
  // One letter in 20 may differ (the second reading's, with the margin, is taken): 49 letters, 2 changed.
  EXPECT_TRUE(spaces_the_same_letters("ticketsfortheeveningconcertoresoldotthemuseumdoor",
                                      "tickets for the evening concert are sold at the museum door"));
  // 3 changed is one too many.
  EXPECT_FALSE(spaces_the_same_letters("ticketsfortheeveningconcertoresoldotthemuseumdoor",
                                       "tickets for the evening concert are sold at the museum dear"));
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(TextRecognizer, CropsAreUprightAndTallBoxesTurned) {
  // A white image with a red block in the top-left corner of the box region.
  cv::Mat img(200, 300, CV_8UC3, cv::Scalar(255, 255, 255));
  img(cv::Rect(50, 50, 20, 20)).setTo(cv::Scalar(255, 0, 0));
  Quad wide{cv::Point2f(50, 50), {250, 50}, {250, 100}, {50, 100}};
  cv::Mat c = crop_quad(img, wide);
  EXPECT_EQ(c.cols, 200);
  EXPECT_EQ(c.rows, 50);
  EXPECT_EQ(c.at<cv::Vec3b>(5, 5)[1], 0);  // red in the crop's top-left
  Quad tall{cv::Point2f(50, 50), {90, 50}, {90, 190}, {50, 190}};
  cv::Mat t = crop_quad(img, tall);
  EXPECT_EQ(t.cols, 140);  // turned: 40 x 140 becomes 140 x 40
  EXPECT_EQ(t.rows, 40);
  // Counter-clockwise: the box's top-left corner ends at the crop's bottom-left.
  EXPECT_EQ(t.at<cv::Vec3b>(t.rows - 5, 5)[1], 0);
  EXPECT_EQ(t.at<cv::Vec3b>(5, 5)[1], 255);
}

TEST(TextRecognizer, LinesTensorPadsWithTheNormalisedZero) {
  cv::Mat line(10, 20, CV_8UC3, cv::Scalar(255, 255, 255));
  Normalize n;
  auto t = lines_tensor({line}, 48, 200, n);
  ASSERT_EQ(t.size(), 3u * 48 * 200);
  EXPECT_EQ(scaled_width(line, 48), 96);
  EXPECT_NEAR(t[0], 1.0, 1e-5);  // white
  EXPECT_EQ(t[96], 0.0f);        // padding starts after 96 columns
  EXPECT_EQ(t[199], 0.0f);
}

Quad rect(float x, float y, float w, float h) { return {cv::Point2f(x, y), {x + w, y}, {x + w, y + h}, {x, y + h}}; }

TEST(TextLayout, RowsTopToBottomLeftToRightOneBaselineTogether) {
  std::vector<Quad> boxes = {
      rect(400, 102, 100, 26),  // row 1, right: a slightly taller box on the same baseline
      rect(10, 200, 300, 30),   // row 2
      rect(10, 100, 200, 30),   // row 1, left
      rect(250, 104, 80, 24),   // row 1, middle
      rect(10, 20, 500, 30),    // row 0
  };
  auto rows = reading_rows(boxes);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<size_t>{4}));
  EXPECT_EQ(rows[1], (std::vector<size_t>{2, 3, 0}));
  EXPECT_EQ(rows[2], (std::vector<size_t>{1}));
  std::vector<std::string> texts = {"right", "bottom", "left", "middle", "title"};
  EXPECT_EQ(join_rows(rows, texts), "title\nleft middle right\nbottom");
}

TEST(TextLayout, CloseLinesOfSmallTextStaySeparate) {
  // Dense text: 12-pixel lines 14 pixels apart must not merge.
  std::vector<Quad> boxes;
  for (int i = 0; i < 10; ++i) boxes.push_back(rect(10, 10 + 14 * i, 300, 12));
  EXPECT_EQ(reading_rows(boxes).size(), 10u);
}

// A page turned 9 degrees (as opencv-doc's imageTextR.png): a short first line's centre sits as high as the long
// second line's, yet each line is its own row, and a line cut in two keeps its pieces together, left to right.
TEST(TextLayout, LinesOfATurnedPageStayApart) {
  const float a = -9.0f * float(CV_PI) / 180, c = std::cos(a), s = std::sin(a);
  auto turned = [&](float x, float y, float w, float h) {
    Quad q = rect(x, y, w, h);
    for (auto& p : q) p = {p.x * c - p.y * s, p.x * s + p.y * c};
    return q;
  };
  std::vector<Quad> boxes = {
      turned(40, 100, 600, 14),   // line 2, long
      turned(40, 80, 300, 14),    // line 1, short: its centre is 40 px left of line 2's, 6 px higher unturned
      turned(40, 120, 250, 14),   // line 3, left piece
      turned(310, 120, 330, 14),  // line 3, right piece
  };
  const float dy = (boxes[0][0].y + boxes[0][2].y) / 2 - (boxes[1][0].y + boxes[1][2].y) / 2;
  ASSERT_LT(std::abs(dy), 7.0f) << "lines 1 and 2 should look like one row before the page is made level";
  auto rows = reading_rows(boxes);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], (std::vector<size_t>{1}));
  EXPECT_EQ(rows[1], (std::vector<size_t>{0}));
  EXPECT_EQ(rows[2], (std::vector<size_t>{2, 3}));
  // Level text, and text turned less than a degree, is read as before.
  EXPECT_EQ(reading_rows({rect(40, 80, 300, 14), rect(40, 100, 600, 14)}).size(), 2u);
}

TEST(TextLayout, OverlappingPiecesOfOneLineMerge) {
  std::vector<DetBox> boxes = {
      {rect(40, 30, 370, 50), 0.8f},   // "Harbour Street"
      {rect(395, 28, 110, 52), 0.9f},  // "t 42": overlaps the first piece
      {rect(700, 30, 100, 50), 0.7f},  // far to the right: another column
      {rect(40, 120, 300, 30), 0.8f},  // the next line
  };
  auto merged = merge_row_pieces(boxes);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_FLOAT_EQ(merged[0].quad[0].x, 40);
  EXPECT_FLOAT_EQ(merged[0].quad[0].y, 28);
  EXPECT_FLOAT_EQ(merged[0].quad[2].x, 505);
  EXPECT_FLOAT_EQ(merged[0].quad[2].y, 80);
  EXPECT_FLOAT_EQ(merged[0].score, 0.9f);
  EXPECT_FLOAT_EQ(merged[1].quad[0].x, 700);
  // Tilted pieces are left alone.
  Quad tilted{cv::Point2f(400, 40), {500, 60}, {495, 110}, {395, 90}};
  EXPECT_EQ(merge_row_pieces({{rect(40, 30, 370, 50), 0.8f}, {tilted, 0.8f}}).size(), 2u);
}

}  // namespace
}  // namespace dr::analyzers::text
