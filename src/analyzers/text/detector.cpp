#include "analyzers/text/detector.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <polyclipping/clipper.hpp>

namespace dr::analyzers::text {

Normalize Normalize::from_input(const nlohmann::json& input) {
  Normalize n;
  if (!input.is_object()) return n;
  n.bgr = input.value("colour", std::string("BGR")) == "BGR";
  n.scale = input.value("scale", n.scale);
  if (input.contains("mean"))
    for (int c = 0; c < 3; ++c) n.mean[c] = input["mean"].at(c).get<float>();
  if (input.contains("std"))
    for (int c = 0; c < 3; ++c) n.std[c] = input["std"].at(c).get<float>();
  return n;
}

void to_chw(const cv::Mat& rgb, const Normalize& n, float* out, int out_cols) {
  CV_Assert(rgb.type() == CV_8UC3 && out_cols >= rgb.cols);
  const size_t plane = size_t(rgb.rows) * out_cols;
  // Tensor channel c takes source channel src[c]: RGB pixels, so BGR order reads channel 2 first.
  const int src[3] = {n.bgr ? 2 : 0, 1, n.bgr ? 0 : 2};
  float mul[3], add[3];
  for (int c = 0; c < 3; ++c) {
    mul[c] = n.scale / n.std[c];
    add[c] = -n.mean[c] / n.std[c];
  }
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* px = rgb.ptr<uint8_t>(y);
    float* o0 = out + size_t(y) * out_cols;
    float* o1 = o0 + plane;
    float* o2 = o1 + plane;
    for (int x = 0; x < rgb.cols; ++x, px += 3) {
      o0[x] = px[src[0]] * mul[0] + add[0];
      o1[x] = px[src[1]] * mul[1] + add[1];
      o2[x] = px[src[2]] * mul[2] + add[2];
    }
  }
}

cv::Size det_input_size(int width, int height, const DetParams& p) {
  double ratio = 1.0;
  int longest = std::max(width, height);
  if (p.limit_side > 0 && longest > p.limit_side) ratio = double(p.limit_side) / longest;
  auto side = [&](int v) {
    int scaled = int(v * ratio);
    // Python's round() rounds halves to even, as nearbyint does in the default rounding mode.
    int rounded = int(std::nearbyint(double(scaled) / p.multiple)) * p.multiple;
    return std::max(rounded, p.multiple);
  };
  return {side(width), side(height)};
}

std::vector<float> det_preprocess(const cv::Mat& rgb, const Normalize& n, const DetParams& p, cv::Size& size) {
  size = det_input_size(rgb.cols, rgb.rows, p);
  cv::Mat resized;
  if (size == rgb.size())
    resized = rgb;
  else
    cv::resize(rgb, resized, size, 0, 0, cv::INTER_LINEAR);
  std::vector<float> t(size_t(3) * size.area());
  to_chw(resized, n, t.data(), size.width);
  return t;
}

Quad mini_box(const std::vector<cv::Point2f>& pts, float& short_side) {
  cv::RotatedRect r = cv::minAreaRect(pts);
  std::array<cv::Point2f, 4> c;
  r.points(c.data());
  std::stable_sort(c.begin(), c.end(), [](const cv::Point2f& a, const cv::Point2f& b) { return a.x < b.x; });
  // Left pair: the upper one is the top-left. Right pair: the upper one is the top-right.
  cv::Point2f tl = c[1].y > c[0].y ? c[0] : c[1];
  cv::Point2f bl = c[1].y > c[0].y ? c[1] : c[0];
  cv::Point2f tr = c[3].y > c[2].y ? c[2] : c[3];
  cv::Point2f br = c[3].y > c[2].y ? c[3] : c[2];
  short_side = std::min(r.size.width, r.size.height);
  return {tl, tr, br, bl};
}

std::vector<cv::Point2f> unclip(const Quad& q, float ratio) {
  std::vector<cv::Point2f> poly(q.begin(), q.end());
  double area = std::abs(cv::contourArea(poly));
  double length = cv::arcLength(poly, true);
  if (length <= 0) return {};
  double distance = area * ratio / length;
  ClipperLib::Path path;
  for (auto& p : q) path.push_back({ClipperLib::cInt(std::lround(p.x)), ClipperLib::cInt(std::lround(p.y))});
  ClipperLib::ClipperOffset offset;
  offset.AddPath(path, ClipperLib::jtRound, ClipperLib::etClosedPolygon);
  ClipperLib::Paths out;
  offset.Execute(out, distance);
  if (out.size() != 1) return {};
  std::vector<cv::Point2f> res;
  res.reserve(out[0].size());
  for (auto& p : out[0]) res.emplace_back(float(p.X), float(p.Y));
  return res;
}

float box_score(const cv::Mat& prob, const Quad& q) {
  const int w = prob.cols, h = prob.rows;
  float fx0 = q[0].x, fx1 = q[0].x, fy0 = q[0].y, fy1 = q[0].y;
  for (auto& p : q) {
    fx0 = std::min(fx0, p.x), fx1 = std::max(fx1, p.x);
    fy0 = std::min(fy0, p.y), fy1 = std::max(fy1, p.y);
  }
  int x0 = std::clamp(int(std::floor(fx0)), 0, w - 1), x1 = std::clamp(int(std::ceil(fx1)), 0, w - 1);
  int y0 = std::clamp(int(std::floor(fy0)), 0, h - 1), y1 = std::clamp(int(std::ceil(fy1)), 0, h - 1);
  cv::Mat mask = cv::Mat::zeros(y1 - y0 + 1, x1 - x0 + 1, CV_8U);
  std::vector<cv::Point> poly;
  // fillPoly takes integer corners; truncation as numpy's astype(int32) does.
  for (auto& p : q) poly.emplace_back(int(p.x - x0), int(p.y - y0));
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(1));
  return float(cv::mean(prob(cv::Rect(x0, y0, x1 - x0 + 1, y1 - y0 + 1)), mask)[0]);
}

Quad order_clockwise(const Quad& q) {
  Quad s = q;
  std::stable_sort(s.begin(), s.end(), [](const cv::Point2f& a, const cv::Point2f& b) { return a.x < b.x; });
  auto by_y = [](const cv::Point2f& a, const cv::Point2f& b) { return a.y < b.y; };
  std::stable_sort(s.begin(), s.begin() + 2, by_y);
  std::stable_sort(s.begin() + 2, s.end(), by_y);
  return {s[0], s[2], s[3], s[1]};
}

std::vector<DetBox> db_boxes(const cv::Mat& prob, int src_w, int src_h, const DetParams& p) {
  CV_Assert(prob.type() == CV_32F);
  std::vector<DetBox> out;
  if (prob.empty() || src_w <= 0 || src_h <= 0) return out;
  cv::Mat bitmap = prob > p.thresh;  // 0 or 255
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(bitmap, contours, cv::RETR_LIST, cv::CHAIN_APPROX_SIMPLE);
  const size_t n = std::min(contours.size(), size_t(std::max(p.max_candidates, 0)));
  const float sx = float(src_w) / prob.cols, sy = float(src_h) / prob.rows;
  for (size_t i = 0; i < n; ++i) {
    std::vector<cv::Point2f> pts(contours[i].begin(), contours[i].end());
    float side = 0;
    Quad q = mini_box(pts, side);
    if (side < p.min_size) continue;
    float score = box_score(prob, q);
    if (score < p.box_thresh) continue;
    auto expanded = unclip(q, p.unclip_ratio);
    if (expanded.empty()) continue;
    Quad box = mini_box(expanded, side);
    if (side < p.min_size + 2) continue;
    for (auto& c : box) {
      c.x = std::clamp(std::nearbyint(c.x * sx), 0.0f, float(src_w));
      c.y = std::clamp(std::nearbyint(c.y * sy), 0.0f, float(src_h));
    }
    // PaddleOCR's filter_tag_det_res: clockwise order, clipped inside the image, no box 3 pixels thin or less.
    box = order_clockwise(box);
    for (auto& c : box) {
      c.x = std::floor(std::clamp(c.x, 0.0f, float(src_w - 1)));
      c.y = std::floor(std::clamp(c.y, 0.0f, float(src_h - 1)));
    }
    if (int(cv::norm(box[0] - box[1])) <= 3 || int(cv::norm(box[0] - box[3])) <= 3) continue;
    out.push_back({box, score});
  }
  return out;
}

}  // namespace dr::analyzers::text
