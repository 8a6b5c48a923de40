// Reading the PDQ reference data in ../shared/testdata/pdq (hashes the reference hasher printed).
#pragma once
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pdq/pdq.h"

namespace dr::testing {

// DARKROOM_SHARED_DIR in the environment overrides the compiled-in ../shared (e.g. for a worktree elsewhere).
inline std::string pdq_data_dir() {
  const char* env = std::getenv("DARKROOM_SHARED_DIR");
  return std::string(env && *env ? env : DARKROOM_SHARED_DIR) + "/testdata/pdq/";
}

struct RefRow {
  std::vector<pdq::Hash256> hashes;  // 1 (reference-hashes.csv) or 8 (reference-pdqdih-across.csv)
  int quality = 0;
  std::string path;  // relative to pdq_data_dir()
};

// Rows "h1,...,hk,quality,path".
inline std::vector<RefRow> read_reference(const std::string& file) {
  std::vector<RefRow> rows;
  std::ifstream in(pdq_data_dir() + file);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string item;
    while (std::getline(ss, item, ',')) f.push_back(item);
    if (f.size() < 3) continue;
    RefRow r;
    r.path = f.back();
    r.quality = std::stoi(f[f.size() - 2]);
    for (size_t i = 0; i + 2 < f.size(); i++) r.hashes.push_back(*pdq::Hash256::from_hex(f[i]));
    rows.push_back(r);
  }
  return rows;
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace dr::testing
