#include "app/search.h"

#include "app/photos.h"

namespace dr::app {

nlohmann::json Hit::to_json() const {
  auto j = summary_json(photo);
  j["score"] = score;
  j["matched"] = matched;
  return j;
}

nlohmann::json SearchResults::to_json() const {
  nlohmann::json r = nlohmann::json::array();
  for (const auto& h : results) r.push_back(h.to_json());
  return {{"query", query}, {"results", r}};
}

nlohmann::json SimilarResults::to_json() const {
  nlohmann::json r = nlohmann::json::array();
  for (const auto& h : results) r.push_back(h.to_json());
  return {{"photo", photo}, {"id", id}, {"results", r}};
}

Search::Search(Session& s) : s_(s) {
  labels_ = search::make_label_signal();
  clip_ = search::make_clip_signal({[this]() -> const runtime::ModelStore& { return s_.models(); },
                                    [this]() -> runtime::Runtime& { return s_.runtime(); },
                                    [this](catalog::Store&, const std::string& model) { return index(model); }});
}

std::shared_ptr<const search::EmbeddingIndex> Search::index(const std::string& model) {
  std::lock_guard lock(mu_);
  // Rebuilt only when the catalog's CLIP results changed since it was built (count and newest write).
  auto stamp = s_.store().task_stamp("clip");
  if (index_model_ != model || !(stamp == index_stamp_)) {
    index_ = search::load_embeddings(s_.store(), model);
    index_model_ = model;
    index_stamp_ = stamp;
  }
  return index_;
}

std::vector<Hit> Search::photos_of(const std::vector<search::SearchHit>& hits) {
  std::vector<Hit> out;
  for (const auto& h : hits) {
    auto p = s_.store().photo(h.photo_id);
    if (!p) continue;
    auto summary = summary_of(*p);
    if (!summary) continue;  // every path is missing
    out.push_back({*summary, h.score, h.matched});
  }
  return out;
}

SearchResults Search::search(const std::string& query, size_t limit) {
  std::vector<search::SearchHit> hits;
  try {
    hits = search::search_library(s_.store(), query, limit, {labels_.get(), clip_.get()});
  } catch (const std::invalid_argument& e) {
    throw Error(Error::BadInput, e.what());
  }
  return {query, photos_of(hits)};
}

SimilarResults Search::similar(int64_t photo_id, size_t limit) {
  auto self = s_.store().photo(photo_id);
  if (!self) throw Error(Error::NotFound, "photo " + std::to_string(photo_id) + " is not in the library");
  auto model = search::clip_model_of(s_.store(), photo_id);
  std::shared_ptr<const search::EmbeddingIndex> idx = model ? index(*model) : nullptr;
  std::vector<search::SearchHit> hits;
  try {
    hits = search::similar_photos(idx.get(), photo_id, limit);
  } catch (const std::runtime_error& e) {
    throw Error(Error::Conflict, e.what());
  }
  return {photo_id, self->path(), photos_of(hits)};
}

}  // namespace dr::app
