// InsightFace model packs: files recognised by their inputs and outputs, whatever their names, and used as they are.
#include "analyzers/faces/model_pack.h"

#include <cstdlib>
#include <filesystem>

#include "analyzers/faces/faces_fixture.h"
#include "analyzers/faces/faces_task.h"
#include "support/onnx_builder.h"

namespace fs = std::filesystem;

namespace dr::analyzers::faces {
namespace {

using testing::Models;

// A stand-in for an ArcFace recogniser: [N,3,112,112] -> [N,512] (channel means times a fixed matrix).
void write_recognizer(const std::string& path, int64_t side = 112, int64_t dim = 512) {
  using namespace test::onnx;
  Graph g;
  g.inputs.push_back({"input.1", kFloat, {-1, 3, side, side}});
  g.nodes.push_back({"ReduceMean", {"input.1"}, {"means"}, {attr_ints("axes", {2, 3}), attr_int("keepdims", 0)}});
  std::vector<float> w(size_t(3 * dim));
  for (size_t i = 0; i < w.size(); i++) w[i] = float((i * 7919) % 13) - 6.0f;
  g.initializers.push_back(floats("w", {3, dim}, w));
  g.nodes.push_back({"MatMul", {"means", "w"}, {"683"}, {}});
  g.outputs.push_back({"683", kFloat, {-1, dim}});
  g.save(path);
}

struct Pack {
  test::TempDir dir;
  Pack() {
    // Names that say nothing: buffalo_l's are det_10g.onnx, w600k_r50.onnx, genderage.onnx, 2d106det.onnx ...
    fs::copy_file(Models::get().store->require(Models::get().entry("face-detector/scrfd-500m")), dir / "zz.onnx");
    write_recognizer(dir / "aa.onnx");
    write_recognizer(dir / "mm.onnx", 96, 3);  // like genderage.onnx: [N,3,96,96] -> [N,3]
    test::write_file(dir / "readme.txt", "not a model");
  }
};

TEST(ModelPack, ClassifiesByInputsAndOutputs) {
  Pack p;
  auto pack = scan_model_pack(p.dir.path(), Models::get().rt->env());
  ASSERT_TRUE(pack.detector);
  ASSERT_TRUE(pack.recognizer);
  EXPECT_EQ(fs::path(pack.detector->path).filename(), "zz.onnx");
  EXPECT_EQ(fs::path(pack.recognizer->path).filename(), "aa.onnx");
  EXPECT_EQ(pack.detector->entry.family, "scrfd");
  EXPECT_EQ(pack.recognizer->entry.family, "arcface");
  EXPECT_EQ(pack.detector->sha256, Models::get().entry("face-detector/scrfd-500m").onnx().sha256);
  EXPECT_EQ(pack.detector->entry.id, "face-detector/pack-" + pack.detector->sha256.substr(0, 12));
  ASSERT_EQ(pack.skipped.size(), 1u);
  EXPECT_NE(pack.skipped[0].find("mm.onnx"), std::string::npos);
}

TEST(ModelPack, TheFacesTaskUsesIt) {
  Pack p;
  TaskContext ctx{*Models::get().rt, *Models::get().store, {{"faces", {{"model_pack", p.dir.path()}}}}};
  auto task = make_faces_task(ctx);
  auto refs = task->models();
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].id.rfind("face-detector/pack-", 0), 0u);
  EXPECT_EQ(refs[1].id.rfind("face-embedder/pack-", 0), 0u);
  auto img = image::decode(testing::skimage("astronaut.png"), {.max_side = task->wanted_side()});
  auto out = task->run(img, {.embeddings = true});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0]["embedding"].size(), 512u);
  double n = 0;
  for (auto& x : out[0]["embedding"]) n += x.get<double>() * x.get<double>();
  EXPECT_NEAR(n, 1.0, 1e-4);
}

TEST(ModelPack, AnalyzeTakesItAsASetting) {
  Pack p;
  auto r = test::darkroom({"--models", test::test_models_dir(), "analyze", "--tasks", "faces", "--embeddings", "--set",
                           "faces.model_pack=" + p.dir.path(), testing::skimage("astronaut.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = test::json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_EQ(lines[0]["faces"].size(), 1u) << lines[0];
  EXPECT_EQ(lines[0]["faces"][0]["embedding"].size(), 512u);
}

TEST(ModelPack, OnAGpuABatchedRecognizerRunsPaddedBatchesAndEmbedsTheSame) {
  Pack p;
  test::TempDir profiles;
  std::vector<cv::Mat> faces;
  for (int i = 0; i < 3; ++i) faces.emplace_back(112, 112, CV_8UC3, cv::Scalar(40 * i, 200 - 50 * i, 90));
  std::vector<std::vector<float>> on_cpu, on_gpu;
  {
    auto pack = scan_model_pack(p.dir.path(), Models::get().rt->env());
    const auto& r = *pack.recognizer;
    on_cpu = FaceEmbedder(Models::get().rt->open(r.entry, r.path, r.sha256), r.entry).embed(faces);
    // The test hook "fake-gpu": a pretend GPU whose sessions run on the CPU (the probe child is the darkroom binary).
    setenv("DARKROOM_FAULT", "fake-gpu", 1);
    setenv("DARKROOM_ORT_PROFILE", (profiles / "p").c_str(), 1);
    runtime::Options o;
    o.device = runtime::DeviceRequest::parse("cuda");
    o.threads = 1;
    o.self_exe = DARKROOM_BIN;
    runtime::Runtime gpu(o);
    auto session = gpu.open(r.entry, r.path, r.sha256);
    unsetenv("DARKROOM_FAULT");
    unsetenv("DARKROOM_ORT_PROFILE");
    ASSERT_TRUE(session->on_gpu());
    on_gpu = FaceEmbedder(session, r.entry).embed(faces);
  }  // the sessions end here and write their profiles
  ASSERT_EQ(on_gpu.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(on_gpu[i].size(), on_cpu[i].size());
    for (size_t k = 0; k < on_cpu[i].size(); ++k) EXPECT_NEAR(on_gpu[i][k], on_cpu[i][k], 1e-5);
  }
  auto shapes = test::profiled_input_shapes(profiles.path());
  EXPECT_TRUE(shapes.count({4, 3, 112, 112}));  // three faces padded to a batch of four
  EXPECT_FALSE(shapes.count({3, 3, 112, 112}));
}

TEST(ModelPack, ClearErrors) {
  test::TempDir empty;
  EXPECT_THROW(scan_model_pack(empty.path(), Models::get().rt->env()), runtime::ModelError);
  EXPECT_THROW(scan_model_pack(empty / "missing", Models::get().rt->env()), runtime::ModelError);
  test::write_file(empty / "broken.onnx", "not onnx at all");
  try {
    scan_model_pack(empty.path(), Models::get().rt->env());
    FAIL();
  } catch (const runtime::ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("holds no SCRFD detector"), std::string::npos) << e.what();
  }
}

TEST(FacesTask, JsonFollowsTheContract) {
  TaskContext ctx{*Models::get().rt, *Models::get().store};
  auto task = make_faces_task(ctx);
  EXPECT_EQ(task->name(), "faces");
  EXPECT_EQ(task->wanted_side(), 1280);
  auto img = image::decode(testing::opencv_doc("messi5.jpg"), {.max_side = task->wanted_side()});
  auto plain = task->run(img, {});
  ASSERT_EQ(plain.size(), 1u);
  auto& f = plain[0];
  EXPECT_EQ(f["box"].size(), 4u);
  EXPECT_EQ(f["landmarks"].size(), 5u);
  EXPECT_EQ(f["landmarks"][0].size(), 2u);
  EXPECT_TRUE(f["score"].is_number());
  for (auto* k : {"size", "blur", "frontal"}) EXPECT_TRUE(f["quality"][k].is_number()) << k;
  EXPECT_FALSE(f.contains("embedding"));
  EXPECT_EQ(task->run(img, {.embeddings = true})[0]["embedding"].size(), 128u);
}

}  // namespace
}  // namespace dr::analyzers::faces
