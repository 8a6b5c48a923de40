#include "catalog/rules.h"

#include <array>
#include <cctype>
#include <cmath>
#include <map>

namespace dr::catalog {
namespace {

// A face box rounded to whole pixels: the key that finds "the same face" after the photo is analysed again.
std::array<int64_t, 4> box_key(const float* box) {
  return {int64_t(std::llround(box[0])), int64_t(std::llround(box[1])), int64_t(std::llround(box[2])),
          int64_t(std::llround(box[3]))};
}

std::vector<std::string> words_of(const std::string& t) {
  std::vector<std::string> w;
  std::string cur;
  for (char c : t) {
    if (std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80) || c == '*') {
      cur += char(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      w.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) w.push_back(cur);
  return w;
}

}  // namespace

void carry_people(const std::vector<FaceRow>& old_faces, std::vector<FaceRow>& fresh) {
  std::map<std::array<int64_t, 4>, std::pair<int64_t, bool>> kept;
  for (const auto& f : old_faces)
    if (f.person_id) kept[box_key(f.box)] = {*f.person_id, f.pinned};
  for (auto& f : fresh) {
    if (f.person_id) continue;
    if (auto it = kept.find(box_key(f.box)); it != kept.end()) {
      f.person_id = it->second.first;
      f.pinned = it->second.second;
    }
  }
}

bool has_name_words(const std::string& query) { return !words_of(query).empty(); }

bool name_matches(const std::string& query, const std::string& name) {
  auto wanted = words_of(query), have = words_of(name);
  if (wanted.empty()) return false;
  for (const auto& w : wanted) {
    bool prefix = w.back() == '*';
    std::string stem = prefix ? w.substr(0, w.size() - 1) : w;
    bool found = false;
    for (const auto& h : have)
      if (prefix ? h.rfind(stem, 0) == 0 : h == stem) found = true;
    if (!found) return false;
  }
  return true;
}

}  // namespace dr::catalog
