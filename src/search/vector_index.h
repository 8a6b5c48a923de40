// Nearest-neighbour search over unit-length embeddings by cosine similarity (inner product), with FAISS: an exact
// flat index for small collections and HNSW above a size where scanning everything gets slow. One interface, the
// backend chosen by size (or forced, for benchmarks and tests).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace faiss {
struct Index;
}

namespace dr::search {

struct VectorHit {
  int64_t id = 0;
  float score = 0;  // cosine similarity for unit-length vectors
};

struct VectorIndexOptions {
  enum Kind { Auto, Exact, Hnsw } kind = Auto;
  size_t hnsw_from = 50'000;  // Auto: HNSW from this many vectors on
  int hnsw_m = 16;            // graph degree
  int ef_construction = 40;
  // Candidates kept while searching the graph: recall against exact rises with it, and so does the cost of a query.
  // On clustered 512-d vectors (BENCHMARKS.md, "Vector search"): recall@10 0.957 at 64 and 0.992 at 128 over
  // 100,000 vectors (0.55 and 1.07 ms a query); over 1,000,000, 0.68 at 64, 0.75 at 128, 0.86 at 512.
  int ef_search = 128;
};

class VectorIndex {
 public:
  // Vectors of `dim` floats each; `ids` are the caller's (photo ids). Throws std::invalid_argument when sizes
  // disagree. The vectors should be unit length (scores are then cosines).
  VectorIndex(int dim, const std::vector<int64_t>& ids, const std::vector<float>& vectors,
              VectorIndexOptions opts = {});
  ~VectorIndex();
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;

  // The k most similar, best first (fewer when the index holds fewer).
  std::vector<VectorHit> search(const std::vector<float>& query, size_t k) const;
  size_t size() const { return size_; }
  int dim() const { return dim_; }
  bool exact() const { return exact_; }
  std::string describe() const;  // "exact (flat inner product), 1000 vectors" / "HNSW M=16 ...
  // HNSW only (ignored by an exact index): the efSearch of later searches. Not to be called while another thread
  // searches. Throws std::invalid_argument when ef < 1.
  void set_ef_search(int ef);
  int ef_search() const { return ef_search_; }

  // Writes the index (FAISS's own format) to `path`; throws std::runtime_error when it cannot.
  void save(const std::string& path) const;
  // Reads an index saved by save(), for the same vectors in the same order (`ids`, as given to the constructor).
  // Throws std::runtime_error when the file is unreadable or holds another number of vectors or dimension.
  static VectorIndex load(const std::string& path, int dim, const std::vector<int64_t>& ids,
                          VectorIndexOptions opts = {});

 private:
  VectorIndex() = default;
  int dim_ = 0;
  size_t size_ = 0;
  bool exact_ = true;
  int ef_search_ = 128;
  std::unique_ptr<faiss::Index> index_;
  std::vector<int64_t> ids_;  // position -> caller's id
};

}  // namespace dr::search
