// OCR with the real PP-OCRv4 models on images with known text: these tests fail when recognition gets worse.
// The models come from DARKROOM_TEST_MODELS_DIR (ocr/*.onnx and the key file); without them the tests are skipped.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "analyzers/text/text_task.h"
#include "image/decode.h"
#include "support/test_models.h"
#include "support/text_images.h"

namespace dr::analyzers {
namespace {

using dr::test::cer;

const char* kOpencvData = "/usr/share/doc/opencv-doc/examples/data";
const char* kSkimageData = "/usr/lib/python3/dist-packages/skimage/data";

// One runtime and task for the whole suite: loading the three models costs more than most tests.
class TextOcr : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string dir = DARKROOM_TEST_MODELS_DIR;
    if (!std::filesystem::exists(dir + "/ocr/ch_PP-OCRv4_rec_infer.onnx")) return;
    store_ = new runtime::ModelStore(dir, runtime::Manifest::load(dir));
    rt_ = new runtime::Runtime(test::cpu_options(2));
    TaskContext ctx{*rt_, *store_, nlohmann::json::object()};
    task_ = make_text_task(ctx).release();
    TaskContext no_cls{*rt_, *store_, {{"text", {{"classifier", false}}}}};
    task_no_cls_ = make_text_task(no_cls).release();
  }
  static void TearDownTestSuite() {
    delete task_;
    delete task_no_cls_;
    delete rt_;
    delete store_;
    task_ = task_no_cls_ = nullptr;
    rt_ = nullptr;
    store_ = nullptr;
  }
  void SetUp() override {
    if (!task_) GTEST_SKIP() << "PP-OCRv4 models not installed in " << DARKROOM_TEST_MODELS_DIR;
  }

  static image::Decoded decoded(const cv::Mat& rgb, int display_w = 0, int display_h = 0) {
    return dr::test::decoded(rgb, display_w, display_h);
  }
  static nlohmann::json ocr(const cv::Mat& rgb, Task* t = nullptr) { return (t ? t : task_)->run(decoded(rgb), {}); }
  static cv::Mat photo(const std::string& path) {
    image::Decoded d = image::decode(path);
    return cv::Mat(d.rgb.height, d.rgb.width, CV_8UC3, d.rgb.pixels.data()).clone();
  }

  static inline runtime::ModelStore* store_ = nullptr;
  static inline runtime::Runtime* rt_ = nullptr;
  static inline Task* task_ = nullptr;
  static inline Task* task_no_cls_ = nullptr;
};

TEST_F(TextOcr, ReadsSeveralFontsSizesAndColoursOnAPlainBackground) {
  auto img = dr::test::plain_sample();
  auto j = ocr(img.rgb);
  std::string full = j["full"];
  // Measured 0 (0.031 with PaddleOCR's tight crops: the smallest line lost its four spaces).
  EXPECT_LE(cer(full, img.truth), 0.01) << full;
  EXPECT_EQ(j["lines"].size(), 6u) << full;
  for (auto& l : j["lines"]) EXPECT_EQ(l["text"], dr::test::squeeze(l["text"])) << "no space at either end";
  // Reading order: the first line is the top one, and its box lies where it was drawn.
  ASSERT_FALSE(j["lines"].empty());
  EXPECT_EQ(j["lines"][0]["text"], "Harbour Street 42");
  auto box = j["lines"][0]["box"];
  EXPECT_NEAR(box[0][0].get<double>(), 40, 15);
  EXPECT_NEAR(box[2][1].get<double>(), 40 + 36, 20);
  for (auto& l : j["lines"]) EXPECT_GE(l["score"].get<double>(), 0.5);
}

TEST_F(TextOcr, ReadsSlightlyRotatedText) {
  auto img = dr::test::plain_sample();
  auto j = ocr(dr::test::rotated(img.rgb, 4.0));
  EXPECT_LE(cer(j["full"], img.truth), 0.05) << j["full"];
}

TEST_F(TextOcr, TurnsUpsideDownTextWithTheClassifier) {
  auto img = dr::test::plain_sample();
  cv::Mat flipped;
  cv::rotate(img.rgb, flipped, cv::ROTATE_180);
  auto j = ocr(flipped);
  EXPECT_LE(cer(j["full"], img.truth), 0.05) << j["full"];
  // Without the classifier the same photo reads as garbage: the step is what makes it work.
  auto k = ocr(flipped, task_no_cls_);
  EXPECT_GE(cer(k["full"], img.truth), 0.3) << k["full"];
}

TEST_F(TextOcr, ReadsTextRunningDownThePage) {
  dr::test::TextImage img = dr::test::draw_lines(cv::Mat(160, 900, CV_8UC3, cv::Scalar(250, 250, 250)),
                                                 {{"Museum of Modern Art", cv::FONT_HERSHEY_DUPLEX, 1.5}});
  cv::Mat down;
  cv::rotate(img.rgb, down, cv::ROTATE_90_CLOCKWISE);
  auto j = ocr(down);
  EXPECT_LE(cer(j["full"], img.truth), 0.05) << j["full"];
}

TEST_F(TextOcr, ReadsTextOnARealPhoto) {
  std::string path = std::string(kSkimageData) + "/coffee.png";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing (python3-skimage)";
  cv::Mat bg = photo(path);
  auto img = dr::test::draw_lines(bg,
                                  {{"CAFE CENTRAL", cv::FONT_HERSHEY_TRIPLEX, 1.5, {255, 255, 255}, 3},
                                   {"espresso 2.50", cv::FONT_HERSHEY_SIMPLEX, 1.2, {250, 230, 60}, 3}},
                                  30, 30);
  auto j = ocr(img.rgb);
  EXPECT_LE(cer(j["full"], img.truth), 0.1) << j["full"];
}

// The text of opencv-doc's imageTextN.png and imageTextR.png (the same page, level and turned), line by line.
const char* const kBookPage =
    "technical details are too complex to cover in the book itself.\n"
    "In teaching our courses, we have found it useful for the students to attempt a number of\n"
    "small implementation projects, which often build on one another, in order to get them used to\n"
    "working with real-world images and the challenges that these present. The students are then\n"
    "asked to choose an individual topic for each of their small-group, final projects. (Sometimes\n"
    "these projects even turn into conference papers!) The exercises at the end of each chapter\n"
    "contain numerous suggestions for smaller mid-term projects, as well as more open-ended\n"
    "problems whose solutions are still active research topics. Wherever possible, I encourage\n"
    "students to try their algorithms on their own personal photographs, since this better motivates\n"
    "them, often leads to creative variants on the problems, and better acquaints them with the\n"
    "variety and complexity of real-world imagery.\n"
    "In formulating and solving computer vision problems, I have often found it useful to draw\n"
    "inspiration from three high-level approaches:";

TEST_F(TextOcr, ReadsOpenCvsImageTextN) {
  std::string path = std::string(kOpencvData) + "/imageTextN.png";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing (opencv-doc)";
  const std::string truth = kBookPage;
  auto j = task_->run(image::decode(path), {});
  std::string full = j["full"];
  EXPECT_EQ(j["lines"].size(), 13u) << full;
  EXPECT_LE(cer(full, truth), 0.01) << full;
  for (const char* w : {"technical", "implementation", "real-world", "photographs", "inspiration", "approaches:"})
    EXPECT_NE(full.find(w), std::string::npos) << w;
}

// The same page turned 9 degrees: read row by row as it is printed (a short first line does not join the second),
// with a few spaces lost in its small serif print.
TEST_F(TextOcr, ReadsOpenCvsTurnedImageTextRLineByLine) {
  std::string path = std::string(kOpencvData) + "/imageTextR.png";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " missing (opencv-doc)";
  const std::string full = task_->run(image::decode(path), {})["full"];
  auto split = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  };
  const auto rows = split(full), truth = split(kBookPage);
  ASSERT_EQ(rows.size(), truth.size()) << full;
  EXPECT_EQ(rows[0], truth[0]);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_LE(cer(rows[i], truth[i]), 0.1) << i << ": " << rows[i];
  EXPECT_LE(cer(full, kBookPage), 0.03) << full;
}

TEST_F(TextOcr, PhotosWithoutTextGiveNoLines) {
  cv::Mat grey(480, 640, CV_8UC3, cv::Scalar(128, 128, 128));
  auto j = ocr(grey);
  EXPECT_TRUE(j["lines"].empty());
  EXPECT_EQ(j["full"], "");
  std::string path = std::string(kSkimageData) + "/astronaut.png";
  if (std::filesystem::exists(path)) {
    auto a = ocr(photo(path));
    EXPECT_TRUE(a["lines"].empty()) << a.dump();
  }
}

TEST_F(TextOcr, TinyImagesWork) {
  for (int side : {1, 7, 31}) {
    cv::Mat tiny(side, side + 2, CV_8UC3, cv::Scalar(255, 255, 255));
    auto j = ocr(tiny);
    EXPECT_TRUE(j["lines"].is_array()) << side;
  }
}

TEST_F(TextOcr, BoxesAreInTheDisplayedImagesPixels) {
  auto img = dr::test::plain_sample();
  cv::Mat half;
  cv::resize(img.rgb, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
  // Decoded at half size: the boxes must come back in the full-size image's pixels.
  auto j = task_->run(decoded(half, img.rgb.cols, img.rgb.rows), {});
  ASSERT_FALSE(j["lines"].empty());
  EXPECT_EQ(j["lines"][0]["text"], "Harbour Street 42");
  EXPECT_NEAR(j["lines"][0]["box"][0][0].get<double>(), 40, 15);
  EXPECT_NEAR(j["lines"][0]["box"][2][1].get<double>(), 76, 20);
}

// A photo decoded smaller than it is (the task asks for 1600 pixels): lines a few pixels tall in the reduced image
// are cut from the full-resolution photo, which the task decodes once, on demand; boxes stay in displayed pixels.
TEST_F(TextOcr, SmallLinesOfAReducedPhotoAreReadFromTheFullResolution) {
  const std::string truth = "the station market river garden window coffee morning ticket museum";
  auto big = dr::test::draw_lines(cv::Mat(110, 1500, CV_8UC3, cv::Scalar(250, 250, 250)),
                                  {{truth, cv::FONT_HERSHEY_SIMPLEX, 0.9, {20, 20, 20}, 2}}, 40, 30);
  cv::Mat small;
  cv::resize(big.rgb, small, cv::Size(), 0.4, 0.4, cv::INTER_AREA);  // its text about 8 pixels tall
  const image::Decoded reduced = decoded(small, big.rgb.cols, big.rgb.rows);

  auto coarse = task_->run(reduced, {});
  int calls = 0;
  RunOptions ro;
  ro.full_resolution = [&] {
    ++calls;
    return decoded(big.rgb);
  };
  auto fine = task_->run(reduced, ro);
  EXPECT_EQ(calls, 1);
  // Here the reduced pixels lose two spaces (CER 0.03) and the full-size ones none; the e2e test
  // AnalyzeText.ReducedPhotosReadSmallLinesFromTheirFullResolution shows a whole line's spaces coming back.
  EXPECT_LE(cer(fine["full"], truth), 0.02) << fine["full"] << " | reduced: " << coarse["full"];
  EXPECT_EQ(fine["lines"].size(), coarse["lines"].size());
  ASSERT_EQ(fine["lines"].size(), 1u);
  EXPECT_NEAR(fine["lines"][0]["box"][0][0].get<double>(), 40, 15);  // the full image's pixels
  EXPECT_GT(fine["lines"][0]["box"][1][0].get<double>(), 1000);

  // A photo decoded at full size never asks; a failed decode leaves the reduced pixels.
  calls = 0;
  auto whole = task_->run(decoded(big.rgb), ro);
  EXPECT_EQ(calls, 0);
  EXPECT_LE(cer(whole["full"], truth), 0.02) << whole["full"];
  ro.full_resolution = []() -> image::Decoded { throw image::Error("gone", false); };
  EXPECT_EQ(task_->run(reduced, ro)["full"], coarse["full"]);
}

// Small sans-serif print, cropped tight, is read with its letters and without its spaces; such glued lines are read
// again with a margin above and below (and, after two of the first three, the rest of the page's small lines with the
// margin at once). Serif print keeps its tight reading: see ReadsOpenCvsImageTextN.
TEST_F(TextOcr, SmallSansSerifPrintKeepsTheSpacesBetweenItsWords) {
  std::vector<dr::test::TextLineSpec> lines;
  for (const char* t : {"bicycles parked behind the lighthouse cafe every weekend",
                        "boats leave the old harbour for the islands every morning",
                        "tickets for the evening concert are sold at the museum door",
                        "the bakery on the corner opens before the train station does",
                        "winter timetable valid from the first of november until march"})
    lines.push_back({t, cv::FONT_HERSHEY_SIMPLEX, 0.55, {20, 20, 20}, 1});
  auto page = dr::test::draw_lines(cv::Mat(260, 900, CV_8UC3, cv::Scalar(250, 250, 250)), lines, 20, 20);
  TaskContext ctx{*rt_, *store_, {{"text", {{"reread_glued", false}}}}};
  auto once = make_text_task(ctx);
  const std::string tight = once->run(decoded(page.rgb), {})["full"];
  const std::string full = ocr(page.rgb)["full"];
  EXPECT_LE(cer(full, page.truth), 0.02) << full;
  EXPECT_GE(cer(tight, page.truth), 0.05) << "read once, these lines should lose their spaces: " << tight;
}

TEST_F(TextOcr, ARecognizerFromManifestDIsChosenBySettings) {
  // A user's model (another language, its own key file) is a manifest.d entry with role "recognizer"; here the same
  // files under another id and folder, so that the choice is visible in models().
  std::string dir = ::testing::TempDir() + "/text_manifest_d";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/manifest.d");
  std::string src = std::filesystem::absolute(DARKROOM_TEST_MODELS_DIR).string() + "/ocr/";
  auto link = [&](const std::string& file, const std::string& folder) {
    std::filesystem::create_directories(dir + "/" + folder);
    std::filesystem::create_symlink(src + file, dir + "/" + folder + "/" + file);
  };
  link("ch_PP-OCRv4_det_infer.onnx", "ocr");
  link("ch_PP-OCRv4_rec_infer.onnx", "mine");
  link("ppocr_keys_v1.txt", "mine");
  const runtime::ModelEntry* rec = store_->manifest().pick("text", "recognizer");
  ASSERT_NE(rec, nullptr);
  nlohmann::json entry = rec->raw;
  entry["id"] = "text-recognizer/mine";
  entry["default"] = false;
  for (auto& f : entry["files"])
    f["path"] = "mine/" + std::filesystem::path(f["path"].get<std::string>()).filename().string();
  std::ofstream(dir + "/manifest.d/mine.json") << nlohmann::json{{"models", {entry}}}.dump();

  runtime::ModelStore store(dir, runtime::Manifest::load(dir));
  TaskContext ctx{*rt_, store, {{"text", {{"recognizer", "text-recognizer/mine"}, {"classifier", false}}}}};
  auto task = make_text_task(ctx);
  bool chosen = false;
  for (auto& m : task->models()) chosen |= m.id == "text-recognizer/mine";
  EXPECT_TRUE(chosen);
  auto img = dr::test::draw_lines(cv::Mat(120, 700, CV_8UC3, cv::Scalar(255, 255, 255)),
                                  {{"Museum of Modern Art", cv::FONT_HERSHEY_DUPLEX, 1.5}});
  EXPECT_LE(cer(task->run(decoded(img.rgb), {})["full"], img.truth), 0.05);
}

TEST_F(TextOcr, AnUnknownRecognizerIsAClearError) {
  TaskContext ctx{*rt_, *store_, {{"text", {{"recognizer", "text-recognizer/klingon"}}}}};
  try {
    make_text_task(ctx);
    FAIL() << "no error";
  } catch (const runtime::ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("klingon"), std::string::npos);
  }
}

}  // namespace
}  // namespace dr::analyzers
