// Alignment, quality and embeddings on real photos: the same person comes out closer than different people.
#include <opencv2/imgproc.hpp>

#include <random>

#include "analyzers/faces/faces_fixture.h"

namespace dr::analyzers::faces {
namespace {

using testing::load_rgb;
using testing::Models;
using testing::opencv_doc;
using testing::skimage;

TEST(Alignment, SimilarityTransformRecoversAKnownOne) {
  // Rotate by 30 degrees, scale by 2.5, shift: the fit finds exactly that.
  const double a = 2.5 * std::cos(0.5235987756), b = 2.5 * std::sin(0.5235987756);
  std::array<cv::Point2f, 5> src = arcface_template(), dst;
  for (int i = 0; i < 5; i++)
    dst[i] = {float(a * src[i].x - b * src[i].y + 40), float(b * src[i].x + a * src[i].y - 7)};
  cv::Matx23d m = similarity_transform(src, dst);
  EXPECT_NEAR(m(0, 0), a, 1e-4);
  EXPECT_NEAR(m(0, 1), -b, 1e-4);
  EXPECT_NEAR(m(1, 0), b, 1e-4);
  EXPECT_NEAR(m(0, 2), 40, 1e-3);
  EXPECT_NEAR(m(1, 2), -7, 1e-3);
}

TEST(Alignment, MatchesTheLinearLeastSquaresSolution) {
  // With noise, the closed form agrees with solving the over-determined linear system for (a, b, tx, ty):
  // x' = a x - b y + tx, y' = b x + a y + ty (ten equations, four unknowns) by SVD.
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0, 2);
  std::array<cv::Point2f, 5> src;
  for (int i = 0; i < 5; i++) src[i] = arcface_template()[i] * 1.7f + cv::Point2f(90 + noise(rng), 40 + noise(rng));
  cv::Matx23d m = similarity_transform(src, arcface_template());
  cv::Mat A(10, 4, CV_64F), B(10, 1, CV_64F), x;
  for (int i = 0; i < 5; i++) {
    double sx = src[i].x, sy = src[i].y;
    cv::Mat(cv::Matx14d(sx, -sy, 1, 0)).copyTo(A.row(2 * i));
    cv::Mat(cv::Matx14d(sy, sx, 0, 1)).copyTo(A.row(2 * i + 1));
    B.at<double>(2 * i) = arcface_template()[i].x;
    B.at<double>(2 * i + 1) = arcface_template()[i].y;
  }
  cv::solve(A, B, x, cv::DECOMP_SVD);
  EXPECT_NEAR(m(0, 0), x.at<double>(0), 1e-6);
  EXPECT_NEAR(m(1, 0), x.at<double>(1), 1e-6);
  EXPECT_NEAR(m(0, 2), x.at<double>(2), 1e-4);
  EXPECT_NEAR(m(1, 2), x.at<double>(3), 1e-4);
}

TEST(Alignment, ReflectionIsNeverFitted) {
  // Mirrored landmarks (left and right swapped in x) are fitted by a rotation, never by a mirror image.
  std::array<cv::Point2f, 5> mirrored;
  for (int i = 0; i < 5; i++) mirrored[i] = {112 - arcface_template()[i].x, arcface_template()[i].y};
  cv::Matx23d m = similarity_transform(mirrored, arcface_template());
  EXPECT_GT(m(0, 0) * m(1, 1) - m(0, 1) * m(1, 0), 0);  // positive determinant
}

TEST(Quality, FrontalSharpAndSmallFaces) {
  auto a = Models::get().analyzer();
  auto astronaut = a.analyze(load_rgb(skimage("astronaut.png")), 1.0, false);
  auto profile = a.analyze(load_rgb(opencv_doc("left06.jpg")), 1.0, false);
  ASSERT_EQ(astronaut.size(), 1u);
  ASSERT_EQ(profile.size(), 1u);
  EXPECT_GT(astronaut[0].quality.frontal, 0.8f);
  EXPECT_LT(profile[0].quality.frontal, 0.3f);
  EXPECT_NEAR(astronaut[0].quality.size, 91, 5);

  cv::Mat soft;
  cv::GaussianBlur(load_rgb(skimage("astronaut.png")), soft, {0, 0}, 3);
  auto blurred = a.analyze(soft, 1.0, false);
  ASSERT_EQ(blurred.size(), 1u);
  EXPECT_LT(blurred[0].quality.blur, astronaut[0].quality.blur / 4);

  // Sizes are reported in displayed pixels: the same face, analysed at half size with to_display = 2.
  cv::Mat half;
  cv::resize(load_rgb(skimage("astronaut.png")), half, {}, 0.5, 0.5, cv::INTER_AREA);
  auto scaled = a.analyze(half, 2.0, false);
  ASSERT_EQ(scaled.size(), 1u);
  EXPECT_NEAR(scaled[0].quality.size, astronaut[0].quality.size, 5);
  EXPECT_NEAR(scaled[0].box.x, astronaut[0].box.x, 5);
  EXPECT_NEAR(scaled[0].landmarks[4].x, astronaut[0].landmarks[4].x, 5);
}

std::vector<float> embed_one(const FaceAnalyzer& a, const cv::Mat& img) {
  auto f = a.analyze(img, 1.0, true);
  if (f.size() != 1) throw std::runtime_error("expected one face, found " + std::to_string(f.size()));
  return f[0].embedding;
}

cv::Mat mirrored(const cv::Mat& m) {
  cv::Mat o;
  cv::flip(m, o, 1);
  return o;
}
cv::Mat rescaled(const cv::Mat& m, double s) {
  cv::Mat o;
  cv::resize(m, o, {}, s, s, s < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return o;
}

TEST(Embedding, SamePersonIsCloserThanDifferentPeopleByAClearMargin) {
  auto a = Models::get().analyzer();
  struct Person {
    std::string name;
    std::vector<std::vector<float>> views;
  };
  std::vector<Person> people;
  for (auto [name, photo] : {std::pair{"astronaut", skimage("astronaut.png")}, {"cameraman", skimage("camera.png")},
                             {"messi", opencv_doc("messi5.jpg")}}) {
    cv::Mat img = load_rgb(photo);
    people.push_back({name, {embed_one(a, img), embed_one(a, mirrored(img)), embed_one(a, rescaled(img, 1.6))}});
  }
  // The stereo pair: one man seen by two cameras.
  people.push_back({"stereo", {embed_one(a, load_rgb(opencv_doc("left06.jpg"))),
                               embed_one(a, load_rgb(opencv_doc("right06.jpg")))}});
  // Two frames of one video.
  auto bball = [&](const std::string& f) {
    auto faces = a.analyze(load_rgb(opencv_doc(f)), 1.0, true);
    EXPECT_FALSE(faces.empty());
    return faces.at(0).embedding;  // the best one: the player facing the camera
  };
  people.push_back({"player", {bball("basketball1.png"), bball("basketball2.png")}});

  float lowest_same = 1, highest_different = -1;
  for (size_t i = 0; i < people.size(); i++)
    for (size_t j = i; j < people.size(); j++)
      for (size_t u = 0; u < people[i].views.size(); u++)
        for (size_t v = (i == j ? u + 1 : 0); v < people[j].views.size(); v++) {
          float c = cosine(people[i].views[u], people[j].views[v]);
          if (i == j)
            lowest_same = std::min(lowest_same, c);
          else
            highest_different = std::max(highest_different, c);
          SCOPED_TRACE(people[i].name + " / " + people[j].name);
          // Both sides of the people clustering's default 0.5 cosine distance, with room to spare.
          if (i == j) {
            EXPECT_GT(c, 0.6f);
          } else {
            EXPECT_LT(c, 0.4f);
          }
        }
  EXPECT_GT(lowest_same - highest_different, 0.25f);
  std::printf("same person >= %.3f, different people <= %.3f\n", lowest_same, highest_different);
}

TEST(Embedding, UnitLengthAndBatchIndependent) {
  auto a = Models::get().analyzer();
  cv::Mat img = load_rgb(skimage("astronaut.png"));
  auto f = a.analyze(img, 1.0, true);
  ASSERT_EQ(f.size(), 1u);
  ASSERT_EQ(f[0].embedding.size(), 128u);
  EXPECT_NEAR(cosine(f[0].embedding, f[0].embedding), 1.0f, 1e-5);
  // Without embeddings none is computed.
  EXPECT_TRUE(a.analyze(img, 1.0, false)[0].embedding.empty());
  // The embedder alone, on two faces at once, gives the same vectors.
  auto emb = Models::get().embedder();
  cv::Mat aligned = align_face(img, f[0].landmarks);
  auto two = emb->embed({aligned, mirrored(aligned)});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NEAR(cosine(two[0], f[0].embedding), 1.0f, 1e-4);
}

}  // namespace
}  // namespace dr::analyzers::faces
