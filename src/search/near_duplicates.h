// Near-duplicate photos from their PDQ hashes: every pair within a Hamming radius (31 by default, the reference's
// match rule), checking the 8 dihedral variants so rotated and mirrored copies are found, grouped as connected
// components. The index is multi-index hashing (HashIndex below); brute force is kept as the reference it is tested
// against.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <utility>
#include <vector>

#include "pdq/pdq.h"

namespace dr::search {

struct HashEntry {
  int64_t id;
  pdq::Hash256 hash;
  int quality;
};

struct DupeOptions {
  int max_distance = 31;  // a pair matches when some variant is within this many bits (0..256)
  int min_quality = 50;   // hashes of lower quality are not matched (the reference: <= 49 is not to be trusted)
  bool dihedral = true;   // also match rotated and mirrored copies
};

struct DupePair {
  int64_t a, b;  // a < b
  int distance;  // the smallest over the variants checked
  friend bool operator==(const DupePair&, const DupePair&) = default;
};

struct DupeGroup {
  std::vector<int64_t> ids;          // ascending
  int max_distance;                  // the largest distance of the matching pairs inside the group
  std::vector<DupePair> pairs = {};  // the matching pairs inside the group
};

struct DupeResult {
  std::vector<DupeGroup> groups;  // connected components of two or more photos, ordered by their first id
  size_t skipped_low_quality = 0;
};

DupeResult find_duplicate_groups(const std::vector<HashEntry>& entries, const DupeOptions& opts = {});
// The connected components of matching pairs (two or more photos each), ordered by their first id.
std::vector<DupeGroup> group_pairs(const std::vector<DupePair>& pairs);

// Every matching pair once (a < b), sorted by (a, b), through the index; `skipped_low_quality` if not null gets
// the number of entries left out for their quality. Uses up to `threads` threads (0: all cores).
std::vector<DupePair> find_duplicate_pairs(const std::vector<HashEntry>& entries, const DupeOptions& opts = {},
                                           size_t* skipped_low_quality = nullptr, int threads = 0);
// The same by comparing every pair (quadratic): the reference for tests and benchmarks.
std::vector<DupePair> brute_force_pairs(const std::vector<HashEntry>& entries, const DupeOptions& opts = {});

// The hashes a query is compared under: the hash itself, then (with dihedral) its 7 other dihedral variants
// computed from the bits (pdq::transform_hash).
std::vector<pdq::Hash256> query_variants(const pdq::Hash256& h, bool dihedral);

// Multi-index hashing over 256-bit hashes (Norouzi et al.): the hash is cut into 16 substrings of 16 bits, each
// the key of its own table. Two hashes within distance r have some substring within floor(r / 16) bits of each
// other (pigeonhole), so probing every key that close to the query's substrings finds all of them: exact for any
// radius. Radius <= 31 probes 17 keys per table; <= 47, 137; above that the index scans everything.
class HashIndex {
 public:
  HashIndex() = default;
  explicit HashIndex(const std::vector<pdq::Hash256>& hashes);

  size_t size() const { return n_; }
  size_t memory_bytes() const;

  // Appends (position, distance) for every stored hash within `radius` of q, each once, in no particular order.
  void range_search(const pdq::Hash256& q, int radius, std::vector<std::pair<uint32_t, int>>& out) const;
  // The same by scanning every stored hash.
  void range_search_brute(const pdq::Hash256& q, int radius, std::vector<std::pair<uint32_t, int>>& out) const;

 private:
  static constexpr int kTables = 16;
  using Code = std::array<uint64_t, 4>;
  static uint16_t key(const Code& c, int t) { return uint16_t(c[size_t(t >> 2)] >> (16 * (t & 3))); }

  // Big arrays on transparent huge pages where the kernel allows it: queries touch them at random, and 4 KiB pages
  // would make most of those touches TLB misses too.
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  template <class T>
  using Array = std::unique_ptr<T[], Free>;
  template <class T>
  static Array<T> allocate(size_t n);

  size_t n_ = 0;
  Array<Code> codes_;
  // Table t: positions of the hashes whose substring t is k lie in ids_[t * n_ + start_[t][k] .. + start_[t][k+1]).
  Array<uint32_t> start_;  // kTables * 65537
  Array<uint32_t> ids_;    // kTables * n_
};

}  // namespace dr::search
