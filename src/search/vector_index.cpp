#include "search/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/index_io.h>

#include <stdexcept>

namespace dr::search {

VectorIndex::VectorIndex(int dim, const std::vector<int64_t>& ids, const std::vector<float>& vectors,
                         VectorIndexOptions opts)
    : dim_(dim), size_(ids.size()), ef_search_(opts.ef_search), ids_(ids) {
  if (dim <= 0) throw std::invalid_argument("vector index: dimension must be positive");
  if (vectors.size() != ids.size() * size_t(dim))
    throw std::invalid_argument("vector index: " + std::to_string(vectors.size()) + " floats for " +
                                std::to_string(ids.size()) + " vectors of " + std::to_string(dim));
  exact_ = opts.kind == VectorIndexOptions::Exact || (opts.kind == VectorIndexOptions::Auto && size_ < opts.hnsw_from);
  if (exact_) {
    index_ = std::make_unique<faiss::IndexFlatIP>(dim);
  } else {
    auto h = std::make_unique<faiss::IndexHNSWFlat>(dim, opts.hnsw_m, faiss::METRIC_INNER_PRODUCT);
    h->hnsw.efConstruction = opts.ef_construction;
    h->hnsw.efSearch = opts.ef_search;
    index_ = std::move(h);
  }
  if (size_) index_->add(faiss::Index::idx_t(size_), vectors.data());
}

VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

std::vector<VectorHit> VectorIndex::search(const std::vector<float>& query, size_t k) const {
  if (query.size() != size_t(dim_))
    throw std::invalid_argument("vector index: a query of " + std::to_string(query.size()) +
                                " floats for an index of " + std::to_string(dim_));
  k = std::min(k, size_);
  if (k == 0) return {};
  std::vector<float> dist(k);
  std::vector<faiss::Index::idx_t> labels(k);
  index_->search(1, query.data(), faiss::Index::idx_t(k), dist.data(), labels.data());
  std::vector<VectorHit> out;
  for (size_t i = 0; i < k; ++i)
    if (labels[i] >= 0) out.push_back({ids_[size_t(labels[i])], dist[i]});
  return out;
}

void VectorIndex::set_ef_search(int ef) {
  if (ef < 1) throw std::invalid_argument("vector index: efSearch must be at least 1");
  ef_search_ = ef;
  if (auto* h = dynamic_cast<faiss::IndexHNSW*>(index_.get())) h->hnsw.efSearch = ef;
}

void VectorIndex::save(const std::string& path) const {
  try {
    faiss::write_index(index_.get(), path.c_str());
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot write the vector index " + path + ": " + e.what());
  }
}

VectorIndex VectorIndex::load(const std::string& path, int dim, const std::vector<int64_t>& ids,
                              VectorIndexOptions opts) {
  VectorIndex v;
  try {
    v.index_.reset(faiss::read_index(path.c_str()));
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read the vector index " + path + ": " + e.what());
  }
  // Only the two kinds this class writes, searched by inner product: another would score by another measure.
  const bool ours = dynamic_cast<faiss::IndexFlatIP*>(v.index_.get()) != nullptr ||
                    dynamic_cast<faiss::IndexHNSWFlat*>(v.index_.get()) != nullptr;
  if (!ours || v.index_->metric_type != faiss::METRIC_INNER_PRODUCT)
    throw std::runtime_error("the vector index " + path +
                             " is not an inner-product flat or HNSW index as VectorIndex writes them");
  if (v.index_->d != dim || size_t(v.index_->ntotal) != ids.size())
    throw std::runtime_error("the vector index " + path + " holds " + std::to_string(v.index_->ntotal) +
                             " vectors of " + std::to_string(v.index_->d) + " dimensions, not " +
                             std::to_string(ids.size()) + " of " + std::to_string(dim));
  v.dim_ = dim;
  v.size_ = ids.size();
  v.ids_ = ids;
  v.exact_ = dynamic_cast<faiss::IndexHNSW*>(v.index_.get()) == nullptr;
  v.ef_search_ = opts.ef_search;
  if (!v.exact_) v.set_ef_search(opts.ef_search);
  return v;
}

std::string VectorIndex::describe() const {
  return (exact_ ? std::string("exact (flat inner product)") : "HNSW (efSearch " + std::to_string(ef_search_) + ")") +
         ", " + std::to_string(size_) + " vectors of " + std::to_string(dim_);
}

}  // namespace dr::search
