#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analyzers/objects/coco.h"
#include "analyzers/objects/detection.h"
#include "analyzers/objects/detr.h"
#include "analyzers/objects/yolox.h"

namespace dr::analyzers::objects {
namespace {

TEST(Coco, NamesAndIds) {
  ASSERT_EQ(coco80_names().size(), 80u);
  EXPECT_EQ(coco80_names()[0], "person");
  EXPECT_EQ(coco80_names()[15], "cat");
  EXPECT_EQ(coco80_names()[32], "sports ball");
  EXPECT_EQ(coco80_names()[41], "cup");
  EXPECT_EQ(coco80_names()[79], "toothbrush");
  EXPECT_EQ(coco91_name(1), "person");
  EXPECT_EQ(coco91_name(17), "cat");
  EXPECT_EQ(coco91_name(47), "cup");
  EXPECT_EQ(coco91_name(90), "toothbrush");
  for (int gap : {0, 12, 26, 29, 30, 45, 66, 68, 69, 71, 83, 91, -1}) EXPECT_EQ(coco91_name(gap), "") << gap;
}

TEST(Nms, ClassAware) {
  std::vector<Detection> d = {
      {15, "cat", 0.6f, {10, 10, 100, 100}},
      {15, "cat", 0.9f, {12, 12, 100, 100}},  // overlaps the first: keeps this one
      {16, "dog", 0.5f, {10, 10, 100, 100}},  // same place, other class: kept
      {15, "cat", 0.4f, {300, 300, 50, 50}},  // elsewhere: kept
  };
  auto kept = nms(d, 0.45f);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_EQ(kept[1].label, "dog");
  EXPECT_FLOAT_EQ(kept[2].score, 0.4f);
  EXPECT_EQ(nms(d, 0.45f, 1).size(), 1u);
  EXPECT_NEAR(iou({0, 0, 10, 10}, {5, 0, 10, 10}), 50.f / 150.f, 1e-6);
  EXPECT_EQ(iou({0, 0, 10, 10}, {20, 20, 5, 5}), 0.f);
}

TEST(Yolox, LetterboxIsTopLeftPaddedBgr) {
  image::Rgb img;
  img.width = 4;
  img.height = 2;
  img.pixels.assign(4 * 2 * 3, 0);
  for (int i = 0; i < 8; ++i) {
    img.pixels[i * 3] = 200;  // R
    img.pixels[i * 3 + 1] = 100;
    img.pixels[i * 3 + 2] = 10;  // B
  }
  auto lb = yolox::letterbox(img, 8, 8);
  EXPECT_FLOAT_EQ(lb.scale, 2.f);
  const size_t plane = 64;
  EXPECT_FLOAT_EQ(lb.chw[0], 10.f);           // B first, top-left
  EXPECT_FLOAT_EQ(lb.chw[plane], 100.f);      // G
  EXPECT_FLOAT_EQ(lb.chw[2 * plane], 200.f);  // R
  EXPECT_FLOAT_EQ(lb.chw[3 * 8 + 7], 10.f);   // row 3 is still image (2 rows x 2)
  EXPECT_FLOAT_EQ(lb.chw[4 * 8 + 0], 114.f);  // row 4 is padding
  EXPECT_FLOAT_EQ(lb.chw[2 * plane + 63], 114.f);
}

TEST(Yolox, DecodesOneCellOfStride16) {
  yolox::DecodeParams p;  // 416 x 416: 52*52 + 26*26 + 13*13 = 3549 rows
  const size_t rows = 3549, cls = 80, w = 85;
  std::vector<float> out(rows * w, 0.f);
  // Stride 16, row 5, column 7: index 52*52 + 5*26 + 7.
  size_t i = 52 * 52 + 5 * 26 + 7;
  float* v = &out[i * w];
  v[0] = 0.5f;
  v[1] = 0.5f;
  v[2] = std::log(4.f);
  v[3] = std::log(2.f);
  v[4] = 0.9f;
  v[5 + 15] = 0.8f;  // cat
  v[5 + 16] = 0.3f;  // dog, lower
  // A weak cell that the threshold drops.
  out[10 * w + 4] = 0.2f;
  out[10 * w + 5] = 0.9f;
  auto d = yolox::decode(out.data(), rows, cls, p, 0.5f, 1000, 1000);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].label, "cat");
  EXPECT_NEAR(d[0].score, 0.72f, 1e-6);
  // centre (7.5 * 16, 5.5 * 16) = (120, 88), size 64 x 32 in model pixels; / 0.5 for the image.
  EXPECT_NEAR(d[0].box.x, (120 - 32) / 0.5f, 1e-3);
  EXPECT_NEAR(d[0].box.y, (88 - 16) / 0.5f, 1e-3);
  EXPECT_NEAR(d[0].box.w, 128.f, 1e-3);
  EXPECT_NEAR(d[0].box.h, 64.f, 1e-3);
  EXPECT_THROW(yolox::decode(out.data(), rows - 1, cls, p, 1.f, 100, 100), std::invalid_argument);
}

TEST(Detr, SoftmaxSkipsNoObjectAndMapsCocoIds) {
  const size_t q = 3, c = 92;
  std::vector<float> logits(q * c, 0.f), boxes(q * 4, 0.f);
  logits[0 * c + 17] = 10.f;  // cat, confident
  logits[1 * c + 91] = 10.f;  // no object
  logits[2 * c + 18] = 2.f;   // dog, weak
  float b0[4] = {0.5f, 0.25f, 0.2f, 0.1f};
  std::copy(b0, b0 + 4, boxes.begin());
  auto d = detr::decode(logits.data(), boxes.data(), q, c, 0.5f, 200, 100);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].label, "cat");
  EXPECT_EQ(d[0].class_index, 17);
  float expected = std::exp(10.f) / (std::exp(10.f) + 91.f);
  EXPECT_NEAR(d[0].score, expected, 1e-5);
  EXPECT_NEAR(d[0].box.x, 80.f, 1e-3);  // (0.5 - 0.1) * 200
  EXPECT_NEAR(d[0].box.y, 20.f, 1e-3);  // (0.25 - 0.05) * 100
  EXPECT_NEAR(d[0].box.w, 40.f, 1e-3);
  EXPECT_NEAR(d[0].box.h, 10.f, 1e-3);
  // A gap id (12) never becomes a detection.
  std::fill(logits.begin(), logits.end(), 0.f);
  logits[12] = 20.f;
  EXPECT_TRUE(detr::decode(logits.data(), boxes.data(), 1, c, 0.1f, 10, 10).empty());
}

TEST(Detr, PreprocessResizesShortestSideAndNormalises) {
  image::Rgb img;
  img.width = 40;
  img.height = 20;
  img.pixels.assign(40 * 20 * 3, 255);
  auto p = detr::preprocess(img, 10, 100, {0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f});
  EXPECT_EQ(p.width, 20);
  EXPECT_EQ(p.height, 10);
  EXPECT_NEAR(p.chw[0], 1.f, 1e-5);                              // (1 - 0.5) / 0.5
  auto q = detr::preprocess(img, 20, 30, {0, 0, 0}, {1, 1, 1});  // longest capped at 30
  EXPECT_EQ(q.width, 30);
  EXPECT_EQ(q.height, 15);
}

}  // namespace
}  // namespace dr::analyzers::objects
