#include "search/near_duplicates.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <map>
#include <numeric>
#include <thread>

namespace dr::search {

namespace {

int dist(const std::array<uint64_t, 4>& a, const std::array<uint64_t, 4>& b) {
  return std::popcount(a[0] ^ b[0]) + std::popcount(a[1] ^ b[1]) + std::popcount(a[2] ^ b[2]) +
         std::popcount(a[3] ^ b[3]);
}

struct Kept {
  std::vector<size_t> pos;  // positions in entries of the hashes good enough to match
  size_t skipped = 0;
};

Kept keep(const std::vector<HashEntry>& entries, const DupeOptions& opts) {
  Kept k;
  for (size_t i = 0; i < entries.size(); i++) {
    if (entries[i].quality >= opts.min_quality)
      k.pos.push_back(i);
    else
      k.skipped++;
  }
  return k;
}

DupePair make_pair(int64_t x, int64_t y, int d) { return x < y ? DupePair{x, y, d} : DupePair{y, x, d}; }

void sort_pairs(std::vector<DupePair>& pairs) {
  std::sort(pairs.begin(), pairs.end(), [](const DupePair& l, const DupePair& r) {
    return l.a != r.a ? l.a < r.a : l.b != r.b ? l.b < r.b : l.distance < r.distance;
  });
  // The same two ids can come from two entries each (duplicate ids): keep the closest.
  pairs.erase(std::unique(pairs.begin(), pairs.end(),
                          [](const DupePair& l, const DupePair& r) { return l.a == r.a && l.b == r.b; }),
              pairs.end());
}

struct UnionFind {
  std::vector<size_t> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), size_t{0}); }
  size_t find(size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(size_t a, size_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

}  // namespace

std::vector<pdq::Hash256> query_variants(const pdq::Hash256& h, bool dihedral) {
  std::vector<pdq::Hash256> v{h};
  if (dihedral)
    for (int k = 1; k < pdq::kNumDihedral; k++) v.push_back(pdq::transform_hash(h, pdq::Dihedral(k)));
  return v;
}

// ---- HashIndex ----

template <class T>
HashIndex::Array<T> HashIndex::allocate(size_t n) {
  constexpr size_t kHuge = size_t(2) << 20;
  size_t bytes = std::max<size_t>(1, n * sizeof(T));
  const bool huge = bytes >= kHuge;
  if (huge) bytes = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(huge                             ? kHuge
                               : alignof(std::max_align_t) > 64 ? alignof(std::max_align_t)
                                                                : 64,
                               huge ? bytes : (bytes + 63) / 64 * 64);
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);
#endif
  return Array<T>(static_cast<T*>(p));
}

HashIndex::HashIndex(const std::vector<pdq::Hash256>& hashes) : n_(hashes.size()) {
  codes_ = allocate<Code>(n_);
  for (size_t i = 0; i < n_; i++) codes_[i] = hashes[i].to_u64();
  start_ = allocate<uint32_t>(size_t(kTables) * 65537);
  ids_ = allocate<uint32_t>(size_t(kTables) * n_);
  std::vector<uint32_t> fill(65536);
  for (int t = 0; t < kTables; t++) {
    uint32_t* start = &start_[size_t(t) * 65537];
    std::fill(start, start + 65537, 0u);
    for (size_t i = 0; i < n_; i++) start[size_t(key(codes_[i], t)) + 1]++;
    for (size_t k = 1; k < 65537; k++) start[k] += start[k - 1];
    std::copy(start, start + 65536, fill.begin());
    uint32_t* ids = &ids_[size_t(t) * n_];
    for (uint32_t p = 0; p < n_; p++) ids[fill[key(codes_[p], t)]++] = p;
  }
}

size_t HashIndex::memory_bytes() const {
  return n_ * sizeof(Code) + size_t(kTables) * 65537 * sizeof(uint32_t) + size_t(kTables) * n_ * sizeof(uint32_t);
}

void HashIndex::range_search(const pdq::Hash256& q, int radius, std::vector<std::pair<uint32_t, int>>& out) const {
  if (radius < 0) return;
  const int flips = radius / kTables;  // substring distance that must be probed
  if (flips > 2 || n_ == 0) {
    range_search_brute(q, radius, out);
    return;
  }
  const Code qc = q.to_u64();
  uint16_t qkeys[kTables];
  for (int t = 0; t < kTables; t++) qkeys[t] = key(qc, t);

  // First the candidates (position, table) from every probed bucket: the bucket lists are short sequential reads.
  // Then each candidate's code, which lives anywhere in a large array: prefetched a few candidates ahead so the
  // memory latencies overlap instead of adding up.
  thread_local std::vector<std::pair<uint32_t, int>> cand;
  cand.clear();
  for (int t = 0; t < kTables; t++) {
    const uint32_t* start = &start_[size_t(t) * 65537];
    const uint32_t* ids = &ids_[size_t(t) * n_];
    auto take = [&](uint16_t k) {
      for (uint32_t i = start[k], e = start[size_t(k) + 1]; i < e; i++) cand.emplace_back(ids[i], t);
    };
    const uint16_t k0 = qkeys[t];
    take(k0);
    if (flips >= 1)
      for (int b = 0; b < 16; b++) take(uint16_t(k0 ^ (1u << b)));
    if (flips >= 2)
      for (int b = 0; b < 16; b++)
        for (int b2 = b + 1; b2 < 16; b2++) take(uint16_t(k0 ^ (1u << b) ^ (1u << b2)));
  }
  constexpr size_t kAhead = 16;
  const size_t nc = cand.size();
  for (size_t i = 0; i < std::min(kAhead, nc); i++) __builtin_prefetch(&codes_[cand[i].first]);
  for (size_t i = 0; i < nc; i++) {
    if (i + kAhead < nc) __builtin_prefetch(&codes_[cand[i + kAhead].first]);
    const auto [p, t] = cand[i];
    const Code& c = codes_[p];
    // Found through an earlier table already? Then it is not reported again.
    bool earlier = false;
    for (int u = 0; u < t && !earlier; u++) earlier = std::popcount(unsigned(key(c, u) ^ qkeys[u])) <= flips;
    if (earlier) continue;
    const int d = dist(c, qc);
    if (d <= radius) out.emplace_back(p, d);
  }
}

void HashIndex::range_search_brute(const pdq::Hash256& q, int radius,
                                   std::vector<std::pair<uint32_t, int>>& out) const {
  const Code qc = q.to_u64();
  for (uint32_t p = 0; p < n_; p++) {
    const int d = dist(codes_[p], qc);
    if (d <= radius) out.emplace_back(p, d);
  }
}

// ---- pairs and groups ----

std::vector<DupePair> brute_force_pairs(const std::vector<HashEntry>& entries, const DupeOptions& opts) {
  const Kept kept = keep(entries, opts);
  std::vector<DupePair> pairs;
  for (size_t x = 0; x < kept.pos.size(); x++) {
    const HashEntry& ex = entries[kept.pos[x]];
    const auto variants = query_variants(ex.hash, opts.dihedral);
    for (size_t y = x + 1; y < kept.pos.size(); y++) {
      const HashEntry& ey = entries[kept.pos[y]];
      if (ex.id == ey.id) continue;
      int best = 257;
      for (const auto& v : variants) best = std::min(best, v.distance(ey.hash));
      if (best <= opts.max_distance) pairs.push_back(make_pair(ex.id, ey.id, best));
    }
  }
  sort_pairs(pairs);
  return pairs;
}

std::vector<DupePair> find_duplicate_pairs(const std::vector<HashEntry>& entries, const DupeOptions& opts,
                                           size_t* skipped_low_quality, int threads) {
  const Kept kept = keep(entries, opts);
  if (skipped_low_quality) *skipped_low_quality = kept.skipped;
  std::vector<pdq::Hash256> hashes;
  hashes.reserve(kept.pos.size());
  for (size_t p : kept.pos) hashes.push_back(entries[p].hash);
  const HashIndex index(hashes);

  // The dihedral group is closed under inverses and transform_hash preserves distances, so a pair found from one
  // side is found from the other: each query only reports partners after it.
  const size_t n = kept.pos.size();
  int nthreads = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  nthreads = int(std::min<size_t>(size_t(nthreads), std::max<size_t>(1, n / 256)));
  std::vector<std::vector<DupePair>> found(static_cast<size_t>(nthreads));
  std::atomic<size_t> next{0};
  auto work = [&](int w) {
    std::vector<std::pair<uint32_t, int>> hits;
    for (;;) {
      const size_t begin = next.fetch_add(64);
      if (begin >= n) break;
      for (size_t x = begin; x < std::min(n, begin + 64); x++) {
        hits.clear();
        for (const auto& v : query_variants(hashes[x], opts.dihedral)) index.range_search(v, opts.max_distance, hits);
        std::sort(hits.begin(), hits.end());  // by partner, then distance: the first of each partner is its closest
        const int64_t idx = entries[kept.pos[x]].id;
        for (size_t i = 0; i < hits.size(); i++) {
          const auto [y, d] = hits[i];
          if (y <= x || (i > 0 && hits[i - 1].first == y)) continue;
          const int64_t idy = entries[kept.pos[y]].id;
          if (idx != idy) found[size_t(w)].push_back(make_pair(idx, idy, d));
        }
      }
    }
  };
  if (nthreads == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (int w = 0; w < nthreads; w++) pool.emplace_back(work, w);
    for (auto& t : pool) t.join();
  }
  std::vector<DupePair> pairs;
  for (auto& f : found) pairs.insert(pairs.end(), f.begin(), f.end());
  sort_pairs(pairs);
  return pairs;
}

DupeResult find_duplicate_groups(const std::vector<HashEntry>& entries, const DupeOptions& opts) {
  DupeResult r;
  r.groups = group_pairs(find_duplicate_pairs(entries, opts, &r.skipped_low_quality));
  return r;
}

std::vector<DupeGroup> group_pairs(const std::vector<DupePair>& pairs) {
  std::vector<DupeGroup> groups;
  // Union-find over the distinct ids that appear in pairs.
  std::vector<int64_t> ids;
  for (const auto& p : pairs) {
    ids.push_back(p.a);
    ids.push_back(p.b);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  auto slot = [&](int64_t id) { return size_t(std::lower_bound(ids.begin(), ids.end(), id) - ids.begin()); };
  UnionFind uf(ids.size());
  for (const auto& p : pairs) uf.unite(slot(p.a), slot(p.b));
  std::map<size_t, size_t> group_of_root;  // root slot -> index in groups; roots are the smallest slot
  for (size_t s = 0; s < ids.size(); s++) {
    auto [it, fresh] = group_of_root.emplace(uf.find(s), groups.size());
    if (fresh) groups.push_back(DupeGroup{{}, 0});
    groups[it->second].ids.push_back(ids[s]);
  }
  for (const auto& p : pairs) {
    DupeGroup& g = groups[group_of_root[uf.find(slot(p.a))]];
    g.max_distance = std::max(g.max_distance, p.distance);
    g.pairs.push_back(p);
  }
  return groups;
}

}  // namespace dr::search
