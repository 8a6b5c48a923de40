// The object-label and CLIP signals of library search, and `similar`'s nearest photos.
//   labels: the query's words that name a COCO object (plurals and synonyms too, see labels.h) find the photos
//           where the objects task saw it, ranked by how sure and how big the detection is: per label asked for,
//           score x (0.5 + 0.5 x sqrt(share of the photo its largest box covers)); a photo with more of the labels
//           asked for comes first.
//   clip:   the query's CLIP text embedding against every photo's CLIP image embedding (cosine, FAISS's exact
//           scan); score = the cosine when positive. Quiet (no hits) when no CLIP model is installed or no photo
//           has an embedding yet.
// Why exact at every size: at 100,000 embeddings an exact scan costs 45 ms, building an HNSW graph 29.5 s, and
// even reading a saved graph back 134 ms (BENCHMARKS.md, "Vector search"). A process that answers many queries
// (`serve`) keeps the index in memory between them (app::Search) instead of reading the embeddings again.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "catalog/store.h"
#include "runtime/model_store.h"
#include "runtime/runtime.h"
#include "search/library_search.h"
#include "search/vector_index.h"

namespace dr::search {

std::unique_ptr<Signal> make_label_signal();
// How well a stored label matches: score x (0.5 + 0.5 x sqrt(area share)); a label stored without them counts 0.5.
double label_relevance(const catalog::LabelHit& h);

// Every stored embedding of one model, indexed.
struct EmbeddingIndex {
  std::string model;
  std::unique_ptr<VectorIndex> index;
  std::vector<int64_t> photo_ids;
  std::vector<float> vectors;  // row i belongs to photo_ids[i]
  std::optional<std::vector<float>> vector_of(int64_t photo_id) const;
};
// Null when the model has no embeddings in the catalog.
std::unique_ptr<EmbeddingIndex> load_embeddings(catalog::Store& store, const std::string& model,
                                                VectorIndexOptions opts = {.kind = VectorIndexOptions::Exact});

// Where the CLIP signal gets what it needs, each asked for only when a query needs it: the model cache, the
// runtime, and the index of one model's embeddings (null when there are none; the caller may keep it between
// queries).
struct ClipSources {
  std::function<const runtime::ModelStore&()> models;
  std::function<runtime::Runtime&()> runtime;
  std::function<std::shared_ptr<const EmbeddingIndex>(catalog::Store&, const std::string& model)> index;
};
// The text encoder is loaded on the first query and kept for the signal's life.
std::unique_ptr<Signal> make_clip_signal(ClipSources sources);

// The CLIP model a photo's embedding was made with (from its stored clip result), if it has one.
std::optional<std::string> clip_model_of(catalog::Store& store, int64_t photo_id);

// The photos whose embeddings in `idx` are nearest to photo_id's, best first, without photo_id itself. Throws
// std::runtime_error when the photo has no embedding there (idx may be null: none at all).
std::vector<SearchHit> similar_photos(const EmbeddingIndex* idx, int64_t photo_id, size_t limit);

}  // namespace dr::search
