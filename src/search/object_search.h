// The object-label and CLIP signals of library search, and `similar`'s nearest photos.
//   labels: the query's words that name a COCO object (plurals and synonyms too, see labels.h) find the photos
//           where the objects task saw it; score 1 per label asked for and found.
//   clip:   the query's CLIP text embedding against every photo's CLIP image embedding (cosine, FAISS's exact
//           scan); score = the cosine when positive. Quiet (no hits) when no CLIP model is installed or no photo
//           has an embedding yet.
// Why exact at every size: each darkroom command is a process that answers one query. At 100,000 embeddings an
// exact scan costs 45 ms, building an HNSW graph 29.5 s, and even reading a saved graph back 134 ms
// (BENCHMARKS.md, "Vector search"), all on top of reading the embeddings from the catalog. HNSW pays only where
// one process answers many queries; VectorIndex offers it (and save/load) for that.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "catalog/store.h"
#include "runtime/runtime.h"
#include "search/library_search.h"
#include "search/vector_index.h"

namespace dr::search {

std::unique_ptr<Signal> make_label_signal();

// models_dir and the runtime options are those of the command that searches.
std::unique_ptr<Signal> make_clip_signal(const std::string& models_dir, const runtime::Options& rt_options);

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

// The CLIP model a photo's embedding was made with (from its stored clip result), if it has one.
std::optional<std::string> clip_model_of(catalog::Store& store, int64_t photo_id);

// The photos whose CLIP embeddings are nearest to photo_id's, best first, without photo_id itself. Throws
// std::runtime_error when the photo has no CLIP embedding.
std::vector<SearchHit> similar_photos(catalog::Store& store, int64_t photo_id, size_t limit);

}  // namespace dr::search
