// `search` over a library: every signal (words in photos, object labels, file names and people's names through
// the full-text documents; dates) proposes photos with a score in (0, 1] and the lines that matched; the scores
// are summed per photo. Signals that need more than the catalog (object labels ranked from the stored detections,
// CLIP with its model) are owned by the caller (app::Search keeps them for a process) and passed in.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "catalog/store.h"

namespace dr::search {

struct SearchHit {
  int64_t photo_id = 0;
  double score = 0;                  // per signal: (0, 1], best hit 1; summed over signals
  std::vector<std::string> matched;  // "text: Crème brûlée", "label: cat", "file: IMG_1.jpg", "date: 2019-07-04"
};

class Signal {
 public:
  virtual ~Signal() = default;
  virtual std::string name() const = 0;
  virtual std::vector<SearchHit> find(catalog::Store& store, const std::string& query, size_t limit) = 0;
};

// Runs the built-in signals (words, dates, people's names) and `extra`, and merges their hits, best first. Throws
// std::invalid_argument for an empty query.
std::vector<SearchHit> search_library(catalog::Store& store, const std::string& query, size_t limit = 50,
                                      const std::vector<Signal*>& extra = {});

// The user's words as a safe FTS5 query: each word quoted (so punctuation cannot break the syntax), "double
// quoted phrases" kept as phrases, a trailing * kept as a prefix query. join is " " (all words) or " OR ".
std::string to_fts_query(const std::string& query, const std::string& join = " ");
// The words of a query that are dates: "2019", "2019-07", "2019-07-04".
std::vector<std::string> date_terms(const std::string& query);

}  // namespace dr::search
