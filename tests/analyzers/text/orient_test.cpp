// Ocr::orient, the 0/180-degree step, with a classifier made here: no model is needed. The fake classifier's vote
// for 180 degrees is the grey level of the window it is shown (0 to 255 read as 0 to 1), so a line painted in
// segments of given greys has windows with given votes.
#include <gtest/gtest.h>
#include <onnxruntime_cxx_api.h>

#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include "analyzers/text/ocr.h"

namespace dr::analyzers::text {
namespace {

struct FakeClassifier {
  int windows = 0;  // windows classified

  std::vector<Ort::Value> operator()(std::vector<Ort::Value>& in) {
    const auto shape = in.at(0).GetTensorTypeAndShapeInfo().GetShape();  // n, 3, 48, 192
    const int64_t n = shape[0], plane = shape[2] * shape[3];
    const float* x = in[0].GetTensorData<float>();
    Ort::AllocatorWithDefaultOptions alloc;
    std::vector<int64_t> out_shape = {n, 2};
    auto out = Ort::Value::CreateTensor<float>(alloc, out_shape.data(), out_shape.size());
    float* p = out.GetTensorMutableData<float>();
    for (int64_t i = 0; i < n; ++i) {
      double sum = 0;  // channel 0, normalised to -1..1
      for (int64_t k = 0; k < plane; ++k) sum += x[i * 3 * plane + k];
      const float vote = float((sum / double(plane) + 1) / 2);
      p[2 * i] = 1 - vote;
      p[2 * i + 1] = vote;
    }
    windows += int(n);
    std::vector<Ort::Value> v;
    v.push_back(std::move(out));
    return v;
  }
};

// A 48-pixel line of one 192-pixel segment per vote (the classifier's input is 192x48: one window per segment).
cv::Mat line(const std::vector<int>& greys) {
  cv::Mat m(48, 192 * int(greys.size()), CV_8UC3);
  for (size_t k = 0; k < greys.size(); ++k) m(cv::Rect(192 * int(k), 0, 192, 48)).setTo(cv::Scalar::all(greys[k]));
  return m;
}

struct Oriented {
  std::vector<bool> turned;
  int windows = 0;
};

Oriented orient(const std::vector<std::vector<int>>& lines) {
  auto fake = std::make_shared<FakeClassifier>();
  Model cls{[fake](std::vector<Ort::Value>& in) { return (*fake)(in); }, Normalize{}};
  Model unused{[](std::vector<Ort::Value>&) -> std::vector<Ort::Value> { throw std::logic_error("not used"); },
               Normalize{}};
  Ocr ocr(unused, cls, unused, Charset::from_text("a"), OcrOptions{});  // cls_thresh 0.9
  std::vector<cv::Mat> crops;
  for (auto& g : lines) crops.push_back(line(g));
  Oriented o;
  o.turned = ocr.orient(crops);
  o.windows = fake->windows;
  return o;
}

TEST(TextOrientation, ALineIsTurnedWhenItsWindowsMeanVoteReachesTheThreshold) {
  // Votes of 0.94 (240/255), 0.1 (26/255) and so on.
  auto o = orient({{240, 26, 240},        // mean 0.66: kept; its middle window (0.1) already says so
                   {240, 240, 240},       // mean 0.94: turned
                   {128, 240, 204},       // middle 0.94, mean 0.8: all three asked, kept
                   {235},                 // one window, 0.92: turned
                   {250, 26, 26, 250}});  // four segments, three windows (start, middle, end): mean 0.69, kept
  EXPECT_EQ(o.turned, (std::vector<bool>{false, true, false, true, false}));
  // The first line and the last were decided by their middle window; the others needed every window.
  EXPECT_EQ(o.windows, 1 + 3 + 3 + 1 + 1);
}

TEST(TextOrientation, AskingTheMiddleWindowFirstDecidesAsAskingEveryWindow) {
  // Lines of one to three segments, each one window; odd greys, so that no mean falls on the threshold itself.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> grey(75, 127), segments(1, 3);
  std::vector<std::vector<int>> lines;
  for (int i = 0; i < 300; ++i) {
    std::vector<int> g(size_t(segments(rng)));
    for (auto& v : g) v = 2 * grey(rng) + 1;
    lines.push_back(g);
  }
  auto o = orient(lines);
  int turned = 0, windows = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    double mean = 0;
    for (int v : lines[i]) mean += v / 255.0;
    mean /= double(lines[i].size());
    EXPECT_EQ(o.turned[i], mean >= 0.9) << "line " << i;
    turned += o.turned[i];
    windows += int(lines[i].size());
  }
  EXPECT_GT(turned, 10);  // both outcomes occur
  EXPECT_LT(turned, 290);
  EXPECT_LT(o.windows, windows);
}

}  // namespace
}  // namespace dr::analyzers::text
