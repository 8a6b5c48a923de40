// `darkroom analyze --tasks text` end to end: the JSON contract, and boxes in the displayed image's pixels for a
// JPEG whose EXIF orientation turns it; and a library whose photos are found by the words read in them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <vips/vips8>

#include "support/cli.h"
#include "support/text_images.h"
#include "util/process.h"

using dr::test::TempDir;

namespace {

bool ocr_models_installed() {
  return std::filesystem::exists(dr::test::test_models_dir() + "/ocr/ch_PP-OCRv4_det_infer.onnx");
}

// `darkroom analyze --tasks text` of one file with `--set` options (given as "--set", "k=v" pairs): its JSON line.
nlohmann::json analyze_text(const std::string& file, const std::vector<std::string>& sets) {
  std::vector<std::string> args = {"--models", dr::test::test_models_dir(), "analyze", "--tasks", "text"};
  args.insert(args.end(), sets.begin(), sets.end());
  args.push_back(file);
  auto r = dr::test::darkroom(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = dr::test::json_lines(r.out);
  return lines.empty() ? nlohmann::json() : lines[0];
}

// Writes an RGB image as a file libvips can read (PNG or JPEG by the extension), with an EXIF orientation if given.
void save(const cv::Mat& rgb, const std::string& path, int orientation = 0) {
  cv::Mat c = rgb.clone();
  auto v = vips::VImage::new_from_memory(c.data, c.total() * 3, c.cols, c.rows, 3, VIPS_FORMAT_UCHAR).copy();
  if (orientation) v.set("orientation", orientation);
  v.write_to_file(path.c_str());
}

TEST(AnalyzeText, PrintsTheContractsFields) {
  if (!ocr_models_installed()) GTEST_SKIP() << "PP-OCRv4 models not installed";
  auto img = dr::test::plain_sample();
  TempDir dir;
  save(img.rgb, dir / "sign.png");
  std::string photo = dr::test::skimage_sample("astronaut.png");
  auto r = dr::test::darkroom(
      {"--models", dr::test::test_models_dir(), "analyze", "--tasks", "text", dir / "sign.png", photo});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = dr::test::json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  const auto& t = lines[0]["text"];
  ASSERT_TRUE(t["lines"].is_array()) << lines[0];
  EXPECT_EQ(t["lines"].size(), 6u) << t;
  for (auto& l : t["lines"]) {
    EXPECT_TRUE(l["text"].is_string());
    EXPECT_GT(l["score"].get<double>(), 0.5);
    ASSERT_EQ(l["box"].size(), 4u);
    for (auto& p : l["box"]) {
      EXPECT_GE(p[0].get<double>(), 0);
      EXPECT_LE(p[0].get<double>(), 860);
      EXPECT_GE(p[1].get<double>(), 0);
      EXPECT_LE(p[1].get<double>(), 560);
    }
  }
  std::string full = t["full"];
  EXPECT_EQ(full.rfind("Harbour Street 42\nOpen daily from 9 to 17\n", 0), 0u) << full;
  EXPECT_TRUE(lines[0]["timings_ms"].contains("text"));
  // A photo without text: an empty list and an empty string, not a missing field.
  if (std::filesystem::exists(photo)) {
    EXPECT_TRUE(lines[1]["text"]["lines"].empty()) << lines[1];
    EXPECT_EQ(lines[1]["text"]["full"], "");
  }
}

// --int8: the recognizer runs quantised (graph_rewrite.h), says so in the debug log, and still reads the sign.
TEST(AnalyzeText, Int8RecognizerReadsTheSign) {
  if (!ocr_models_installed()) GTEST_SKIP() << "PP-OCRv4 models not installed";
  TempDir dir;
  save(dr::test::plain_sample().rgb, dir / "sign.png");
  for (bool int8 : {false, true}) {
    std::vector<std::string> args = {"--models", dr::test::test_models_dir(), "analyze", "--tasks", "text"};
    if (int8) args.push_back("--int8");
    args.push_back(dir / "sign.png");
    auto r = dr::test::darkroom(args, {"DARKROOM_LOG=debug"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("int8: 29 convolutions, 28 hard-swish") != std::string::npos, int8) << r.err;
    auto lines = dr::test::json_lines(r.out);
    ASSERT_EQ(lines.size(), 1u);
    const std::string full = lines[0]["text"]["full"];
    EXPECT_EQ(full.rfind("Harbour Street 42\nOpen daily from 9 to 17\n", 0), 0u) << "int8 " << int8 << ": " << full;
  }
}

TEST(AnalyzeText, BoxesFollowExifOrientation) {
  if (!ocr_models_installed()) GTEST_SKIP() << "PP-OCRv4 models not installed";
  // The sample sign stored turned a quarter counter-clockwise, with EXIF orientation 6 to show it upright.
  auto img = dr::test::plain_sample();
  cv::Mat stored;
  cv::rotate(img.rgb, stored, cv::ROTATE_90_COUNTERCLOCKWISE);
  stored = stored.clone();
  TempDir dir;
  std::string f = dir / "turned.jpg";
  auto v =
      vips::VImage::new_from_memory(stored.data, stored.total() * 3, stored.cols, stored.rows, 3, VIPS_FORMAT_UCHAR);
  v = v.copy();
  v.set("orientation", 6);
  v.jpegsave(f.c_str(), vips::VImage::option()->set("Q", 95));

  auto r = dr::test::darkroom({"--models", dr::test::test_models_dir(), "analyze", "--tasks", "text", f});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = dr::test::json_lines(r.out).at(0);
  EXPECT_EQ(j["width"], 860);
  EXPECT_EQ(j["height"], 560);
  auto& lines = j["text"]["lines"];
  ASSERT_FALSE(lines.empty()) << j;
  EXPECT_EQ(lines[0]["text"], "Harbour Street 42");
  EXPECT_NEAR(lines[0]["box"][0][0].get<double>(), 40, 15);
  EXPECT_NEAR(lines[0]["box"][0][1].get<double>(), 40, 15);
  EXPECT_LE(dr::test::cer(j["text"]["full"], img.truth), 0.05) << j["text"]["full"];
}

// Small sans-serif text: tight crops lose the spaces; crop_margin_min_height lets small crops have a margin above
// and below too, which keeps them (BENCHMARKS.md, "Text").
TEST(AnalyzeText, CropMarginSettingsReachTheRecognizer) {
  if (!ocr_models_installed()) GTEST_SKIP() << "PP-OCRv4 models not installed";
  const std::string words = "boats leave the old harbour for the islands every morning at nine";
  auto img = dr::test::draw_lines(cv::Mat(60, 900, CV_8UC3, cv::Scalar(250, 250, 250)),
                                  {{words, cv::FONT_HERSHEY_SIMPLEX, 0.55, {20, 20, 20}, 1}}, 20, 20);
  TempDir dir;
  save(img.rgb, dir / "line.png");
  auto read = [&](const std::vector<std::string>& sets) {
    auto j = analyze_text(dir / "line.png", sets);
    return j.contains("text") ? j["text"]["full"].get<std::string>() : std::string();
  };
  // Without the second reading of glued lines, this small line is cropped tight (small serif text such as
  // imageTextN.png reads better so), and its letters are read but not its spaces; the margin setting brings them.
  std::string tight = read({"--set", "text.reread_glued=false"});
  std::string margin = read({"--set", "text.reread_glued=false", "--set", "text.crop_margin_min_height=12"});
  EXPECT_EQ(margin, words);
  auto letters = [](std::string s) {
    s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
    return s;
  };
  EXPECT_EQ(letters(tight), letters(words));
  EXPECT_NE(tight, margin);
  // By default the glued reading is read again with the margin, which adds the spaces and nothing else.
  EXPECT_EQ(read({}), words);
}

// A photo larger than the 1600 pixels the text task decodes at, with one long line of 22-point DejaVu Sans (made by
// ImageMagick, which scripts/setup.sh installs): in the reduced pixels its line is about 16 pixels tall and loses
// every space between its words; cut from the full-resolution photo it is read exactly.
TEST(AnalyzeText, ReducedPhotosReadSmallLinesFromTheirFullResolution) {
  if (!ocr_models_installed()) GTEST_SKIP() << "PP-OCRv4 models not installed";
  const std::string words =
      "harbour number street ticket platform north closed light bakery the summer library door train "
      "museum river garden window coffee morning market city lake park";
  TempDir dir;
  auto made = dr::util::run_process(
      {"convert", "-size", "2000x80", "xc:#fafafa", "-font", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
       "-pointsize", "22", "-fill", "#202020", "-annotate", "+20+50", words, "PNG24:" + (dir / "line.png")},
      60000);
  ASSERT_TRUE(made.ok()) << "ImageMagick (scripts/setup.sh): " << made.describe() << made.err;
  // Spaces from blank steps (text.space_from_blank) off throughout: this test is about the crops and the glued-words
  // rule, each alone.
  auto read = [&](std::vector<std::string> sets) {
    sets.insert(sets.end(), {"--set", "text.space_from_blank=0"});
    return analyze_text(dir / "line.png", sets);
  };
  auto fine = read({"--set", "text.reread_glued=false"});  // this test is about the crops alone
  ASSERT_TRUE(fine.contains("text")) << fine.dump();
  EXPECT_EQ(fine["width"], 2000);
  const std::string full = fine["text"]["full"];
  EXPECT_LE(dr::test::cer(full, words), 0.02) << full;
  ASSERT_EQ(fine["text"]["lines"].size(), 1u);
  EXPECT_GT(fine["text"]["lines"][0]["box"][1][0].get<double>(), 1700);  // in the 2000-pixel photo's pixels
  // The same photo with the reduced pixels only (measured: every space lost, CER 0.14).
  auto coarse = read({"--set", "text.reread_glued=false", "--set", "text.fine_below=0"});
  ASSERT_TRUE(coarse.contains("text")) << coarse.dump();
  EXPECT_GT(dr::test::cer(coarse["text"]["full"], words), 0.05) << coarse["text"]["full"];
  // The glued-words rule alone, on the reduced pixels, recovers the spaces too.
  EXPECT_LE(dr::test::cer(read({"--set", "text.fine_below=0"})["text"]["full"], words), 0.02);
}

// The text task in a library: `search` finds photos by the words OCR read in them (case- and accent-insensitive,
// prefix and phrase queries), ranks them, and shows the line that matched.
TEST(LibraryText, SearchFindsPhotosByTheirWords) {
  if (!ocr_models_installed()) GTEST_SKIP() << "PP-OCRv4 models not installed";
  TempDir dir;
  std::filesystem::create_directories(dir / "photos");
  save(dr::test::plain_sample().rgb, dir / "photos/sign.png");
  // A long line that has "harbour" too: a weaker match than the sign's three-word line.
  save(dr::test::draw_lines(cv::Mat(200, 1100, CV_8UC3, cv::Scalar(250, 250, 250)),
                            {{"boats leave the old harbour for the islands every morning at nine",
                              cv::FONT_HERSHEY_SIMPLEX,
                              0.8,
                              {20, 20, 20},
                              2}})
           .rgb,
       dir / "photos/timetable.png");
  save(cv::Mat(300, 400, CV_8UC3, cv::Scalar(90, 140, 200)), dir / "photos/blank.png");
  // Small print: read without its spaces when glued lines are not read again (this library's setting; see
  // CropMarginSettingsReachTheRecognizer), and found through the glued words.
  save(dr::test::draw_lines(cv::Mat(60, 900, CV_8UC3, cv::Scalar(250, 250, 250)),
                            {{"bicycles parked behind the lighthouse cafe every weekend",
                              cv::FONT_HERSHEY_SIMPLEX,
                              0.55,
                              {20, 20, 20},
                              1}},
                            20, 20)
           .rgb,
       dir / "photos/small_print.png");
  const std::string lib = dir / "lib";
  auto dr = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--library", lib, "--models", dr::test::test_models_dir()});
    return dr::test::darkroom(args);
  };
  ASSERT_EQ(dr({"init"}).exit_code, 0);
  {
    std::ifstream in(lib + "/settings.json");
    nlohmann::json settings = nlohmann::json::parse(in);
    // The small print is to be read glued (tight, once, and no spaces taken from blank steps), as OCR sometimes
    // reads words: search finds them inside the glued run.
    settings["analyzers"]["text"]["reread_glued"] = false;
    settings["analyzers"]["text"]["space_from_blank"] = 0;
    dr::test::write_file(lib + "/settings.json", settings.dump(2));
  }
  auto add = dr({"add", "--tasks", "text", dir / "photos"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto work = dr({"work", "--until-idle"});
  ASSERT_EQ(work.exit_code, 0) << work.err;

  auto search = [&](const std::string& q) {
    auto r = dr({"search", "--json", q});
    EXPECT_EQ(r.exit_code, 0) << q << ": " << r.err;
    auto lines = dr::test::json_lines(r.out);
    return lines.empty() ? nlohmann::json() : lines[0]["results"];
  };
  auto paths = [](const nlohmann::json& results) {
    std::vector<std::string> out;
    for (const auto& h : results) out.push_back(std::filesystem::path(h["path"].get<std::string>()).filename());
    return out;
  };

  auto harbour = search("harbour");
  ASSERT_EQ(paths(harbour), (std::vector<std::string>{"sign.png", "timetable.png"})) << harbour;
  EXPECT_GT(harbour[0]["score"].get<double>(), harbour[1]["score"].get<double>());
  EXPECT_EQ(harbour[0]["matched"], nlohmann::json::array({"text: Harbour Street 42"})) << harbour;
  EXPECT_NE(harbour[1]["matched"][0].get<std::string>().find("old harbour for the islands"), std::string::npos)
      << harbour;

  EXPECT_EQ(paths(search("HARBOUR STREET")), std::vector<std::string>{"sign.png"});  // case; both words in a line
  EXPECT_EQ(paths(search("härbour street")), std::vector<std::string>{"sign.png"});  // accents
  EXPECT_EQ(paths(search("isl*")), std::vector<std::string>{"timetable.png"});       // prefix
  auto bread = search("\"fresh bread\"");                                            // phrase
  ASSERT_EQ(paths(bread), std::vector<std::string>{"sign.png"});
  EXPECT_EQ(bread[0]["matched"], nlohmann::json::array({"text: Fresh bread and coffee"}));
  EXPECT_TRUE(search("\"bread fresh\"").empty());  // a phrase keeps its order
  EXPECT_TRUE(search("submarine").empty());

  auto lighthouse = search("lighthouse cafe");
  ASSERT_EQ(paths(lighthouse), std::vector<std::string>{"small_print.png"}) << lighthouse;
  EXPECT_NE(lighthouse[0]["matched"][0].get<std::string>().find("lighthousecafe"), std::string::npos) << lighthouse;
}

// Results read with the int8 recognizer differ a little from float ones: the models recorded with a result say which
// (ModelRef::variant), so that turning --int8 on or off queues the photos again.
TEST(LibraryText, TurningInt8OnOrOffQueuesThePhotosAgain) {
  if (!ocr_models_installed()) GTEST_SKIP() << "PP-OCRv4 models not installed";
  TempDir dir;
  std::filesystem::create_directories(dir / "photos");
  save(dr::test::plain_sample().rgb, dir / "photos/sign.png");
  const std::string lib = dir / "lib";
  auto dr = [&](std::vector<std::string> args, bool int8 = false) {
    args.insert(args.begin(), {"--library", lib, "--models", dr::test::test_models_dir(), "--device", "cpu"});
    if (int8) args.insert(args.begin(), "--int8");
    return dr::test::darkroom(args);
  };
  ASSERT_EQ(dr({"init"}).exit_code, 0);
  ASSERT_EQ(dr({"add", "--tasks", "text", dir / "photos"}).exit_code, 0);
  auto recorded = [&] {
    auto r = dr({"show", "--json", dir / "photos/sign.png"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return dr::test::json_lines(r.out).at(0).dump();
  };
  const std::string requeued = "text results were made by other models; queued again";
  auto work = dr({"work", "--until-idle"});
  ASSERT_EQ(work.exit_code, 0) << work.err;
  EXPECT_EQ(recorded().find("int8"), std::string::npos) << recorded();

  work = dr({"work", "--until-idle"}, true);
  ASSERT_EQ(work.exit_code, 0) << work.err;
  EXPECT_NE(work.err.find("1 " + requeued), std::string::npos) << work.err;
  EXPECT_NE(recorded().find("\"variant\":\"int8\""), std::string::npos) << recorded();

  work = dr({"work", "--until-idle"}, true);
  EXPECT_EQ(work.err.find(requeued), std::string::npos) << work.err;
  work = dr({"work", "--until-idle"});
  EXPECT_NE(work.err.find("1 " + requeued), std::string::npos) << work.err;
  EXPECT_EQ(recorded().find("int8"), std::string::npos) << recorded();
}

}  // namespace
