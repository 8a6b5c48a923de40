// Alignment onto the ArcFace template, and the quality signals measured on the aligned face.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "analyzers/faces/faces.h"

namespace dr::analyzers::faces {

const std::array<cv::Point2f, 5>& arcface_template() {
  static const std::array<cv::Point2f, 5> t = {cv::Point2f{38.2946f, 51.6963f}, cv::Point2f{73.5318f, 51.5014f},
                                               cv::Point2f{56.0252f, 71.7366f}, cv::Point2f{41.5493f, 92.3655f},
                                               cv::Point2f{70.7299f, 92.2041f}};
  return t;
}

// Umeyama's least-squares similarity in two dimensions. With both point sets centred, the transform
// [a -b; b a] * p + t minimising sum |dst - T(src)|^2 has a = sum(s.d) / sum|s|^2 and b = sum(s x d) / sum|s|^2
// (s x d = sx*dy - sy*dx); scale = hypot(a, b), rotation = atan2(b, a). Parametrised as a rotation it can never
// reflect, which is the case Umeyama's SVD sign correction exists for.
cv::Matx23d similarity_transform(const std::array<cv::Point2f, 5>& src, const std::array<cv::Point2f, 5>& dst) {
  const size_t n = src.size();
  double msx = 0, msy = 0, mdx = 0, mdy = 0;
  for (size_t i = 0; i < n; i++) {
    msx += src[i].x, msy += src[i].y, mdx += dst[i].x, mdy += dst[i].y;
  }
  msx /= n, msy /= n, mdx /= n, mdy /= n;
  double dot = 0, cross = 0, norm = 0;
  for (size_t i = 0; i < n; i++) {
    double sx = src[i].x - msx, sy = src[i].y - msy, dx = dst[i].x - mdx, dy = dst[i].y - mdy;
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
    norm += sx * sx + sy * sy;
  }
  if (norm <= 1e-12) return cv::Matx23d(1, 0, mdx - msx, 0, 1, mdy - msy);  // all landmarks on one point
  double a = dot / norm, b = cross / norm;
  return cv::Matx23d(a, -b, mdx - (a * msx - b * msy), b, a, mdy - (b * msx + a * msy));
}

cv::Mat align_face(const cv::Mat& rgb, const std::array<cv::Point2f, 5>& landmarks) {
  cv::Matx23d m = similarity_transform(landmarks, arcface_template());
  cv::Mat out;
  cv::warpAffine(rgb, out, cv::Mat(m), cv::Size(112, 112), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0, 0, 0));
  return out;
}

Quality measure_quality(const cv::Mat& aligned, const std::array<cv::Point2f, 5>& landmarks) {
  Quality q;
  // Sharpness: the variance of the Laplacian, on the aligned face so that it compares across face sizes (a small
  // face is enlarged to 112 pixels and comes out soft, which is what it is for recognition).
  cv::Mat grey, lap;
  cv::cvtColor(aligned, grey, cv::COLOR_RGB2GRAY);
  cv::Laplacian(grey, lap, CV_32F);
  cv::Scalar mean, dev;
  cv::meanStdDev(lap, mean, dev);
  q.blur = float(dev[0] * dev[0]);

  // Frontalness: in the aligned frame (roll removed), a frontal face has its nose half-way between the eyes and
  // half-way between the mouth corners; turning the head moves it towards one side. Ratio of the shorter to the
  // longer side, for the eyes and for the mouth; a nose outside the eyes or the mouth gives 0.
  cv::Matx23d m = similarity_transform(landmarks, arcface_template());
  std::array<cv::Point2f, 5> p;
  for (int i = 0; i < 5; i++) {
    cv::Vec3d v(landmarks[i].x, landmarks[i].y, 1.0);
    cv::Vec2d r = m * v;
    p[i] = {float(r[0]), float(r[1])};
  }
  auto balance = [](float left, float nose, float right) {
    float l = nose - left, r = right - nose;
    if (l <= 0 || r <= 0) return 0.0f;
    return std::min(l, r) / std::max(l, r);
  };
  q.frontal = std::sqrt(balance(p[0].x, p[2].x, p[1].x) * balance(p[3].x, p[2].x, p[4].x));
  return q;
}

}  // namespace dr::analyzers::faces
