// The shapes the OCR pipeline feeds a model that runs on a GPU (Model::on_gpu): the detector's own shape, classifier
// and recognizer batches padded to powers of two, recognizer widths in steps of 128; and the same results as the
// CPU's shapes. Models made here record what they are given; no model file is needed.
#include <gtest/gtest.h>
#include <onnxruntime_cxx_api.h>

#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "analyzers/text/ocr.h"

namespace dr::analyzers::text {
namespace {

using Shapes = std::vector<std::vector<int64_t>>;

Ort::Value zeros(const std::vector<int64_t>& shape) {
  Ort::AllocatorWithDefaultOptions alloc;
  auto v = Ort::Value::CreateTensor<float>(alloc, shape.data(), shape.size());
  size_t n = v.GetTensorTypeAndShapeInfo().GetElementCount();
  std::fill(v.GetTensorMutableData<float>(), v.GetTensorMutableData<float>() + n, 0.f);
  return v;
}

std::vector<Ort::Value> one(Ort::Value v) {
  std::vector<Ort::Value> out;
  out.push_back(std::move(v));
  return out;
}

// A detector whose probability map is 1 on the input's columns 16..111 and rows 32..63, 0 elsewhere.
Model detector(std::shared_ptr<Shapes> seen, bool gpu) {
  return {[seen](std::vector<Ort::Value>& in) {
            auto s = in.at(0).GetTensorTypeAndShapeInfo().GetShape();
            seen->push_back(s);
            auto out = zeros({1, 1, s[2], s[3]});
            float* p = out.GetTensorMutableData<float>();
            for (int64_t y = 32; y < 64; ++y)
              for (int64_t x = 16; x < 112; ++x) p[y * s[3] + x] = 1.f;
            return one(std::move(out));
          },
          Normalize{}, [gpu] { return gpu; }};
}

// A classifier that says 0 degrees for every line.
Model classifier(std::shared_ptr<Shapes> seen, bool gpu) {
  return {[seen](std::vector<Ort::Value>& in) {
            auto s = in.at(0).GetTensorTypeAndShapeInfo().GetShape();
            seen->push_back(s);
            auto out = zeros({s[0], 2});
            float* p = out.GetTensorMutableData<float>();
            for (int64_t i = 0; i < s[0]; ++i) p[i * 2] = 1.f;
            return one(std::move(out));
          },
          Normalize{}, [gpu] { return gpu; }};
}

// A recognizer that reads a line's number of dark bars (in its middle row) as that many letters 'a'.
Model recognizer(std::shared_ptr<Shapes> seen, bool gpu) {
  return {[seen](std::vector<Ort::Value>& in) {
            auto s = in.at(0).GetTensorTypeAndShapeInfo().GetShape();  // n, 3, h, w
            seen->push_back(s);
            const int64_t n = s[0], h = s[2], w = s[3], steps = 16, classes = 3;  // blank, 'a', space
            const float* x = in[0].GetTensorData<float>();
            auto out = zeros({n, steps, classes});
            float* p = out.GetTensorMutableData<float>();
            for (int64_t i = 0; i < n; ++i) {
              const float* row = x + (size_t(i) * 3 * h + h / 2) * w;
              int bars = 0;
              for (int64_t k = 0; k < w; ++k) bars += row[k] < 0 && (k == 0 || row[k - 1] >= 0);
              // a at odd steps, blank between (so repeats stay apart)
              for (int64_t t = 0; t < steps; ++t)
                p[(i * steps + t) * classes + (t % 2 == 1 && t / 2 < bars ? 1 : 0)] = 1;
            }
            return one(std::move(out));
          },
          Normalize{}, [gpu] { return gpu; }};
}

// A white line `bars` black bars long, 10 pixels high, `width` wide.
cv::Mat line(int bars, int width) {
  cv::Mat m(10, width, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int k = 0; k < bars; ++k) m(cv::Rect(5 + 12 * k, 0, 4, 10)).setTo(cv::Scalar(0, 0, 0));
  return m;
}

struct Pipeline {
  std::shared_ptr<Shapes> det = std::make_shared<Shapes>(), cls = std::make_shared<Shapes>(),
                          rec = std::make_shared<Shapes>();
  std::unique_ptr<Ocr> ocr;
  explicit Pipeline(bool gpu) {
    OcrOptions o;
    o.rec_batch = 8;
    ocr = std::make_unique<Ocr>(detector(det, gpu), classifier(cls, gpu), recognizer(rec, gpu), Charset::from_text("a"),
                                o);
  }
};

TEST(TextGpuShapes, TheDetectorKeepsThePhotosOwnShapeAndBoxes) {
  // A padded canvas would change PP-OCRv4's detections (ocr.cpp says why): the GPU gets the CPU's shape.
  cv::Mat photo(100, 300, CV_8UC3, cv::Scalar(255, 255, 255));
  Pipeline cpu(false), gpu(true);
  auto a = cpu.ocr->detect(photo);
  auto b = gpu.ocr->detect(photo);
  ASSERT_EQ(cpu.det->size(), 1u);
  ASSERT_EQ(gpu.det->size(), 1u);
  EXPECT_EQ(cpu.det->at(0), (std::vector<int64_t>{1, 3, 96, 288}));  // PaddleOCR's rounding to multiples of 32
  EXPECT_EQ(gpu.det->at(0), cpu.det->at(0));
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(a[0].quad[k].x, b[0].quad[k].x);
    EXPECT_EQ(a[0].quad[k].y, b[0].quad[k].y);
  }
}

TEST(TextGpuShapes, BatchesArePaddedToPowersOfTwoAndWidthsTo128AndReadTheSame) {
  std::vector<cv::Mat> lines;
  for (int bars = 1; bars <= 5; ++bars) lines.push_back(line(bars, 200));
  Pipeline cpu(false), gpu(true);
  std::vector<cv::Mat> a = lines, b = lines;
  for (auto& l : a) l = l.clone();
  for (auto& l : b) l = l.clone();
  cpu.ocr->orient(a);
  gpu.ocr->orient(b);
  ASSERT_EQ(cpu.cls->size(), 1u);
  ASSERT_EQ(gpu.cls->size(), 1u);
  EXPECT_EQ(cpu.cls->at(0)[0], 5);
  EXPECT_EQ(gpu.cls->at(0)[0], 8);

  auto ta = cpu.ocr->recognize(a);
  auto tb = gpu.ocr->recognize(b);
  ASSERT_EQ(cpu.rec->size(), 1u);
  ASSERT_EQ(gpu.rec->size(), 1u);
  // 10x200 lines at height 48: 960 wide; on the GPU the 5 lines run as 8, 1024 wide (960 up to a multiple of 128).
  EXPECT_EQ(cpu.rec->at(0), (std::vector<int64_t>{5, 3, 48, 960}));
  EXPECT_EQ(gpu.rec->at(0), (std::vector<int64_t>{8, 3, 48, 1024}));
  ASSERT_EQ(ta.size(), 5u);
  ASSERT_EQ(tb.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(ta[i].text, std::string(i + 1, 'a'));
    EXPECT_EQ(tb[i].text, ta[i].text);
  }
}

}  // namespace
}  // namespace dr::analyzers::text
