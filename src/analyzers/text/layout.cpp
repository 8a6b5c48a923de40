#include "analyzers/text/layout.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

namespace dr::analyzers::text {
namespace {

constexpr float kLevelBelow = 0.0175f;  // radians (1 degree): a page turned less is read as it is

struct Geo {
  float cy = 0;      // centre, vertically
  float left = 0;    // leftmost x
  float height = 0;  // text height: the mean of the left and right edges
};

Geo geo(const Quad& q) {
  Geo g;
  g.cy = (q[0].y + q[1].y + q[2].y + q[3].y) / 4;
  g.left = std::min(std::min(q[0].x, q[1].x), std::min(q[2].x, q[3].x));
  g.height = float(cv::norm(q[0] - q[3]) + cv::norm(q[1] - q[2])) / 2;
  return g;
}

// The page's skew: the median direction of the top edges of the boxes wider than tall, in radians (0 when there
// is none).
float skew_of(const std::vector<Quad>& boxes) {
  std::vector<float> angles;
  for (const auto& q : boxes) {
    const cv::Point2f top = q[1] - q[0];
    if (top.x > 0 && cv::norm(top) > cv::norm(q[3] - q[0])) angles.push_back(std::atan2(top.y, top.x));
  }
  if (angles.empty()) return 0;
  auto mid = angles.begin() + std::ptrdiff_t(angles.size() / 2);
  std::nth_element(angles.begin(), mid, angles.end());
  return *mid;
}

// `q` turned by -angle about the origin: on a page turned by `angle`, its lines become level.
Quad unturned(const Quad& q, float angle) {
  const float c = std::cos(angle), s = std::sin(angle);
  Quad out;
  for (size_t k = 0; k < q.size(); ++k) out[k] = {q[k].x * c + q[k].y * s, -q[k].x * s + q[k].y * c};
  return out;
}

struct Row {
  std::vector<size_t> members;
  float cy_sum = 0, height = 0;
  float cy() const { return cy_sum / members.size(); }
};

}  // namespace

std::vector<std::vector<size_t>> reading_rows(const std::vector<Quad>& boxes) {
  // On a turned page a short line's centre can sit as high as the next line's (imageTextR.png, turned 9 degrees:
  // its first line, half as long as the second, was put on the second's row), so rows are found with the page made
  // level.
  const float skew = skew_of(boxes);
  const bool turned = std::abs(skew) >= kLevelBelow;
  std::vector<Geo> g(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) g[i] = geo(turned ? unturned(boxes[i], skew) : boxes[i]);
  std::vector<size_t> order(boxes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return g[a].cy < g[b].cy; });

  std::vector<Row> rows;
  for (size_t i : order) {
    Row* best = nullptr;
    float best_d = 0;
    for (auto& r : rows) {
      float d = std::abs(g[i].cy - r.cy());
      if (d < 0.5f * std::min(g[i].height, r.height) && (!best || d < best_d)) best = &r, best_d = d;
    }
    if (!best) {
      rows.emplace_back();
      best = &rows.back();
      best->height = g[i].height;
    }
    best->members.push_back(i);
    best->cy_sum += g[i].cy;
    best->height = std::min(best->height, g[i].height);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.cy() < b.cy(); });
  std::vector<std::vector<size_t>> out;
  out.reserve(rows.size());
  for (auto& r : rows) {
    std::stable_sort(r.members.begin(), r.members.end(), [&](size_t a, size_t b) { return g[a].left < g[b].left; });
    out.push_back(std::move(r.members));
  }
  return out;
}

std::vector<DetBox> merge_row_pieces(const std::vector<DetBox>& boxes, float gap) {
  std::vector<Quad> quads;
  for (auto& b : boxes) quads.push_back(b.quad);
  auto level = [](const Quad& q) {
    float dx = q[1].x - q[0].x;
    return dx > 0 && std::abs(q[1].y - q[0].y) <= 0.05f * dx && std::abs(q[2].y - q[3].y) <= 0.05f * dx;
  };
  std::vector<DetBox> out;
  for (auto& row : reading_rows(quads)) {
    DetBox cur = boxes[row[0]];
    for (size_t k = 1; k < row.size(); ++k) {
      const DetBox& next = boxes[row[k]];
      Geo a = geo(cur.quad), b = geo(next.quad);
      float right = std::max(cur.quad[1].x, cur.quad[2].x);
      float h = std::min(a.height, b.height);
      bool similar = std::max(a.height, b.height) <= 1.5f * h;
      if (level(cur.quad) && level(next.quad) && similar && b.left - right < gap * h) {
        float x0 = std::min(a.left, b.left), x1 = right, y0 = cur.quad[0].y, y1 = cur.quad[2].y;
        for (auto& p : next.quad) x1 = std::max(x1, p.x);
        for (const Quad* q : {&std::as_const(cur.quad), &next.quad})
          for (auto& p : *q) y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
        cur.quad = {cv::Point2f(x0, y0), {x1, y0}, {x1, y1}, {x0, y1}};
        cur.score = std::max(cur.score, next.score);
      } else {
        out.push_back(cur);
        cur = next;
      }
    }
    out.push_back(cur);
  }
  return out;
}

std::string join_rows(const std::vector<std::vector<size_t>>& rows, const std::vector<std::string>& texts) {
  std::string out;
  for (auto& r : rows) {
    std::string line;
    for (size_t i : r) {
      if (texts[i].empty()) continue;
      if (!line.empty()) line += ' ';
      line += texts[i];
    }
    if (line.empty()) continue;
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace dr::analyzers::text
