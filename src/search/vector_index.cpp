#include "search/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/impl/AuxIndexStructures.h>

#include <algorithm>
#include <stdexcept>

namespace dr::search {

VectorIndex::VectorIndex(int dim) : dim_(dim), index_(std::make_unique<faiss::IndexFlatIP>(dim)) {
  if (dim <= 0) throw std::invalid_argument("VectorIndex: the dimension must be positive");
}
VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

void VectorIndex::add(int64_t id, const float* v) {
  index_->add(1, v);
  ids_.push_back(id);
}

std::vector<VectorIndex::Hit> VectorIndex::search(const float* q, int k) const {
  k = std::min<int>(k, int(ids_.size()));
  if (k <= 0) return {};
  std::vector<float> d(k);
  std::vector<faiss::Index::idx_t> rows(k);
  index_->search(1, q, k, d.data(), rows.data());
  std::vector<Hit> hits;
  for (int i = 0; i < k; i++)
    if (rows[i] >= 0) hits.push_back({ids_[rows[i]], d[i]});
  return hits;
}

std::vector<VectorIndex::Hit> VectorIndex::within(const float* q, float min_similarity) const {
  if (ids_.empty()) return {};
  faiss::RangeSearchResult r(1);
  // FAISS keeps inner products strictly above the radius; nudge it so that "at least" holds.
  index_->range_search(1, q, min_similarity - 1e-6f, &r);
  std::vector<Hit> hits;
  for (size_t j = r.lims[0]; j < r.lims[1]; j++) hits.push_back({ids_[r.labels[j]], r.distances[j]});
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.id < b.id;
  });
  return hits;
}

}  // namespace dr::search
