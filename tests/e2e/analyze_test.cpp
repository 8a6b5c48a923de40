// `darkroom analyze` end to end on real photos and bad files, as `make demo` runs it.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/cli.h"

using dr::test::TempDir;

TEST(Analyze, UnknownTaskIsAClearError) {
  auto r = dr::test::darkroom({"--models", dr::test::test_models_dir(), "analyze", "--tasks", "nope",
                               dr::test::skimage_sample("astronaut.png")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown task 'nope'"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, UsageErrorsExitTwoAndHelpExitsZero) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{{"analyze"},
                                                                             {"analyze", "--no-such-option", "x.jpg"},
                                                                             {"no-such-command"},
                                                                             {},
                                                                             {"--threads", "-3", "status"}}) {
    auto r = dr::test::darkroom(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << ": " << r.err;
    EXPECT_FALSE(r.err.empty());
  }
  auto help = dr::test::darkroom({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("analyze"), std::string::npos);
  EXPECT_EQ(dr::test::darkroom({"--version"}).exit_code, 0);
}

TEST(Analyze, BadFilesGetAnErrorLineAndTheOthersArePrinted) {
  TempDir dir;
  dr::test::write_file(dir / "empty.jpg", "");
  dr::test::write_file(dir / "text.jpg", "this is text, not a JPEG\n");
  std::string good = dr::test::skimage_sample("astronaut.png");
  auto r = dr::test::darkroom({"--models", dr::test::test_models_dir(), "analyze", dir / "empty.jpg", good,
                               dir / "text.jpg", dir / "missing.png"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto lines = dr::test::json_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  // In the order given, `path` as given.
  EXPECT_EQ(lines[0]["path"], dir / "empty.jpg");
  EXPECT_EQ(lines[1]["path"], good);
  EXPECT_NE(lines[0]["error"].get<std::string>().find("empty"), std::string::npos) << lines[0];
  EXPECT_FALSE(lines[1].contains("error")) << lines[1];
  EXPECT_EQ(lines[1]["width"], 512);
  EXPECT_EQ(lines[1]["height"], 512);
  EXPECT_TRUE(lines[1]["timings_ms"].is_object());
  EXPECT_NE(lines[2]["error"].get<std::string>().find("not an image"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3]["error"].get<std::string>().find("No such file"), std::string::npos) << lines[3];
}

TEST(Analyze, SizesAreAsDisplayedAfterExifOrientation) {
  // exif-rotn-6 is stored 4032x3024 with orientation 6: displayed 3024x4032.
  std::string f = dr::test::shared_dir() + "/testdata/pdq/reg-test-input/exif-rotn/exif-rotn-6.jpg";
  if (!std::filesystem::exists(f)) GTEST_SKIP() << "no ../shared/testdata";
  auto r = dr::test::darkroom({"--models", dr::test::test_models_dir(), "analyze", f});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = dr::test::json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["width"], 3024);
  EXPECT_EQ(lines[0]["height"], 4032);
}
