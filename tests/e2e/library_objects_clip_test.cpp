// A library end to end with objects and a (test) CLIP model: init, add, work, then `search` by labels (plurals and
// synonyms) and by CLIP text embeddings, and `similar`.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "support/cli.h"
#include "support/test_models.h"
#include "util/sha256.h"

namespace fs = std::filesystem;
using dr::test::TempDir;

namespace {

// A models folder with YOLOX-nano, the CLIP tokenizer and a test CLIP model (manifest.d), and a library of six
// photos: four solid colours and two real ones (a cat, a cup), analysed.
class LibraryWithClip : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dirs_ = new Dirs;
    auto& m = dirs_->models;
    fs::create_directories(m / "clip");
    fs::create_symlink(dr::test::test_models_dir() + "/objects", m / "objects");
    fs::create_symlink(dr::test::test_models_dir() + "/clip/bpe_simple_vocab_16e6.txt.gz",
                       m / "clip/bpe_simple_vocab_16e6.txt.gz");
    dr::test::write_clip_folder(m / "clip/ViT-Test__darkroom");
    nlohmann::json files = nlohmann::json::array();
    for (std::string part : {"visual", "textual"}) {
      std::string rel = "clip/ViT-Test__darkroom/" + part + "/model.onnx";
      files.push_back({{"name", part}, {"path", rel}, {"sha256", dr::util::sha256_file(m / rel)}});
    }
    fs::create_directories(m / "manifest.d");
    dr::test::write_file(m / "manifest.d/clip.json", nlohmann::json{{"version", 1},
                                                                    {"models",
                                                                     {{{"id", "clip/vit-test"},
                                                                       {"task", "clip"},
                                                                       {"role", "encoder"},
                                                                       {"family", "openclip"},
                                                                       {"files", files}}}}}
                                                         .dump());
    auto& p = dirs_->photos;
    dr::test::write_solid_png(p / "red.png", 40, 30, 255, 0, 0);
    dr::test::write_solid_png(p / "darkred.png", 40, 30, 150, 10, 10);
    dr::test::write_solid_png(p / "green.png", 40, 30, 0, 255, 0);
    dr::test::write_solid_png(p / "blue.png", 40, 30, 0, 0, 255);
    fs::copy_file(dr::test::skimage_sample("chelsea.png"), p / "chelsea.png");
    fs::copy_file(dr::test::skimage_sample("coffee.png"), p / "coffee.png");
    for (auto args : std::vector<std::vector<std::string>>{{"init"}, {"add", p.path()}, {"work", "--until-idle"}}) {
      auto r = run(args);
      ASSERT_EQ(r.exit_code, 0) << args[0] << ": " << r.err << r.out;
    }
  }
  static void TearDownTestSuite() { delete dirs_; }

  static dr::util::ProcessResult run(std::vector<std::string> args) {
    std::vector<std::string> all = {"--library", dirs_->library.path(), "--models", dirs_->models.path(), "--device",
                                    "cpu",       "--threads",           "2"};
    all.insert(all.end(), args.begin(), args.end());
    return dr::test::darkroom(all);
  }
  static nlohmann::json search(const std::string& q) {
    auto r = run({"search", "--json", q});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto lines = dr::test::json_lines(r.out);
    return lines.empty() ? nlohmann::json() : lines[0];
  }
  static std::string name(const nlohmann::json& result) {
    return fs::path(result["path"].get<std::string>()).filename().string();
  }

  struct Dirs {
    TempDir models, photos, library;
  };
  static Dirs* dirs_;
};
LibraryWithClip::Dirs* LibraryWithClip::dirs_ = nullptr;

TEST_F(LibraryWithClip, LabelsAreFoundByPluralsAndSynonyms) {
  for (std::string q : {"cat", "cats", "kitten", "Kittens"}) {
    auto j = search(q);
    ASSERT_FALSE(j["results"].empty()) << q << ": " << j;
    EXPECT_EQ(name(j["results"][0]), "chelsea.png") << q << ": " << j;
  }
  auto j = search("mugs");
  ASSERT_FALSE(j["results"].empty()) << j;
  EXPECT_EQ(name(j["results"][0]), "coffee.png") << j;
  bool said = false;
  for (auto& m : j["results"][0]["matched"]) said |= m.get<std::string>().rfind("label: cup (mugs) 0.", 0) == 0;
  EXPECT_TRUE(said) << j["results"][0];
}

TEST_F(LibraryWithClip, ClipRanksByTheQuerysTextEmbedding) {
  // The test text encoder maps "red" near the red photos' image embeddings, "green" near the green one.
  auto j = search("something red");
  ASSERT_GE(j["results"].size(), 2u) << j;
  EXPECT_EQ(name(j["results"][0]), "red.png") << j;
  bool dark = false;
  for (auto& r : j["results"]) dark |= name(r) == "darkred.png";
  EXPECT_TRUE(dark) << j;                                             // (coffee.png, warm brown, may come before it)
  for (auto& r : j["results"]) EXPECT_NE(name(r), "green.png") << j;  // negative cosine: not a hit
  auto g = search("green");
  ASSERT_FALSE(g["results"].empty());
  EXPECT_EQ(name(g["results"][0]), "green.png") << g;
}

TEST_F(LibraryWithClip, SimilarListsTheNearestPhotos) {
  auto r = run({"similar", "--json", dirs_->photos / "red.png"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = dr::test::json_lines(r.out).at(0);
  ASSERT_FALSE(j["results"].empty()) << j;
  // Ranked by cosine: dark red comes before green and blue (a warm photo such as coffee.png may come first).
  std::vector<std::string> order;
  for (auto& x : j["results"]) order.push_back(name(x));
  auto pos = [&](const std::string& n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  EXPECT_LT(pos("darkred.png"), pos("green.png")) << j;
  EXPECT_LT(pos("darkred.png"), pos("blue.png")) << j;
  EXPECT_EQ(pos("red.png"), std::ptrdiff_t(order.size())) << j;
  auto plain = run({"similar", dirs_->photos / "blue.png"});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find(".png"), std::string::npos);
}

TEST_F(LibraryWithClip, BadQueriesGiveAResultOrAClearError) {
  auto e = run({"search", "   "});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err, "");
  std::string longq;
  for (int i = 0; i < 100; ++i) longq += "red ";
  auto l = search(longq);
  ASSERT_FALSE(l["results"].empty());
  bool cut = false;
  for (auto& m : l["results"][0]["matched"]) cut |= m.get<std::string>().find("77 tokens") != std::string::npos;
  EXPECT_TRUE(cut) << l;
  auto emoji = run({"search", "--json", "🐱 北京"});
  EXPECT_EQ(emoji.exit_code, 0) << emoji.err;
  auto unknown = run({"similar", "/no/such/photo.png"});
  EXPECT_EQ(unknown.exit_code, 2);
}

}  // namespace
