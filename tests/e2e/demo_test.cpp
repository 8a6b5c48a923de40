// `make demo`'s command, end to end, on a few of the sample photos (the full demo takes every sample photo).
#include <gtest/gtest.h>

#include <filesystem>

#include "support/cli.h"

namespace fs = std::filesystem;

TEST(Demo, BuildsALibraryAndShowsWhatItFound) {
  dr::test::TempDir photos, library;
  for (auto f : {"astronaut.png", "chelsea.png", "coffee.png"}) fs::copy_file(dr::test::skimage_sample(f), photos / f);
  fs::copy_file(dr::test::skimage_sample("chelsea.png"), photos / "chelsea-copy.png");
  dr::test::write_file(photos / "broken.jpg", "not a photo");
  auto r = dr::util::run_process({"bash", std::string(DARKROOM_SOURCE_DIR) + "/scripts/demo.sh", DARKROOM_BIN}, 600000,
                                 {"DEMO_PHOTOS=" + photos.path(), "DEMO_LIBRARY=" + library.path(), "SERVE=0",
                                  "DARKROOM_MODELS=" + dr::test::test_models_dir()});
  ASSERT_TRUE(r.ok()) << r.describe() << "\n" << r.out << "\n" << r.err;
  EXPECT_NE(r.out.find("found 5 photos"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 photos"), std::string::npos) << r.out;    // status: the copy is one photo at two paths
  EXPECT_NE(r.out.find("broken.jpg"), std::string::npos) << r.out;  // its failure is shown, the run went on
  EXPECT_NE(r.out.find("(label: cat"), std::string::npos) << r.out;
}
