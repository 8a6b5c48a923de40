// The graph rewrites done before ONNX Runtime loads a model: what they match, what they leave alone, and that the
// rewritten model computes the same function.
#include "runtime/graph_rewrite.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "runtime/runtime.h"
#include "runtime/wire.h"
#include "support/cli.h"
#include "support/onnx_builder.h"
#include "support/test_models.h"

namespace dr::runtime {
namespace {

namespace ox = test::onnx;

Runtime& rt(bool rewrite = true) {
  static Runtime with(test::cpu_options(1, true)), without(test::cpu_options(1, false));
  return rewrite ? with : without;
}

float hard_swish(float x) { return x * std::min(std::max(x + 3.f, 0.f), 6.f) / 6.f; }

struct Variant {
  float add = 3.f, lo = 0.f, hi = 6.f, div = 6.f;
  bool div_first = false;       // x * (relu6(x + 3) / 6) instead of (x * relu6(x + 3)) / 6
  bool clip_is_output = false;  // the Clip's result is also read by the caller
};

// Y = hard-swish(X) written as paddle2onnx writes it, then Z = Y + 1 (so that Y is an intermediate too).
ox::Graph hard_swish_graph(const Variant& v) {
  ox::Graph g;
  g.inputs = {{"X", ox::kFloat, {1, 8}}};
  g.outputs = {{"Z", ox::kFloat, {1, 8}}};
  if (v.clip_is_output) g.outputs.push_back({"C", ox::kFloat, {1, 8}});
  g.initializers = {ox::floats("three", {}, {v.add}), ox::floats("zero", {}, {v.lo}), ox::floats("six", {}, {v.hi}),
                    ox::floats("divisor", {1}, {v.div}), ox::floats("one", {1}, {1.f})};
  g.nodes.push_back({"Add", {"X", "three"}, {"A"}});
  g.nodes.push_back({"Clip", {"A", "zero", "six"}, {"C"}});
  if (v.div_first) {
    g.nodes.push_back({"Div", {"C", "divisor"}, {"D"}});
    g.nodes.push_back({"Mul", {"D", "X"}, {"Y"}});
  } else {
    g.nodes.push_back({"Mul", {"X", "C"}, {"M"}});
    g.nodes.push_back({"Div", {"M", "divisor"}, {"Y"}});
  }
  g.nodes.push_back({"Add", {"Y", "one"}, {"Z"}});
  return g;
}

// Every output of one run of a model (rewritten as the runtime does, or loaded as it is), in the model's order.
std::vector<std::pair<std::string, std::vector<float>>> run_outputs(const std::string& path, std::vector<float> x,
                                                                    std::vector<int64_t> shape, bool rewrite) {
  ModelEntry e;
  e.id = "test/" + path;  // the runtime keeps one session per model id
  e.task = "test";
  auto s = rt(rewrite).open(e, path, "");
  static const Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  if (shape.empty()) shape = {1, int64_t(x.size())};
  std::vector<Ort::Value> in;
  in.push_back(Ort::Value::CreateTensor<float>(mem, x.data(), x.size(), shape.data(), shape.size()));
  auto out = s->run(in);
  std::vector<std::pair<std::string, std::vector<float>>> named;
  for (size_t i = 0; i < out.size(); ++i) {
    const float* p = out[i].GetTensorData<float>();
    named.emplace_back(s->output_names()[i],
                       std::vector<float>(p, p + out[i].GetTensorTypeAndShapeInfo().GetElementCount()));
  }
  return named;
}

std::vector<float> run(const std::string& path, std::vector<float> x, std::vector<int64_t> shape = {},
                       bool rewrite = true) {
  return run_outputs(path, std::move(x), std::move(shape), rewrite).at(0).second;
}

const std::vector<float> kX = {-7.f, -3.f, -2.5f, -0.75f, 0.f, 1.25f, 3.f, 9.f};

TEST(GraphRewrite, HardSwishBecomesHardSigmoidTimesX) {
  test::TempDir tmp;
  for (bool div_first : {false, true}) {
    const std::string model = hard_swish_graph({.div_first = div_first}).serialize(13);
    RewriteStats stats;
    auto out = rewrite_graph(model, &stats);
    ASSERT_TRUE(out) << "div_first " << div_first;
    EXPECT_EQ(stats.hard_swish, 1);
    EXPECT_NE(out->find("HardSigmoid"), std::string::npos);
    EXPECT_EQ(out->find("Clip"), std::string::npos);
    EXPECT_NE(out->find("divisor"), std::string::npos);  // initializers are copied as they are

    // The rewritten model computes hard-swish (+1), and so does the original one, which the runtime rewrites.
    const std::string rewritten = tmp.path() + "/rewritten" + std::to_string(div_first) + ".onnx",
                      original = tmp.path() + "/original" + std::to_string(div_first) + ".onnx";
    std::ofstream(rewritten, std::ios::binary) << *out;
    std::ofstream(original, std::ios::binary) << model;
    for (const auto& path : {rewritten, original}) {
      auto z = run(path, kX);
      for (size_t i = 0; i < kX.size(); ++i) EXPECT_NEAR(z[i], hard_swish(kX[i]) + 1.f, 1e-6) << path << " x=" << kX[i];
    }
  }
}

TEST(GraphRewrite, NearMissesAreLeftAlone) {
  for (Variant v : {Variant{.add = 2.5f}, Variant{.lo = -1.f}, Variant{.hi = 5.f}, Variant{.div = 5.f},
                    Variant{.clip_is_output = true}}) {
    RewriteStats stats;
    EXPECT_FALSE(rewrite_graph(hard_swish_graph(v).serialize(13), &stats))
        << v.add << " " << v.lo << " " << v.hi << " " << v.div << " " << v.clip_is_output;
    EXPECT_EQ(stats.hard_swish, 0);
  }
}

TEST(GraphRewrite, BytesThatAreNoModelAreLeftAlone) {
  EXPECT_FALSE(rewrite_graph(""));
  EXPECT_FALSE(rewrite_graph("not a model at all"));
  const std::string model = hard_swish_graph({}).serialize(13);
  for (size_t cut : {size_t(1), model.size() / 3, model.size() / 2, model.size() - 1})
    EXPECT_FALSE(rewrite_graph(std::string_view(model).substr(0, cut))) << cut;
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) {
    std::string noisy = model;
    noisy[rng() % noisy.size()] = char(rng());
    (void)rewrite_graph(noisy);  // must not crash or hang; either result is fine
  }
}

std::vector<float> pseudo_random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// X -> Conv 3x3 (padded) -> *1.5 -0.25 -> hard-swish -> *0.5 +0.1 -> Conv 1x1 (or 3x3 padded) -> Y: PP-LCNetV3's
// block as paddle2onnx writes it.
ox::Graph conv_block(bool padded_second) {
  ox::Graph g;
  g.inputs = {{"X", ox::kFloat, {1, 2, 6, 5}}};
  g.outputs = {{"Y", ox::kFloat, {1, 4, 6, 5}}};
  const int64_t k2 = padded_second ? 3 : 1;
  g.initializers = {ox::floats("W", {3, 2, 3, 3}, pseudo_random(54, 1)),
                    ox::floats("B", {3}, {0.1f, -0.2f, 0.3f}),
                    ox::floats("W2", {4, 3, k2, k2}, pseudo_random(size_t(12 * k2 * k2), 2)),
                    ox::floats("s", {1}, {1.5f}),
                    ox::floats("b", {1}, {-0.25f}),
                    ox::floats("s2", {1}, {0.5f}),
                    ox::floats("b2", {1}, {0.1f}),
                    ox::floats("three", {1}, {3.f}),
                    ox::floats("six", {1}, {6.f}),
                    ox::floats("zero", {1}, {0.f})};
  g.nodes.push_back({"Conv", {"X", "W", "B"}, {"C"}, {ox::attr_ints("pads", {1, 1, 1, 1})}});
  g.nodes.push_back({"Mul", {"s", "C"}, {"M1"}});
  g.nodes.push_back({"Add", {"M1", "b"}, {"A1"}});
  g.nodes.push_back({"Add", {"A1", "three"}, {"A3"}});
  g.nodes.push_back({"Clip", {"A3", "zero", "six"}, {"CL"}});
  g.nodes.push_back({"Mul", {"A1", "CL"}, {"M2"}});
  g.nodes.push_back({"Div", {"M2", "six"}, {"H"}});
  g.nodes.push_back({"Mul", {"s2", "H"}, {"M3"}});
  g.nodes.push_back({"Add", {"M3", "b2"}, {"A4"}});
  std::vector<ox::Attribute> attrs;
  if (padded_second) attrs.push_back(ox::attr_ints("pads", {1, 1, 1, 1}));
  g.nodes.push_back({"Conv", {"A4", "W2"}, {"Y"}, attrs});  // no bias: the fold makes one
  return g;
}

TEST(GraphRewrite, AffineScalesAreFoldedIntoConvolutionsExactly) {
  test::TempDir tmp;
  for (bool padded : {false, true}) {
    const std::string model = conv_block(padded).serialize(13);
    RewriteStats stats;
    auto out = rewrite_graph(model, &stats);
    ASSERT_TRUE(out);
    EXPECT_EQ(stats.affine_into_conv, 1);
    EXPECT_EQ(stats.affine_into_next_conv, padded ? 0 : 1);  // zero padding would change the borders
    EXPECT_EQ(stats.affine_depthwise, padded ? 1 : 0);       // so that one becomes a depthwise 1x1 convolution
    EXPECT_EQ(stats.hard_swish, 1);
    const std::string path = tmp.path() + (padded ? "/padded.onnx" : "/block.onnx");
    std::ofstream(path, std::ios::binary) << model;
    const auto x = pseudo_random(60, 9);
    auto plain = run(path, x, {1, 2, 6, 5}, false);
    auto folded = run(path, x, {1, 2, 6, 5}, true);
    ASSERT_EQ(plain.size(), 120u);
    ASSERT_EQ(folded.size(), plain.size());
    float largest = 0;
    for (size_t i = 0; i < plain.size(); ++i) {
      EXPECT_NEAR(folded[i], plain[i], 1e-5f) << "padded " << padded << " at " << i;
      largest = std::max(largest, std::abs(plain[i]));
    }
    EXPECT_GT(largest, 0.1f);  // the comparison is not between zeros
  }
}

// X -> Conv -> Relu -> Mul(s) -> Add(b) -> padded Conv -> Y, the scale s of shape `s_dims`; `on_input` moves the
// Mul onto the graph input X.
ox::Graph affine_tail(std::vector<int64_t> s_dims, bool on_input) {
  ox::Graph g;
  g.inputs = {{"X", ox::kFloat, {1, 2, 4, 4}}};
  g.outputs = {{"Y", ox::kFloat, {1, 2, 4, 4}}};
  g.initializers = {ox::floats("W", {2, 2, 3, 3}, pseudo_random(36, 3)), ox::floats("s", s_dims, {2.f}),
                    ox::floats("b", {1}, {0.5f}), ox::floats("W2", {2, 2, 3, 3}, pseudo_random(36, 4))};
  g.nodes.push_back({"Conv", {"X", "W"}, {"C"}, {ox::attr_ints("pads", {1, 1, 1, 1})}});
  g.nodes.push_back({"Relu", {"C"}, {"R"}});
  g.nodes.push_back({"Mul", {on_input ? "X" : "R", "s"}, {"M"}});
  g.nodes.push_back({"Add", {"M", "b"}, {"A"}});
  g.nodes.push_back({"Conv", {"A", "W2"}, {"Y"}, {ox::attr_ints("pads", {1, 1, 1, 1})}});
  return g;
}

TEST(GraphRewrite, AffinesBecomeDepthwiseOnlyWhenTheirShapeIsKnownToStay) {
  RewriteStats stats;
  ASSERT_TRUE(rewrite_graph(affine_tail({1}, false).serialize(13), &stats));
  EXPECT_EQ(stats.affine_depthwise, 1);  // the Relu of a convolution: 2 channels, 4-d
  // At the graph input the channel count is not known.
  EXPECT_FALSE(rewrite_graph(affine_tail({1}, true).serialize(13), &stats));
  EXPECT_EQ(stats.affine_depthwise, 0);
  // A one-value scale of 5 dimensions makes the product 5-d: no convolution computes that.
  EXPECT_FALSE(rewrite_graph(affine_tail({1, 1, 1, 1, 1}, false).serialize(13), &stats));
  EXPECT_EQ(stats.affine_depthwise + stats.affine_into_conv + stats.affine_into_next_conv, 0);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// X [1,2,6,8] -> Conv 3x3 -> BatchNormalization -> hard-swish (x * HardSigmoid(x)) -> *1.5 -0.25 as a depthwise
// 1x1 convolution -> Conv 3x3 -> Slice of its first two channels (opset-9 attributes) -> Z: a PP-LCNetV3 block as
// the rewrites leave it, in an opset-9 model. `negative`: the Slice counts from the end, as exporters often write it
// (the same two channels).
ox::Graph int8_block(bool negative = false) {
  ox::Graph g;
  g.inputs = {{"X", ox::kFloat, {1, 2, 6, 8}}};
  g.outputs = {{"Z", ox::kFloat, {1, 2, 6, 8}}};
  g.initializers = {
      ox::floats("W", {4, 2, 3, 3}, pseudo_random(72, 11)),     ox::floats("B", {4}, {0.1f, -0.2f, 0.3f, 0.f}),
      ox::floats("bn_scale", {4}, {1.2f, 0.8f, 1.f, 1.5f}),     ox::floats("bn_bias", {4}, {0.1f, 0.f, -0.3f, 0.2f}),
      ox::floats("bn_mean", {4}, {0.05f, -0.1f, 0.f, 0.2f}),    ox::floats("bn_var", {4}, {0.5f, 1.f, 2.f, 0.8f}),
      ox::floats("Wd", {4, 1, 1, 1}, {1.5f, 1.5f, 1.5f, 1.5f}), ox::floats("Bd", {4}, {-0.25f, -0.25f, -0.25f, -0.25f}),
      ox::floats("W2", {3, 4, 3, 3}, pseudo_random(108, 12))};
  g.nodes.push_back({"Conv", {"X", "W", "B"}, {"C"}, {ox::attr_ints("pads", {1, 1, 1, 1})}});
  g.nodes.push_back({"BatchNormalization", {"C", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, {"N"}});
  g.nodes.push_back({"HardSigmoid", {"N"}, {"H"}, {ox::attr_float("alpha", 1.f / 6), ox::attr_float("beta", 0.5f)}});
  g.nodes.push_back({"Mul", {"N", "H"}, {"S"}});
  g.nodes.push_back(
      {"Conv", {"S", "Wd", "Bd"}, {"A"}, {ox::attr_int("group", 4), ox::attr_ints("kernel_shape", {1, 1})}});
  g.nodes.push_back({"Conv", {"A", "W2"}, {"Y"}, {ox::attr_ints("pads", {1, 1, 1, 1})}});
  g.nodes.push_back(
      {"Slice", {"Y"}, {"Z"}, {ox::attr_ints("starts", {0}), ox::attr_ints("ends", {2}), ox::attr_ints("axes", {1})}});
  if (negative)
    g.nodes.back().attributes = {ox::attr_ints("starts", {-3}), ox::attr_ints("ends", {-1}),
                                 ox::attr_ints("axes", {-3})};
  return g;
}

// Every output of a model run once, loaded as it is, by name.
std::map<std::string, std::vector<float>> run_all(const std::string& path, std::vector<float> x,
                                                  std::vector<int64_t> shape) {
  auto out = run_outputs(path, std::move(x), std::move(shape), false);
  return {out.begin(), out.end()};
}

TEST(GraphRewrite, Int8BlockComputesCloseToFloat) {
  test::TempDir tmp;
  const std::string model = int8_block().serialize(9);
  const std::vector<int64_t> shape = {1, 2, 6, 8};
  const auto x = pseudo_random(96, 13);
  // Calibrated on the input itself: the ranges of every intermediate tensor, as bench/text_calibrate takes them.
  auto exposed = expose_float_outputs(model);
  ASSERT_TRUE(exposed);
  std::ofstream(tmp.path() + "/exposed.onnx", std::ios::binary) << *exposed;
  auto values = run_all(tmp.path() + "/exposed.onnx", x, shape);
  for (const char* name : {"C", "N", "H", "S", "A", "Y", "Z"}) EXPECT_TRUE(values.count(name)) << name;
  Int8Ranges ranges = {{"X", {-1.f, 1.f}}};
  for (auto& [name, v] : values)
    ranges[name] = {*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};

  RewriteStats stats;
  auto q = rewrite_graph(model, &stats, &ranges);
  ASSERT_TRUE(q);
  EXPECT_EQ(stats.int8_convs, 2);       // the first with its BatchNormalization, the last
  EXPECT_EQ(stats.int8_hard_swish, 1);  // with the depthwise affine folded into its output
  EXPECT_EQ(q->find("BatchNormalization"), std::string::npos);
  EXPECT_NE(q->find("QLinearConv"), std::string::npos);
  EXPECT_NE(q->find("com.microsoft"), std::string::npos);
  std::ofstream(tmp.path() + "/int8.onnx", std::ios::binary) << *q;
  const auto want = values.at("Z");
  const auto got = run_all(tmp.path() + "/int8.onnx", x, shape).at("Z");
  ASSERT_EQ(got.size(), want.size());
  const float span = *std::max_element(want.begin(), want.end()) - *std::min_element(want.begin(), want.end());
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, double(std::abs(got[i] - want[i])));
  EXPECT_LT(worst, 0.03 * span);  // a few steps of 1/255 of the range, through three roundings
  EXPECT_GT(worst, 0.0);          // and really computed in int8

  // Without a range for Y the last convolution stays in float, reading A through a DequantizeLinear.
  ranges.erase("Y");
  q = rewrite_graph(model, &stats, &ranges);
  ASSERT_TRUE(q);
  EXPECT_EQ(stats.int8_convs, 1);
  EXPECT_NE(q->find("DequantizeLinear"), std::string::npos);
  std::ofstream(tmp.path() + "/int8b.onnx", std::ios::binary) << *q;
  const auto partly = run_all(tmp.path() + "/int8b.onnx", x, shape).at("Z");
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(partly[i], want[i], 0.03 * span) << i;

  // No ranges at all: nothing is quantised, and the float rewrites alone found nothing either.
  Int8Ranges none;
  EXPECT_FALSE(rewrite_graph(model, &stats, &none));
  EXPECT_EQ(stats.int8_convs + stats.int8_hard_swish, 0);
}

// Found by fuzz/onnx_fuzz.cpp (fuzz/regressions/onnx_fuzz/empty-raw-data.pb): a convolution whose weights are a FLOAT
// tensor with an empty raw_data field. Reading it copied zero bytes from a null pointer (undefined behaviour, which
// UBSan reports); such a tensor now reads as no values, and a convolution without weights is left alone.
TEST(GraphRewrite, TensorWithEmptyDataIsLeftAlone) {
  ox::Graph g;
  g.inputs = {{"X", ox::kFloat, {1, 1, 4, 4}}};
  g.outputs = {{"Y", ox::kFloat, {1, 0, 4, 4}}};
  g.initializers = {ox::floats("W", {0, 1, 1, 1}, {}), ox::floats("s", {}, {2.f}), ox::floats("b", {}, {1.f})};
  g.nodes.push_back({"Conv", {"X", "W"}, {"C"}});
  g.nodes.push_back({"Mul", {"C", "s"}, {"M"}});
  g.nodes.push_back({"Add", {"M", "b"}, {"Y"}});
  const Int8Ranges ranges = {{"X", {-1.f, 1.f}}, {"C", {-1.f, 1.f}}, {"M", {-2.f, 2.f}}, {"Y", {-1.f, 3.f}}};
  for (int opset : {9, 13}) {
    RewriteStats stats;
    EXPECT_FALSE(rewrite_graph(g.serialize(opset), &stats, &ranges)) << opset;
    EXPECT_EQ(stats.affine_into_conv + stats.int8_convs, 0) << opset;
  }
  // The input the fuzzer made: a hard-swish graph whose weights lost their bytes; the rewrites still find the
  // hard-swish, and the int8 pass (any ranges) reads the empty tensor without touching memory.
  const std::string fuzzed = test::fuzz_regression("onnx_fuzz", "empty-raw-data.pb");
  const Int8Ranges none;
  RewriteStats stats;
  auto out = rewrite_graph(fuzzed, &stats, &none);
  ASSERT_TRUE(out);
  EXPECT_EQ(stats.hard_swish, 1);
  EXPECT_EQ(stats.int8_convs, 0);
}

// Found while writing fuzz/onnx_fuzz.cpp and kept as its input fuzz/regressions/onnx_fuzz/slice-opset9-negative.pb:
// lifting an opset-9 Slice to opset 10 read its attribute names after freeing them (a heap-use-after-free under
// ASan) whenever an attribute was longer than a short string's inline buffer, as negative indices (ten bytes each
// on the wire) make it. The lifted Slice must keep its meaning.
TEST(GraphRewrite, Opset9SliceWithNegativeIndicesIsLiftedIntact) {
  const Int8Ranges any = {{"X", {-1.f, 1.f}}};
  EXPECT_FALSE(rewrite_graph(test::fuzz_regression("onnx_fuzz", "slice-opset9-negative.pb"), nullptr, &any));

  test::TempDir tmp;
  const std::string model = int8_block(true).serialize(9);
  const std::vector<int64_t> shape = {1, 2, 6, 8};
  const auto x = pseudo_random(96, 13);
  auto exposed = expose_float_outputs(model);
  ASSERT_TRUE(exposed);
  std::ofstream(tmp.path() + "/exposed.onnx", std::ios::binary) << *exposed;
  auto values = run_all(tmp.path() + "/exposed.onnx", x, shape);
  Int8Ranges ranges = {{"X", {-1.f, 1.f}}};
  for (auto& [name, v] : values)
    ranges[name] = {*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
  RewriteStats stats;
  auto q = rewrite_graph(model, &stats, &ranges);
  ASSERT_TRUE(q);
  EXPECT_EQ(stats.int8_convs, 2);
  std::ofstream(tmp.path() + "/int8.onnx", std::ios::binary) << *q;
  const auto want = values.at("Z");
  const auto got = run_all(tmp.path() + "/int8.onnx", x, shape).at("Z");
  ASSERT_EQ(got.size(), want.size());  // the same two channels
  const float span = *std::max_element(want.begin(), want.end()) - *std::min_element(want.begin(), want.end());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 0.03 * span) << i;
}

// Ranges for every name a model's nodes read or write, as a calibration gives them (fuzz/onnx_fuzz.cpp does the same).
Int8Ranges every_name(const std::string& model, float lo, float hi) {
  Int8Ranges r;
  auto fs = wire::parse(model);
  for (const auto& g : fs ? *fs : std::vector<wire::Field>{})
    if (auto gs = g.num == 7 && g.wire == wire::Bytes ? wire::parse(g.bytes) : std::nullopt)
      for (const auto& n : *gs)
        if (auto ns = n.num == 1 && n.wire == wire::Bytes ? wire::parse(n.bytes) : std::nullopt)
          for (const auto& x : *ns)
            if ((x.num == 1 || x.num == 2) && x.wire == wire::Bytes) r[std::string(x.bytes)] = {lo, hi};
  return r;
}

// Found by fuzz/onnx_fuzz.cpp (fuzz/regressions/onnx_fuzz/conv-bias-not-finite.pb): a convolution whose weights or
// biases are not finite, in the file or after folding a BatchNormalization with a negative variance, was quantised
// anyway: its bias step count, a NaN, was converted to an integer (undefined behaviour; UBSan stops there). Such a
// convolution now stays in float, and the rest of the graph is quantised around it.
TEST(GraphRewrite, ConvolutionsWithoutFiniteWeightsStayInFloat) {
  const std::string fuzzed = test::fuzz_regression("onnx_fuzz", "conv-bias-not-finite.pb");
  const Int8Ranges all = every_name(fuzzed, -1.f, 6.f);
  ASSERT_FALSE(all.empty());
  RewriteStats stats;
  (void)rewrite_graph(fuzzed, &stats, &all);
  EXPECT_EQ(stats.int8_convs, 0);

  ox::Graph g = int8_block();
  for (auto& t : g.initializers)
    if (t.name == "bn_var") t = ox::floats("bn_var", {4}, {0.5f, -1.f, 2.f, 0.8f});  // NaN after the fold
  const std::string model = g.serialize(9);
  const Int8Ranges ranges = every_name(model, -4.f, 4.f);
  auto q = rewrite_graph(model, &stats, &ranges);
  ASSERT_TRUE(q);
  // The first convolution stays in float with its BatchNormalization, and so the hard-swish that reads it; the
  // depthwise one after it and the last one are int8.
  EXPECT_EQ(stats.int8_convs, 2);
  EXPECT_EQ(stats.int8_hard_swish, 0);
  EXPECT_NE(q->find("BatchNormalization"), std::string::npos);
}

// Found by the fuzzing campaign (fuzz/regressions/onnx_fuzz/conv-weights-underflow.pb): a convolution whose
// weights are all so small (8.8e-44) that their int8 step, the largest over 127, underflows to 0. Its zero bias over
// that zero step made a NaN step count, converted to an integer (undefined behaviour; UBSan stops there). Such
// weights are zeros: the convolution is quantised with a step of 1, all its weights 0. (The release build computed
// the same outputs through the undefined conversion; `make test-asan`'s UBSan is what fails without the fix.)
TEST(GraphRewrite, WeightsWhoseStepUnderflowsAreZeros) {
  const std::string fuzzed = test::fuzz_regression("onnx_fuzz", "conv-weights-underflow.pb");
  const Int8Ranges all = every_name(fuzzed, -1.f, 6.f);
  RewriteStats stats;
  (void)rewrite_graph(fuzzed, &stats, &all);

  ox::Graph g = int8_block();
  for (auto& t : g.initializers)
    if (t.name == "W2") t = ox::floats("W2", {3, 4, 3, 3}, std::vector<float>(108, 8.8e-44f));
  const std::string model = g.serialize(9);
  const Int8Ranges ranges = every_name(model, -4.f, 4.f);
  auto q = rewrite_graph(model, &stats, &ranges);
  ASSERT_TRUE(q);
  EXPECT_EQ(stats.int8_convs, 2);
  test::TempDir tmp;
  std::ofstream(tmp.path() + "/int8.onnx", std::ios::binary) << *q;
  const auto z = run_all(tmp.path() + "/int8.onnx", pseudo_random(96, 13), {1, 2, 6, 8}).at("Z");
  for (float v : z) EXPECT_NEAR(v, 0.f, 0.05f);  // the last convolution's weights are zeros
}

// PP-OCRv4 as the tests' models folder holds it (installed by make test-models): every hard-swish is found.
TEST(GraphRewrite, PaddleOcrModels) {
  const std::string dir = std::string(DARKROOM_TEST_MODELS_DIR) + "/ocr/";
  if (!std::filesystem::exists(dir + "ch_PP-OCRv4_rec_infer.onnx")) GTEST_SKIP() << "no OCR models in " << dir;
  struct Case {
    const char* file;
    int next_conv, conv, depthwise, hard_swish;
  };
  for (auto c : {Case{"ch_PP-OCRv4_rec_infer.onnx", 12, 28, 16, 28}, Case{"ch_PP-OCRv4_det_infer.onnx", 13, 25, 14, 24},
                 Case{"ch_ppocr_mobile_v2.0_cls_infer.onnx", 0, 0, 0, 18}}) {
    RewriteStats stats;
    auto out = rewrite_graph(read_file(dir + c.file), &stats);
    EXPECT_TRUE(out) << c.file;
    EXPECT_EQ(stats.affine_into_next_conv, c.next_conv) << c.file;
    EXPECT_EQ(stats.affine_into_conv, c.conv) << c.file;
    EXPECT_EQ(stats.affine_depthwise, c.depthwise) << c.file;
    EXPECT_EQ(stats.hard_swish, c.hard_swish) << c.file;
  }
  // The recognizer with the manifest's calibrated ranges: every convolution of its trunk but the 16 depthwise
  // affines (folded) and the two of its squeeze-excitation blocks (fed by a float GlobalAveragePool) is int8.
  const Manifest manifest = Manifest::load("/nonexistent");
  const ModelEntry* rec = manifest.find("text-recognizer/ppocrv4-rec");
  ASSERT_TRUE(rec);
  auto ranges = int8_ranges(*rec);
  ASSERT_TRUE(ranges);
  RewriteStats stats;
  ASSERT_TRUE(rewrite_graph(read_file(dir + "ch_PP-OCRv4_rec_infer.onnx"), &stats, ranges.get()));
  EXPECT_EQ(stats.int8_convs, 29);
  EXPECT_EQ(stats.int8_hard_swish, 28);
}

}  // namespace
}  // namespace dr::runtime
