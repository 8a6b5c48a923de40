#include "search/object_search.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>

#include "analyzers/clip/clip_task.h"
#include "search/labels.h"

namespace dr::search {
namespace {

std::string two_decimals(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

class LabelSignal : public Signal {
 public:
  std::string name() const override { return "labels"; }
  std::vector<SearchHit> find(catalog::Store& store, const std::string& query, size_t limit) override {
    std::map<int64_t, SearchHit> by_photo;
    for (const auto& m : labels_in_query(query)) {
      for (const auto& h : store.photos_with_label(m.label)) {
        auto& hit = by_photo[h.photo_id];
        hit.photo_id = h.photo_id;
        hit.score += label_relevance(h);
        std::string why = "label: " + m.label + (m.words == m.label ? "" : " (" + m.words + ")");
        if (h.score) why += " " + two_decimals(*h.score);
        hit.matched.push_back(why);
      }
    }
    std::vector<SearchHit> out;
    for (auto& [id, h] : by_photo) out.push_back(std::move(h));
    // Photos with more of the asked-for labels, then surer and bigger detections, first; scores are (0, 1].
    std::stable_sort(out.begin(), out.end(), [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
    double best = out.empty() || !(out.front().score > 0) ? 1 : out.front().score;
    for (auto& h : out) h.score /= best;
    if (out.size() > limit) out.resize(limit);
    return out;
  }
};

class ClipSignal : public Signal {
 public:
  explicit ClipSignal(ClipSources src) : src_(std::move(src)) {}
  std::string name() const override { return "clip"; }
  std::vector<SearchHit> find(catalog::Store& store, const std::string& query, size_t limit) override {
    const auto& models = src_.models();
    const runtime::ModelEntry* installed = nullptr;
    for (const auto* e : models.manifest().for_task("clip"))
      if (e->role == "encoder" && models.installed(*e)) {
        installed = e;
        break;
      }
    if (!installed) return {};  // no CLIP model: the other signals answer alone
    auto idx = src_.index(store, installed->id);
    if (!idx) return {};
    std::shared_ptr<analyzers::clip::Model> model;
    {
      std::lock_guard lock(mu_);
      if (!model_ || model_id_ != installed->id) {
        model_ = analyzers::clip::load_model(src_.runtime(), models, installed->id);
        model_id_ = installed->id;
      }
      model = model_;
    }
    auto text = model->encode_text(query);
    if (text.embedding.size() != size_t(idx->index->dim()))
      throw std::runtime_error("the stored CLIP embeddings have " + std::to_string(idx->index->dim()) +
                               " dimensions but " + installed->id + " gives " + std::to_string(text.embedding.size()) +
                               "; run `darkroom work` to embed again");
    std::vector<SearchHit> out;
    for (const auto& h : idx->index->search(text.embedding, limit)) {
      if (!(h.score > 0)) continue;
      std::string m = "clip: " + two_decimals(h.score);
      if (text.truncated) m += " (query cut to CLIP's 77 tokens)";
      out.push_back({h.id, std::min(1.0, double(h.score)), {m}});
    }
    return out;
  }

 private:
  ClipSources src_;
  std::mutex mu_;
  std::shared_ptr<analyzers::clip::Model> model_;
  std::string model_id_;
};

}  // namespace

std::unique_ptr<Signal> make_label_signal() { return std::make_unique<LabelSignal>(); }

double label_relevance(const catalog::LabelHit& h) {
  if (!h.score) return 0.5;
  double share = h.area && h.photo_area > 0 ? std::clamp(*h.area / h.photo_area, 0.0, 1.0) : 0.0;
  return std::clamp(*h.score, 0.0, 1.0) * (0.5 + 0.5 * std::sqrt(share));
}

std::unique_ptr<Signal> make_clip_signal(ClipSources sources) {
  return std::make_unique<ClipSignal>(std::move(sources));
}

std::optional<std::vector<float>> EmbeddingIndex::vector_of(int64_t photo_id) const {
  auto it = std::find(photo_ids.begin(), photo_ids.end(), photo_id);
  if (it == photo_ids.end()) return std::nullopt;
  size_t i = size_t(it - photo_ids.begin()), d = size_t(index->dim());
  return std::vector<float>(vectors.begin() + std::ptrdiff_t(i * d), vectors.begin() + std::ptrdiff_t((i + 1) * d));
}

std::unique_ptr<EmbeddingIndex> load_embeddings(catalog::Store& store, const std::string& model,
                                                VectorIndexOptions opts) {
  auto rows = store.embeddings(model);
  if (rows.empty()) return nullptr;
  auto out = std::make_unique<EmbeddingIndex>();
  out->model = model;
  const size_t d = rows.front().vector.size();
  for (auto& r : rows) {
    if (r.vector.size() != d || d == 0) continue;  // a row of another size cannot be compared
    out->photo_ids.push_back(r.photo_id);
    out->vectors.insert(out->vectors.end(), r.vector.begin(), r.vector.end());
  }
  if (out->photo_ids.empty()) return nullptr;
  out->index = std::make_unique<VectorIndex>(int(d), out->photo_ids, out->vectors, opts);
  return out;
}

std::optional<std::string> clip_model_of(catalog::Store& store, int64_t photo_id) {
  auto results = store.results(photo_id);
  auto it = results.find("clip");
  if (it == results.end()) return std::nullopt;
  const auto& models = it->second.models;
  if (models.is_array() && !models.empty() && models[0].is_object() && models[0].contains("id") &&
      models[0]["id"].is_string())
    return models[0]["id"].get<std::string>();
  return std::nullopt;
}

std::vector<SearchHit> similar_photos(const EmbeddingIndex* idx, int64_t photo_id, size_t limit) {
  auto v = idx ? idx->vector_of(photo_id) : std::nullopt;
  if (!v)
    throw std::runtime_error("photo " + std::to_string(photo_id) +
                             " has no CLIP embedding yet: install a CLIP model (see README, \"CLIP models\") and run "
                             "`darkroom work`");
  std::vector<SearchHit> out;
  for (const auto& h : idx->index->search(*v, limit + 1)) {
    if (h.id == photo_id) continue;
    out.push_back({h.id, double(h.score), {"clip: " + two_decimals(h.score)}});
    if (out.size() >= limit) break;
  }
  return out;
}

}  // namespace dr::search
