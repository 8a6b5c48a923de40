// Nearest neighbours by cosine similarity over L2-normalised vectors, with FAISS behind it (an exact inner-product
// index: at the sizes of a photo library's faces, 10^5 vectors of 128 floats, a flat scan takes a few milliseconds
// and needs no training). Ids are the caller's.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace faiss {
struct IndexFlatIP;
}

namespace dr::search {

class VectorIndex {
 public:
  explicit VectorIndex(int dim);
  ~VectorIndex();
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;

  int dim() const { return dim_; }
  size_t size() const { return ids_.size(); }
  // `v` holds dim() floats, L2-normalised.
  void add(int64_t id, const float* v);

  struct Hit {
    int64_t id;
    float similarity;  // cosine, -1..1
  };
  // The k most similar, most similar first.
  std::vector<Hit> search(const float* q, int k) const;
  // Every vector at least this similar, most similar first.
  std::vector<Hit> within(const float* q, float min_similarity) const;

 private:
  int dim_;
  std::unique_ptr<faiss::IndexFlatIP> index_;
  std::vector<int64_t> ids_;  // row -> id
};

}  // namespace dr::search
