// The CLIP path with CLIP-shaped models built by the test (see support/test_models.h for their geometry):
// preprocessing, tokenising, both encoders, and the errors of broken folders.
#include "analyzers/clip/clip_model.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "analyzers/clip/clip_task.h"
#include "support/cli.h"
#include "support/test_models.h"

namespace dr::analyzers::clip {
namespace {

namespace fs = std::filesystem;

runtime::Runtime& rt() {
  static runtime::Runtime r(test::cpu_options());
  return r;
}

std::shared_ptr<const Tokenizer> tok() {
  static auto t = std::make_shared<const Tokenizer>(
      Tokenizer::from_gzip(std::string(DARKROOM_TEST_MODELS_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz"));
  return t;
}

image::Rgb solid(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  image::Rgb img;
  img.width = w;
  img.height = h;
  img.pixels.resize(size_t(w) * h * 3);
  for (size_t i = 0; i < img.pixels.size(); i += 3) {
    img.pixels[i] = r;
    img.pixels[i + 1] = g;
    img.pixels[i + 2] = b;
  }
  return img;
}

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.f);
}

struct Folder {
  explicit Folder(const test::ClipFolderOptions& o = {}) : dir(tmp.path() + "/ViT-Test__darkroom") {
    test::write_clip_folder(dir, o);
  }
  test::TempDir tmp;
  std::string dir;
};

TEST(ClipPreprocess, ShortestSideCentreCropAndClipNormalisation) {
  // A 300 x 200 image: left third red, the rest blue. Resized to 336 x 224 and centre-cropped to 224: the crop
  // starts at x = 56 of 336, i.e. image x = 50, so the crop's left part up to image x = 100 is red.
  image::Rgb img = solid(300, 200, 0, 0, 255);
  for (int y = 0; y < 200; ++y)
    for (int x = 0; x < 100; ++x)
      img.pixels[(size_t(y) * 300 + x) * 3] = 255, img.pixels[(size_t(y) * 300 + x) * 3 + 2] = 0;
  Preprocess cfg;
  auto t = preprocess(img, cfg);
  ASSERT_EQ(t.size(), size_t(3 * 224 * 224));
  const float red_r = (1.f - 0.48145466f) / 0.26862954f, blue_r = (0.f - 0.48145466f) / 0.26862954f;
  EXPECT_NEAR(t[112 * 224 + 10], red_r, 1e-3);    // R plane, x = 10: red
  EXPECT_NEAR(t[112 * 224 + 200], blue_r, 1e-3);  // x = 200: blue
  // The edge sits at crop x = (100 - 50) * 224 / 200 = 56.
  EXPECT_NEAR(t[112 * 224 + 53], red_r, 1e-3);
  EXPECT_NEAR(t[112 * 224 + 59], blue_r, 1e-3);
  const float blue_b = (1.f - 0.40821073f) / 0.27577711f;
  EXPECT_NEAR(t[2 * 224 * 224 + 112 * 224 + 200], blue_b, 1e-3);
  // A large photo is averaged down first, then resized: a uniform image stays exactly uniform.
  auto big = preprocess(solid(4000, 3000, 10, 20, 30), cfg);
  EXPECT_NEAR(big[0], (10 / 255.f - 0.48145466f) / 0.26862954f, 1e-4);
  EXPECT_NEAR(big.back(), (30 / 255.f - 0.40821073f) / 0.27577711f, 1e-4);
}

TEST(ClipModel, EncodersFollowTheControlledGeometry) {
  Folder f;
  Model m(rt(), folder_files(f.dir), tok());
  EXPECT_EQ(m.dim(), 4);
  EXPECT_EQ(m.context(), 77u);
  // The image encoder averages CLIP-normalised channels: check the numbers exactly.
  auto e = m.encode_image(solid(64, 48, 255, 0, 0));
  std::vector<float> want = {(1.f - 0.48145466f) / 0.26862954f, -0.4578275f / 0.26130258f, -0.40821073f / 0.27577711f,
                             0.1f};
  float n = std::sqrt(dot(want, want));
  for (int k = 0; k < 4; ++k) EXPECT_NEAR(e[k], want[k] / n, 1e-4) << k;
  EXPECT_NEAR(dot(e, e), 1.f, 1e-5);

  auto red = m.encode_text("a photo of something red").embedding;
  auto green = m.encode_text("GREEN!").embedding;
  auto blue = m.encode_text("blue").embedding;
  EXPECT_GT(dot(e, red), 0.9f);
  EXPECT_GT(dot(e, red), dot(e, green));
  EXPECT_GT(dot(e, red), dot(e, blue));
  auto g_img = m.encode_image(solid(50, 50, 0, 255, 0));
  EXPECT_GT(dot(g_img, green), dot(g_img, red));
  // Text the model does not know embeds to zero (unit length is impossible); no crash.
  auto none = m.encode_text("🐱 猫");
  EXPECT_EQ(dot(none.embedding, none.embedding), 0.f);
}

TEST(ClipModel, LongTextIsTruncatedAndSaysSo) {
  Folder f;
  Model m(rt(), folder_files(f.dir), tok());
  std::string s;
  for (int i = 0; i < 200; ++i) s += "green ";
  s += "red";  // beyond the context: never seen
  auto t = m.encode_text(s);
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(t.tokens, 77u);
  EXPECT_NEAR(dot(t.embedding, m.encode_text("green").embedding), 1.f, 1e-5);
}

TEST(ClipModel, FolderConfigOverridesPreprocessing) {
  Folder f({.with_preprocess = true});
  Model m(rt(), folder_files(f.dir), tok());
  EXPECT_EQ(m.preprocess_config().mean[0], 0.5f);
  auto e = m.encode_image(solid(30, 30, 255, 0, 0));
  // (1 - 0.5) / 0.5 = 1, (0 - 0.5) / 0.5 = -1: (1, -1, -1, 0.1) normalised.
  float n = std::sqrt(3.01f);
  EXPECT_NEAR(e[0], 1 / n, 1e-4);
  EXPECT_NEAR(e[1], -1 / n, 1e-4);
}

TEST(ClipModel, Int32TokenInputsAsImmichExportsTakeThem) {
  Folder f({.int32_text = true});
  Model m(rt(), folder_files(f.dir), tok());
  auto red = m.encode_text("red").embedding;
  EXPECT_NEAR(red[0], 1 / std::sqrt(3.f), 1e-5);
}

// A folder with its own textual/tokenizer.json is tokenised by it: this one gives the word "blue" the id of red's
// row in the test text encoder, so "blue" must embed as red does.
TEST(ClipModel, FolderTokenizerJsonIsUsed) {
  Folder f;
  nlohmann::json vocab = nlohmann::json::object();
  for (int32_t id = 0; id < 512; ++id) vocab[tok()->token_text(id)] = id;
  vocab["bl"] = 600;
  vocab["blu"] = 601;
  vocab["blue</w>"] = test::kRedToken;
  nlohmann::json j = {
      {"model",
       {{"type", "BPE"}, {"end_of_word_suffix", "</w>"}, {"vocab", vocab}, {"merges", {"b l", "bl u", "blu e</w>"}}}},
      {"added_tokens",
       {{{"id", 49406}, {"content", "<|startoftext|>"}}, {{"id", 49407}, {"content", "<|endoftext|>"}}}}};
  std::ofstream(f.dir + "/textual/tokenizer.json") << j.dump();

  ModelFiles files = folder_files(f.dir);
  EXPECT_EQ(files.tokenizer, f.dir + "/textual/tokenizer.json");
  runtime::ModelStore store(DARKROOM_TEST_MODELS_DIR, runtime::Manifest::load(DARKROOM_TEST_MODELS_DIR));
  Model m(rt(), files, tokenizer_for(files, store));
  EXPECT_EQ(m.tokenizer().encode("blue"), std::vector<int32_t>{test::kRedToken});
  auto blue = m.encode_text("blue").embedding;
  Model plain(rt(), folder_files(f.dir), tok());  // the shared vocabulary: "blue" is blue
  EXPECT_GT(dot(blue, plain.encode_text("red").embedding), 0.99f);
  EXPECT_LT(dot(blue, plain.encode_text("blue").embedding), 0.5f);

  // Without the file, the shared vocabulary.
  fs::remove(f.dir + "/textual/tokenizer.json");
  files = folder_files(f.dir);
  EXPECT_EQ(files.tokenizer, "");
  EXPECT_EQ(tokenizer_for(files, store)->encode("blue"), std::vector<int32_t>{test::kBlueToken});

  // A broken one is a clear error naming the file.
  std::ofstream(f.dir + "/textual/tokenizer.json") << "{\"model\": ";
  files = folder_files(f.dir);
  try {
    tokenizer_for(files, store);
    FAIL();
  } catch (const runtime::ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.json is not valid JSON"), std::string::npos) << e.what();
  }
  files.tokenizer = f.dir + "/textual/missing.json";
  EXPECT_THROW(tokenizer_for(files, store), runtime::ModelError);
}

TEST(ClipModel, BrokenFoldersGiveClearErrors) {
  {
    Folder f({.with_textual = false});
    try {
      folder_files(f.dir);
      FAIL();
    } catch (const runtime::ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("textual/model.onnx"), std::string::npos) << e.what();
    }
  }
  {
    Folder f({.text_dim_extra = 2});
    try {
      Model m(rt(), folder_files(f.dir), tok());
      FAIL();
    } catch (const runtime::ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("same model"), std::string::npos) << e.what();
    }
  }
  {
    Folder f({.bad_visual_input = true});
    EXPECT_THROW(Model(rt(), folder_files(f.dir), tok()), runtime::ModelError);
  }
  EXPECT_THROW(folder_files("/nonexistent/clip"), runtime::ModelError);
}

}  // namespace
}  // namespace dr::analyzers::clip
