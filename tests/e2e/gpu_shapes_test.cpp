// On a GPU the face detector runs on a fixed canvas and batches are padded (runtime::Session::on_gpu): the same
// faces, lines and text as the CPU's shapes give (within a pixel or two, for the face boxes). The test hook "fake-gpu"
// places the models on a pretend GPU whose sessions run on the CPU, so the GPU's shapes are exercised here without one.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <vips/vips8>

#include "analyzers/faces/faces.h"
#include "support/cli.h"

using dr::test::TempDir;

namespace {

std::vector<nlohmann::json> analyze(const std::vector<std::string>& files, bool fake_gpu,
                                    const std::string& profile_prefix = "") {
  std::vector<std::string> args = {"--models",   dr::test::test_models_dir(),
                                   "--threads",  "2",
                                   "--device",   fake_gpu ? "cuda" : "cpu",
                                   "analyze",    "--tasks",
                                   "faces,text", "--embeddings"};
  args.insert(args.end(), files.begin(), files.end());
  auto r = dr::test::darkroom(
      args, {fake_gpu ? "DARKROOM_FAULT=fake-gpu" : "DARKROOM_FAULT=", "DARKROOM_ORT_PROFILE=" + profile_prefix});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dr::test::json_lines(r.out);
}

double max_corner_gap(const nlohmann::json& a, const nlohmann::json& b) {
  double gap = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_array())
      gap = std::max(gap, max_corner_gap(a[i], b[i]));
    else
      gap = std::max(gap, std::abs(a[i].get<double>() - b[i].get<double>()));
  }
  return gap;
}

// The embeddings `analyze --embeddings` prints are L2-normalised: faces::cosine applies.
double cosine(const nlohmann::json& a, const nlohmann::json& b) {
  return dr::analyzers::faces::cosine(a.get<std::vector<float>>(), b.get<std::vector<float>>());
}

// Three astronauts side by side, 1536x512: three faces (the default embedder takes one face a run; ModelPack's test
// pads a batched one).
std::string three_astronauts(const TempDir& dir) {
  if (VIPS_INIT("darkroom_tests") != 0) throw std::runtime_error("libvips did not start");
  auto one = vips::VImage::new_from_file(dr::test::skimage_sample("astronaut.png").c_str());
  std::string three = dir / "three.png";
  one.join(one, VIPS_DIRECTION_HORIZONTAL).join(one, VIPS_DIRECTION_HORIZONTAL).pngsave(three.c_str());
  return three;
}

TEST(GpuShapes, FixedCanvasesAndPaddedBatchesFindWhatTheCpusShapesFind) {
  TempDir dir;
  const std::vector<std::string> files = {three_astronauts(dir), dr::test::opencv_sample("imageTextN.png")};

  auto cpu = analyze(files, false);
  auto gpu = analyze(files, true);
  ASSERT_EQ(cpu.size(), 2u);
  ASSERT_EQ(gpu.size(), 2u);

  ASSERT_EQ(cpu[0]["faces"].size(), 3u) << cpu[0];
  ASSERT_EQ(gpu[0]["faces"].size(), 3u) << gpu[0];
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_LT(max_corner_gap(cpu[0]["faces"][i]["box"], gpu[0]["faces"][i]["box"]), 2.0) << gpu[0]["faces"][i];
    EXPECT_GT(cosine(cpu[0]["faces"][i]["embedding"], gpu[0]["faces"][i]["embedding"]), 0.99);
  }

  // imageTextN.png: 13 lines, with classifier batches padded to 16 and recognizer batches of up to 8 lines padded to
  // powers of two and 128-pixel widths. The text detector keeps its shape (a canvas reads "topie" for "topic").
  const auto& ct = cpu[1]["text"];
  const auto& gt = gpu[1]["text"];
  ASSERT_GE(ct["lines"].size(), 10u) << ct;
  EXPECT_EQ(gt["full"], ct["full"]);
  ASSERT_EQ(gt["lines"].size(), ct["lines"].size());
  for (size_t i = 0; i < ct["lines"].size(); ++i)
    EXPECT_LT(max_corner_gap(ct["lines"][i]["box"], gt["lines"][i]["box"]), 2.0) << gt["lines"][i];
}

TEST(GpuShapes, TheFaceDetectorSeesItsCanvas) {
  TempDir dir;
  const std::string three = three_astronauts(dir);
  std::filesystem::create_directories(dir / "gpu");
  std::filesystem::create_directories(dir / "cpu");
  auto gpu = analyze({three}, true, dir / "gpu/p");
  auto cpu = analyze({three}, false, dir / "cpu/p");
  ASSERT_EQ(gpu.size(), 1u);
  ASSERT_EQ(gpu[0]["faces"].size(), 3u) << gpu[0];
  // 1536x512 shrinks to 640x213: the CPU's detector input is 640x224 (a multiple of 32), the GPU's the 640 canvas.
  auto g = dr::test::profiled_input_shapes(dir / "gpu");
  auto c = dr::test::profiled_input_shapes(dir / "cpu");
  EXPECT_TRUE(c.count({1, 3, 224, 640}));
  EXPECT_TRUE(g.count({1, 3, 640, 640}));
  EXPECT_FALSE(g.count({1, 3, 224, 640}));
}

}  // namespace
