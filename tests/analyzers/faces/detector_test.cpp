// Detection on real photos, with both detector families, and the bad inputs of the issue.
#include <opencv2/imgproc.hpp>

#include "analyzers/faces/faces_fixture.h"

namespace dr::analyzers::faces {
namespace {

using testing::load_rgb;
using testing::Models;
using testing::opencv_doc;
using testing::skimage;

struct Where {
  std::string photo;
  cv::Point2f centre;  // where the face is, measured by eye on the photo
};

const std::vector<Where>& one_face_photos() {
  static const std::vector<Where> v = {
      {skimage("astronaut.png"), {224, 121}},
      {skimage("camera.png"), {228, 156}},
      {opencv_doc("messi5.jpg"), {241, 113}},
      {opencv_doc("left06.jpg"), {283, 170}},
      {opencv_doc("right06.jpg"), {194, 185}},
  };
  return v;
}

const std::vector<std::string>& face_free_photos() {
  static const std::vector<std::string> v = {skimage("coffee.png"),     opencv_doc("fruits.jpg"), skimage("rocket.jpg"),
                                             skimage("chelsea.png"),    opencv_doc("baboon.jpg"), skimage("coins.png"),
                                             opencv_doc("building.jpg"), skimage("hubble_deep_field.jpg")};
  return v;
}

class Detectors : public ::testing::TestWithParam<std::string> {};

TEST_P(Detectors, FindsTheOneFaceWhereItIs) {
  auto det = Models::get().detector(GetParam());
  for (auto& w : one_face_photos()) {
    SCOPED_TRACE(w.photo);
    auto faces = det->detect(load_rgb(w.photo));
    ASSERT_EQ(faces.size(), 1u);
    auto& f = faces[0];
    EXPECT_TRUE(f.box.contains(w.centre)) << f.box;
    EXPECT_GE(f.score, det->options().min_score);
    // The landmarks lie in the box: eyes in its upper half, mouth corners in its lower half.
    for (auto& p : f.landmarks) EXPECT_TRUE(cv::Rect2f(f.box).contains(p)) << p;
    EXPECT_LT(f.landmarks[0].y, f.box.y + f.box.height * 0.6f);
    EXPECT_GT(f.landmarks[3].y, f.landmarks[0].y);
  }
}

TEST_P(Detectors, FindsNoFaceOnFaceFreePhotos) {
  auto det = Models::get().detector(GetParam());
  for (auto& p : face_free_photos()) EXPECT_EQ(det->detect(load_rgb(p)).size(), 0u) << p;
}

INSTANTIATE_TEST_SUITE_P(Faces, Detectors, ::testing::Values("face-detector/yunet-n", "face-detector/scrfd-500m"),
                         [](const auto& info) { return info.param == "face-detector/yunet-n" ? "YuNet" : "Scrfd"; });

TEST(FaceDetector, CoordinatesFollowTheImageWhateverTheSize) {
  auto det = Models::get().detector();
  cv::Mat img = load_rgb(skimage("astronaut.png"));
  auto ref = det->detect(img);
  ASSERT_EQ(ref.size(), 1u);
  // Bigger than max_side (detected at 640, mapped back) and a non-square crop.
  for (double s : {2.5, 0.7}) {
    cv::Mat big;
    cv::resize(img, big, {}, s, s, cv::INTER_LINEAR);
    auto f = det->detect(big);
    ASSERT_EQ(f.size(), 1u) << s;
    EXPECT_NEAR(f[0].box.x, ref[0].box.x * s, 6 * s);
    EXPECT_NEAR(f[0].landmarks[2].y, ref[0].landmarks[2].y * s, 6 * s);
  }
  cv::Mat crop = img(cv::Rect(100, 0, 300, 512)).clone();
  auto f = det->detect(crop);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NEAR(f[0].box.x, ref[0].box.x - 100, 3);
}

TEST(FaceDetector, ScrfdAndYuNetAgree) {
  auto y = Models::get().detector("face-detector/yunet-n");
  auto s = Models::get().detector("face-detector/scrfd-500m");
  for (auto& w : one_face_photos()) {
    cv::Mat img = load_rgb(w.photo);
    auto a = y->detect(img), b = s->detect(img);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_GT((a[0].box & b[0].box).area() / (a[0].box | b[0].box).area(), 0.5f) << w.photo;
    // Landmarks agree within a quarter of the face (on profiles the hidden eye is a guess for both).
    for (int k = 0; k < 5; k++) EXPECT_LT(cv::norm(a[0].landmarks[k] - b[0].landmarks[k]), 0.25 * a[0].box.width);
  }
}

TEST(FaceDetector, FaceCutByTheBorder) {
  auto det = Models::get().detector();
  cv::Mat img = load_rgb(skimage("astronaut.png"));
  // Keep the left 40% of the face only: the box is clipped to the image, landmarks may fall outside it.
  cv::Mat cut = img(cv::Rect(0, 0, 215, 512)).clone();
  auto faces = det->detect(cut);
  for (auto& f : faces) {
    EXPECT_GE(f.box.x, 0);
    EXPECT_LE(f.box.x + f.box.width, cut.cols + 0.01f);
    cv::Mat aligned = align_face(cut, f.landmarks);  // parts outside the photo come out black
    EXPECT_EQ(aligned.size(), cv::Size(112, 112));
  }
}

TEST(FaceDetector, ImagesSmallerThanTheStride) {
  auto det = Models::get().detector();
  for (cv::Size s : {cv::Size(1, 1), cv::Size(7, 5), cv::Size(31, 33), cv::Size(1, 400)}) {
    cv::Mat tiny(s, CV_8UC3, cv::Scalar(120, 90, 60));
    EXPECT_NO_THROW(EXPECT_TRUE(det->detect(tiny).empty())) << s;
  }
  EXPECT_TRUE(det->detect(cv::Mat()).empty());
}

TEST(FaceDetector, Greyscale) {
  // camera.png is a greyscale PNG: decoded as RGB with three equal channels.
  auto d = image::decode(skimage("camera.png"));
  EXPECT_EQ(Models::get().detector()->detect(d.rgb).size(), 1u);
}

TEST(FaceDetector, FortyMegapixels) {
  cv::Mat img = load_rgb(skimage("astronaut.png"));
  cv::Mat big;
  cv::resize(img, big, cv::Size(7744, 5164), 0, 0, cv::INTER_LINEAR);  // 40 MP, and not square
  auto faces = Models::get().detector()->detect(big);
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_TRUE(faces[0].box.contains(cv::Point2f(224 * 7744 / 512.f, 121 * 5164 / 512.f)));
}

TEST(FaceDetector, AHundredFaces) {
  cv::Mat img = load_rgb(skimage("astronaut.png"));
  cv::Mat face = img(cv::Rect(150, 30, 150, 170));
  cv::Mat row, grid;
  std::vector<cv::Mat> cells(10, face), rows;
  cv::hconcat(cells, row);
  rows.assign(10, row);
  cv::vconcat(rows, grid);  // 1500 x 1700, 100 faces of about 90 pixels
  auto faces = Models::get().detector()->detect(grid);
  EXPECT_EQ(faces.size(), 100u);
  // One per cell.
  std::set<std::pair<int, int>> cellsHit;
  for (auto& f : faces) {
    cv::Point2f c = (f.box.tl() + f.box.br()) * 0.5f;
    cellsHit.insert({int(c.x / 150), int(c.y / 170)});
  }
  EXPECT_EQ(cellsHit.size(), 100u);
}

TEST(FaceDetector, Nms) {
  std::vector<Face> f(3);
  f[0].box = {0, 0, 10, 10}, f[0].score = 0.8f;
  f[1].box = {1, 1, 10, 10}, f[1].score = 0.9f;
  f[2].box = {20, 20, 10, 10}, f[2].score = 0.5f;
  nms(f, 0.3f);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_FLOAT_EQ(f[0].score, 0.9f);
  EXPECT_FLOAT_EQ(f[1].score, 0.5f);
}

}  // namespace
}  // namespace dr::analyzers::faces
