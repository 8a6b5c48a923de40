// `search` and `similar`: the ranked hits of search/ turned into photos (missing ones dropped), with why each
// matched. The label and CLIP signals, the CLIP text encoder and the embedding index are made once per Session and
// kept: a server answers many queries.
#pragma once
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/session.h"
#include "search/library_search.h"
#include "search/object_search.h"

namespace dr::app {

struct Hit {
  catalog::PhotoSummary photo;
  double score = 0;
  std::vector<std::string> matched;  // "text: ...", "label: cat 0.91", "person: Ada", "clip: 0.31", ...
  nlohmann::json to_json() const;    // {"path","id","score","matched"} plus the summary's keys
};

struct SearchResults {
  std::string query;
  std::vector<Hit> results;
  nlohmann::json to_json() const;  // {"query", "results"}
};

struct SimilarResults {
  int64_t id = 0;
  std::string photo;  // its path
  std::vector<Hit> results;
  nlohmann::json to_json() const;  // {"photo", "id", "results"}
};

class Search {
 public:
  explicit Search(Session& s);
  // Error::BadInput for an empty query.
  SearchResults search(const std::string& query, size_t limit);
  // Error::NotFound for an unknown photo; Error::Conflict when it has no CLIP embedding.
  SimilarResults similar(int64_t photo_id, size_t limit);

 private:
  std::shared_ptr<const search::EmbeddingIndex> index(const std::string& model);
  std::vector<Hit> photos_of(const std::vector<search::SearchHit>& hits);

  Session& s_;
  std::unique_ptr<search::Signal> labels_, clip_;
  std::mutex mu_;
  std::string index_model_;
  catalog::TaskStamp index_stamp_;
  std::shared_ptr<const search::EmbeddingIndex> index_;
};

}  // namespace dr::app
