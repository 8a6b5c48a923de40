// `analyze --tasks objects`, `analyze --tasks clip` with a CLIP model installed through manifest.d, and
// `clip tokens`, driving the built binary.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "support/cli.h"
#include "support/test_models.h"
#include "util/sha256.h"

namespace fs = std::filesystem;
using dr::test::TempDir;

namespace {

bool has_label(const nlohmann::json& line, const std::string& label) {
  for (auto& o : line["objects"])
    if (o["label"] == label) return true;
  return false;
}

// A models folder holding the CLIP tokenizer and a test CLIP model described in manifest.d, as a user installs one.
struct ClipModels {
  TempDir dir;
  ClipModels() {
    fs::create_directories(dir / "clip");
    fs::create_symlink(dr::test::test_models_dir() + "/clip/bpe_simple_vocab_16e6.txt.gz",
                       dir / "clip/bpe_simple_vocab_16e6.txt.gz");
    dr::test::write_clip_folder(dir / "clip/ViT-Test__darkroom");
    fs::create_directories(dir / "manifest.d");
    nlohmann::json files = nlohmann::json::array();
    for (std::string part : {"visual", "textual"}) {
      std::string rel = "clip/ViT-Test__darkroom/" + part + "/model.onnx";
      files.push_back({{"name", part}, {"path", rel}, {"sha256", dr::util::sha256_file(dir / rel)}});
    }
    nlohmann::json m = {{"version", 1},
                        {"models",
                         {{{"id", "clip/vit-test"},
                           {"task", "clip"},
                           {"role", "encoder"},
                           {"family", "openclip"},
                           {"default", false},
                           {"files", files}}}}};
    dr::test::write_file(dir / "manifest.d/clip.json", m.dump(2));
  }
};

}  // namespace

TEST(AnalyzeObjects, FindsTheObjectsOfTheSamplePhotos) {
  auto r = dr::test::darkroom({"--models", dr::test::test_models_dir(), "--device", "cpu", "analyze", "--tasks",
                               "objects", dr::test::skimage_sample("chelsea.png"),
                               dr::test::skimage_sample("coffee.png"), dr::test::skimage_sample("astronaut.png"),
                               dr::test::skimage_sample("motorcycle_left.png"), dr::test::opencv_sample("messi5.jpg")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = dr::test::json_lines(r.out);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_TRUE(has_label(lines[0], "cat")) << lines[0];
  EXPECT_TRUE(has_label(lines[1], "cup")) << lines[1];
  EXPECT_TRUE(has_label(lines[2], "person")) << lines[2];
  EXPECT_TRUE(has_label(lines[3], "motorcycle")) << lines[3];
  EXPECT_TRUE(has_label(lines[4], "sports ball")) << lines[4];
  for (auto& l : lines) {
    EXPECT_TRUE(l["timings_ms"].contains("objects"));
    for (auto& o : l["objects"]) {
      ASSERT_EQ(o["box"].size(), 4u);
      EXPECT_GE(o["box"][0].get<double>(), 0);
      EXPECT_LE(o["box"][0].get<double>() + o["box"][2].get<double>(), l["width"].get<double>() + 0.5);
      EXPECT_LE(o["box"][1].get<double>() + o["box"][3].get<double>(), l["height"].get<double>() + 0.5);
    }
  }
}

TEST(ClipTokens, PrintsTheKnownIds) {
  auto r =
      dr::test::darkroom({"--models", dr::test::test_models_dir(), "clip", "tokens", "--json", "a photo of a cat"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = dr::test::json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["ids"], (std::vector<int>{49406, 320, 1125, 539, 320, 2368, 49407}));
  EXPECT_EQ(lines[0]["truncated"], false);
  auto plain = dr::test::darkroom({"--models", dr::test::test_models_dir(), "clip", "tokens", "🐱", "cat"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "49406 22979 2368 49407\n");
}

TEST(ClipTokens, EmptyAndLongTexts) {
  auto e = dr::test::darkroom({"--models", dr::test::test_models_dir(), "--json", "clip", "tokens", "   "});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(dr::test::json_lines(e.out)[0]["ids"], (std::vector<int>{49406, 49407}));
  std::string longtext;
  for (int i = 0; i < 90; ++i) longtext += "dog ";
  auto l = dr::test::darkroom({"--models", dr::test::test_models_dir(), "--json", "clip", "tokens", longtext});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  auto j = dr::test::json_lines(l.out)[0];
  EXPECT_EQ(j["ids"].size(), 77u);
  EXPECT_EQ(j["ids"][76], 49407);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_NE(l.err.find("cut after 75 tokens"), std::string::npos) << l.err;
}

TEST(AnalyzeClip, EmbedsWithAModelInstalledThroughManifestD) {
  ClipModels m;
  TempDir photos;
  std::string red = photos / "red.png";
  dr::test::write_solid_png(red, 32, 24, 255, 0, 0);
  auto r = dr::test::darkroom(
      {"--models", m.dir.path(), "--device", "cpu", "analyze", "--tasks", "clip", "--embeddings", red});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = dr::test::json_lines(r.out).at(0);
  EXPECT_EQ(j["clip"]["dim"], 4);
  auto e = j["clip"]["embedding"].get<std::vector<double>>();
  ASSERT_EQ(e.size(), 4u);
  // The test model averages CLIP-normalised channels: red (1 - 0.4815) / 0.2686 etc., plus 0.1, unit length.
  std::vector<double> want = {(1 - 0.48145466) / 0.26862954, -0.4578275 / 0.26130258, -0.40821073 / 0.27577711, 0.1};
  double n = std::sqrt(want[0] * want[0] + want[1] * want[1] + want[2] * want[2] + 0.01);
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(e[size_t(k)], want[size_t(k)] / n, 1e-4) << k;
  // Without --embeddings only the size is printed; and with the model installed, clip is a default task.
  auto d = dr::test::darkroom({"--models", m.dir.path(), "--device", "cpu", "analyze", red});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  auto dj = dr::test::json_lines(d.out).at(0);
  ASSERT_TRUE(dj.contains("clip")) << dj;
  EXPECT_FALSE(dj["clip"].contains("embedding"));
}

TEST(AnalyzeClip, WithoutAModelItIsNotADefaultAndAskingForItSaysHowToInstall) {
  auto d = dr::test::darkroom(
      {"--models", dr::test::test_models_dir(), "--device", "cpu", "analyze", dr::test::skimage_sample("coffee.png")});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_FALSE(dr::test::json_lines(d.out).at(0).contains("clip"));
  auto r = dr::test::darkroom(
      {"--models", dr::test::test_models_dir(), "analyze", "--tasks", "clip", dr::test::skimage_sample("coffee.png")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no CLIP model is installed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("manifest.d"), std::string::npos) << r.err;
}

TEST(AnalyzeClip, AModelFolderMissingAFileIsAClearError) {
  ClipModels m;
  fs::remove(m.dir / "clip/ViT-Test__darkroom/textual/model.onnx");
  auto r = dr::test::darkroom(
      {"--models", m.dir.path(), "analyze", "--tasks", "clip", dr::test::skimage_sample("coffee.png")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("textual/model.onnx"), std::string::npos) << r.err;
}
