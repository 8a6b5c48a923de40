#include "runtime/model_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/cli.h"
#include "util/process.h"
#include "util/sha256.h"

namespace fs = std::filesystem;
using dr::runtime::Manifest;
using dr::runtime::ModelError;
using dr::runtime::ModelStore;
using dr::test::TempDir;

namespace {

// A manifest with one model made of two small files whose sha256 the test knows.
Manifest tiny_manifest(const std::string& url = "") {
  nlohmann::json j = {
      {"models",
       {{{"id", "test/tiny"},
         {"task", "faces"},
         {"role", "detector"},
         {"default", true},
         {"files",
          {{{"name", "model"}, {"path", "t/tiny.onnx"}, {"sha256", dr::util::sha256_hex("tiny model")}, {"url", url}},
           {{"name", "keys"}, {"path", "t/keys.txt"}, {"sha256", dr::util::sha256_hex("a\nb\n")}}}}}}}};
  return Manifest::parse(j);
}

}  // namespace

TEST(Sha256, KnownVectors) {
  // FIPS 180-4 examples.
  EXPECT_EQ(dr::util::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(dr::util::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(dr::util::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(dr::util::sha256_hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ModelStore, MissingFileNamesFileShaAndCommand) {
  TempDir dir;
  ModelStore store(dir.path(), tiny_manifest());
  const auto& e = *store.manifest().find("test/tiny");
  EXPECT_FALSE(store.installed(e));
  try {
    store.require(e);
    FAIL() << "a missing model must throw";
  } catch (const ModelError& ex) {
    std::string m = ex.what();
    EXPECT_NE(m.find("t/tiny.onnx"), std::string::npos) << m;
    EXPECT_NE(m.find(e.files[0].sha256), std::string::npos) << m;
    EXPECT_NE(m.find("models install test/tiny"), std::string::npos) << m;
  }
}

TEST(ModelStore, Sha256MismatchIsCorrupt) {
  TempDir dir;
  ModelStore store(dir.path(), tiny_manifest());
  const auto& e = *store.manifest().find("test/tiny");
  fs::create_directories(dir / "t");
  dr::test::write_file(dir / "t/tiny.onnx", "tiny modeL");
  auto c = store.check(e.files[0]);
  EXPECT_TRUE(c.present);
  EXPECT_FALSE(c.sha256_ok);
  EXPECT_EQ(c.actual_sha256, dr::util::sha256_hex("tiny modeL"));
  try {
    store.require(e);
    FAIL() << "a corrupt model must throw";
  } catch (const ModelError& ex) {
    EXPECT_NE(std::string(ex.what()).find("corrupt"), std::string::npos) << ex.what();
  }
  // Fixing the file is noticed even though its verdict was remembered (size and mtime changed).
  dr::test::write_file(dir / "t/tiny.onnx", "tiny model");
  fs::last_write_time(dir / "t/tiny.onnx", fs::file_time_type::clock::now() + std::chrono::seconds(5));
  EXPECT_TRUE(store.check(e.files[0]).sha256_ok);
}

TEST(ModelStore, InstallFromLocalMirrorChecksSha) {
  TempDir dir, mirror, bad_mirror;
  ModelStore store(dir.path(), tiny_manifest());
  const auto& e = *store.manifest().find("test/tiny");
  // A mirror with a wrong copy of the model (skipped) and one with the right files (flat layout, by base name).
  fs::create_directories(bad_mirror / "t");
  dr::test::write_file(bad_mirror / "t/tiny.onnx", "evil");
  dr::test::write_file(mirror / "tiny.onnx", "tiny model");
  dr::test::write_file(mirror / "keys.txt", "a\nb\n");
  auto lines = store.install(e, {bad_mirror.path(), mirror.path()});
  ASSERT_EQ(lines.size(), 3u);  // the refused bad copy, then the two installed files
  EXPECT_NE(lines[0].find("not used"), std::string::npos) << lines[0];
  EXPECT_TRUE(store.installed(e));
  EXPECT_EQ(store.require(e, "keys"), (fs::path(dir.path()) / "t/keys.txt").string());
  // A second install does nothing.
  auto again = store.install(e, {mirror.path()});
  EXPECT_NE(again[0].find("already installed"), std::string::npos);
}

TEST(ModelStore, InstallWithoutMirrorOrReachableUrlFailsClearly) {
  TempDir dir;
  ModelStore store(dir.path(), tiny_manifest("file:///nonexistent/darkroom/tiny.onnx"));
  const auto& e = *store.manifest().find("test/tiny");
  try {
    store.install(e, {});
    FAIL() << "install must fail";
  } catch (const ModelError& ex) {
    EXPECT_NE(std::string(ex.what()).find("cannot download"), std::string::npos) << ex.what();
  }
  EXPECT_FALSE(fs::exists(dir / "t/tiny.onnx"));
}

TEST(Manifest, BuiltinHasEveryModelWithInputFacts) {
  TempDir dir;
  auto m = Manifest::load(dir.path());
  for (const char* id : {"face-detector/yunet-n", "face-detector/scrfd-500m", "face-embedder/mobilefacenet",
                         "object-detector/yolox-nano", "text-detector/ppocrv4-det",
                         "text-classifier/ppocr-mobile-v2-cls", "text-recognizer/ppocrv4-rec"}) {
    auto e = m.find(id);
    ASSERT_NE(e, nullptr) << id;
    EXPECT_EQ(e->onnx().sha256.size(), 64u) << id;
    EXPECT_FALSE(e->onnx().url.empty()) << id;
    EXPECT_TRUE(e->input.contains("colour")) << id;
    EXPECT_TRUE(e->input.contains("mean")) << id;
  }
  EXPECT_FALSE(m.find("face-detector/scrfd-500m")->default_install);  // non-commercial weights: never a default
  EXPECT_NE(m.find("text-recognizer/ppocrv4-rec")->file("keys"), nullptr);
  EXPECT_EQ(m.pick("faces", "detector")->id, "face-detector/yunet-n");
}

TEST(Manifest, UserEntriesInManifestDReplaceOrAdd) {
  TempDir dir;
  fs::create_directories(dir / "manifest.d");
  dr::test::write_file(dir / "manifest.d/mine.json",
                       R"({"models":[{"id":"text-recognizer/latin","task":"text","role":"recognizer",
                       "files":[{"name":"model","path":"ocr/latin.onnx","sha256":"0000000000000000000000000000000000000000000000000000000000000000"}]}]})");
  auto m = Manifest::load(dir.path());
  ASSERT_NE(m.find("text-recognizer/latin"), nullptr);
  EXPECT_EQ(m.pick("text", "recognizer", "text-recognizer/latin")->id, "text-recognizer/latin");
  EXPECT_THROW(m.pick("text", "recognizer", "no/such-model"), ModelError);
  dr::test::write_file(dir / "manifest.d/broken.json", "{not json");
  EXPECT_THROW(Manifest::load(dir.path()), ModelError);
}

TEST(ModelStore, InstallsAMemberOfAZipFromItsUrl) {
  // InsightFace's packs are zips (buffalo_l.zip); the member is found by name wherever the zip keeps it.
  TempDir src, dir;
  fs::create_directories(src / "pack/buffalo_l");
  dr::test::write_file(src / "pack/buffalo_l/det.onnx", "tiny model");
  // zip stores paths as given: build the archive from inside pack/, so that the member sits in buffalo_l/.
  auto z = dr::util::run_process({"sh", "-c", "cd '" + (src / "pack") + "' && zip -q -r ../pack.zip buffalo_l"}, 60000);
  ASSERT_TRUE(z.ok()) << z.describe() << z.err;
  nlohmann::json j = {{"models",
                       {{{"id", "test/zipped"},
                         {"task", "faces"},
                         {"files",
                          {{{"name", "model"},
                            {"path", "z/det.onnx"},
                            {"sha256", dr::util::sha256_hex("tiny model")},
                            {"url", "file://" + (src / "pack.zip")},
                            {"member", "det.onnx"}}}}}}}};
  ModelStore store(dir.path(), Manifest::parse(j));
  const auto& e = *store.manifest().find("test/zipped");
  auto lines = store.install(e, {});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(store.installed(e)) << lines[0];
}

TEST(Manifest, InsightFaceBuffaloLIsListedButNeverADefault) {
  TempDir dir;
  auto m = Manifest::load(dir.path());
  for (const char* id : {"face-detector/buffalo-l-det10g", "face-embedder/buffalo-l-w600k-r50"}) {
    auto e = m.find(id);
    ASSERT_NE(e, nullptr) << id;
    EXPECT_FALSE(e->default_install) << id;
    EXPECT_NE(e->licence.find("non-commercial"), std::string::npos) << id;
  }
  EXPECT_EQ(m.pick("faces", "detector")->id, "face-detector/yunet-n");
  EXPECT_EQ(m.pick("faces", "embedder")->id, "face-embedder/mobilefacenet");
}

namespace {

// Loads `entry` as the only model of <tmp>/manifest.d/user.json; returns the error's sentence ("" when it loads).
std::string load_error(const TempDir& tmp, const nlohmann::json& entry) {
  fs::create_directories(tmp / "manifest.d");
  dr::test::write_file(tmp / "manifest.d/user.json", nlohmann::json{{"models", {entry}}}.dump());
  try {
    Manifest::load(tmp.path());
    return "";
  } catch (const ModelError& e) {
    return e.what();
  }
}

}  // namespace

// Found by fuzz/manifest_fuzz.cpp (fuzz/regressions/manifest_fuzz/size-too-large.json): a file's "size" written as a
// number beyond 2^64 reads as a float, and converting it to the size's integer was undefined behaviour. Every field
// the code reads is now checked when the manifest loads, with a sentence naming the entry and the field; a file's
// path must also stay inside the model cache (`models install` writes there).
TEST(Manifest, UserEntriesAreCheckedWhenTheyLoad) {
  TempDir tmp;
  fs::create_directories(tmp / "manifest.d");
  dr::test::write_file(tmp / "manifest.d/user.json", dr::test::fuzz_regression("manifest_fuzz", "size-too-large.json"));
  try {
    Manifest::load(tmp.path());
    ADD_FAILURE() << "the fuzzed manifest loaded";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("manifest.d/user.json cannot be read"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("must be a whole number from 0 to"), std::string::npos) << e.what();
  }

  const nlohmann::json good = {{"id", "mine/det"},
                               {"task", "faces"},
                               {"role", "detector"},
                               {"files", {{{"path", "mine/det.onnx"}, {"sha256", std::string(64, 'a')}, {"size", 10}}}},
                               {"input", {{"size", {640, 640}}, {"mean", {0, 0, 0}}, {"colour", "RGB"}}},
                               {"output", {{"strides", {8, 16, 32}}, {"score_threshold", 0.5}}}};
  EXPECT_EQ(load_error(tmp, good), "");
  struct Case {
    const char* pointer;
    nlohmann::json value;
    const char* says;
  };
  for (const auto& c : {Case{"/files/0/size", 1e30, "the size of mine/det.onnx must be a whole number"},
                        Case{"/files/0/size", -1, "the size of mine/det.onnx must be a whole number"},
                        Case{"/files/0/path", "/etc/passwd", "a relative path inside the model cache"},
                        Case{"/files/0/path", "../../x.onnx", "a relative path inside the model cache"},
                        Case{"/files/0/path", 5, "a file's \"path\" must be a string"},
                        Case{"/files/0/sha256", "ABC", "the sha256 of mine/det.onnx must be 64 lowercase hex digits"},
                        Case{"/files", "x", "\"files\" must be a list"}, Case{"/task", 1, "\"task\" must be a string"},
                        Case{"/default", "yes", "\"default\" must be true or false"},
                        Case{"/input/size", {640}, "input.size must be [height, width]"},
                        Case{"/input/size/0", 1e100, "input.size must be a whole number"},
                        Case{"/input/mean", "grey", "input.mean must be a list of 3 numbers"},
                        Case{"/input/colour", "RGBA", "input.colour must be \"RGB\" or \"BGR\""},
                        Case{"/input/multiple", 1e300, "input.multiple must be a whole number"},
                        Case{"/output/strides/1", 0, "output.strides must be a whole number from 1"},
                        Case{"/output/score_threshold", "high", "output.score_threshold must be a number"}}) {
    nlohmann::json entry = good;
    entry[nlohmann::json::json_pointer(c.pointer)] = c.value;
    const std::string error = load_error(tmp, entry);
    EXPECT_NE(error.find(std::string("the entry mine/det: ")), std::string::npos) << c.pointer << ": " << error;
    EXPECT_NE(error.find(c.says), std::string::npos) << c.pointer << ": " << error;
    EXPECT_NE(error.find("; fix or remove it"), std::string::npos) << error;
  }
}
