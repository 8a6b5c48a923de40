#include "analyzers/text/layout.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dr::analyzers::text {
namespace {

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

struct Row {
  std::vector<size_t> members;
  float cy_sum = 0, height = 0;
  float cy() const { return cy_sum / members.size(); }
};

}  // namespace

std::vector<std::vector<size_t>> reading_rows(const std::vector<Quad>& boxes) {
  std::vector<Geo> g(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) g[i] = geo(boxes[i]);
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
