#include "search/people.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "search/vector_index.h"

namespace dr::search {
namespace {

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); i++) s += a[i] * b[i];
  return s;
}

int dim_of(const std::vector<FaceItem>& faces) {
  if (faces.empty()) return 0;
  size_t d = faces.front().embedding.size();
  for (auto& f : faces)
    if (f.embedding.size() != d)
      throw std::invalid_argument("people: face " + std::to_string(f.id) + " has a " +
                                  std::to_string(f.embedding.size()) + "-d embedding, others " + std::to_string(d) +
                                  "-d; cluster the faces of one embedding model at a time");
  if (d == 0) throw std::invalid_argument("people: faces without embeddings cannot be clustered");
  return int(d);
}

// The working state of one run: faces by index, in id order.
class Run {
 public:
  Run(const ClusterInput& in, const PeopleOptions& o) : in_(in), o_(o), dim_(dim_of(in.faces)) {
    order_.resize(in.faces.size());
    for (size_t i = 0; i < order_.size(); i++) order_[i] = i;
    std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) { return in.faces[a].id < in.faces[b].id; });
    person_.assign(in.faces.size(), 0);
    next_ = in.next_person_id;
  }

  // The assignments the run starts from.
  void start_from_input() {
    for (size_t i : order_)
      if (in_.faces[i].person) place(i, in_.faces[i].person);
  }

  // Steps 1 and 3: each unassigned face joins the best person within reach. Candidate persons come from a FAISS
  // search over the faces assigned when the pass began, plus the faces placed during the pass (a short list).
  void join_all() {
    VectorIndex assigned = index_of([&](size_t i) { return person_[i] != 0; });
    placed_in_pass_.clear();
    for (size_t i : order_)
      if (!person_[i]) join(i, assigned);
  }

  // Step 2: good unassigned faces with enough good unassigned neighbours form new persons.
  void seed_all() {
    VectorIndex pool = index_of([&](size_t i) { return !person_[i] && in_.faces[i].can_seed; });
    if (!pool.size()) return;
    for (size_t i : order_) {
      if (person_[i] || !in_.faces[i].can_seed) continue;
      std::vector<size_t> group;
      for (auto& h : pool.search(in_.faces[i].embedding, size_t(o_.search_k)))
        if (h.score >= 1.0f - o_.max_distance && !person_[size_t(h.id)]) group.push_back(size_t(h.id));
      if (int(group.size()) < std::max(1, o_.min_faces)) continue;
      int64_t p = next_++;
      made_.push_back(p);
      for (size_t g : group) place(g, p);
    }
  }

  ClusterResult result() const {
    ClusterResult r;
    for (size_t i = 0; i < person_.size(); i++) r.person_of[in_.faces[i].id] = person_[i];
    r.new_persons = made_;
    r.next_person_id = next_;
    return r;
  }

 private:
  template <class Pred>
  VectorIndex index_of(Pred keep) const {
    std::vector<int64_t> ids;
    std::vector<float> vecs;
    for (size_t i : order_)
      if (keep(i)) {
        ids.push_back(int64_t(i));
        vecs.insert(vecs.end(), in_.faces[i].embedding.begin(), in_.faces[i].embedding.end());
      }
    return VectorIndex(std::max(1, dim_), ids, vecs);
  }

  void place(size_t i, int64_t p) {
    person_[i] = p;
    members_[p].push_back(i);
    placed_in_pass_.push_back(i);
  }

  void join(size_t i, const VectorIndex& assigned) {
    const FaceItem& f = in_.faces[i];
    std::vector<int64_t> candidates;
    auto consider = [&](size_t other, float similarity) {
      int64_t p = person_[other];
      if (1.0f - similarity <= o_.max_distance && !in_.rejected.count({f.id, p}) &&
          std::find(candidates.begin(), candidates.end(), p) == candidates.end())
        candidates.push_back(p);
    };
    for (auto& h : assigned.search(f.embedding, size_t(o_.search_k))) consider(size_t(h.id), h.score);
    for (size_t other : placed_in_pass_) consider(other, dot(f.embedding, in_.faces[other].embedding));
    int64_t best = 0;
    float best_mean = -2;
    for (int64_t p : candidates) {
      // The mean similarity to the person's nearest `check_faces` faces: one look-alike face is not enough.
      std::vector<float> sims;
      for (size_t m : members_.at(p)) sims.push_back(dot(f.embedding, in_.faces[m].embedding));
      size_t n = std::min(sims.size(), size_t(std::max(1, o_.check_faces)));
      std::partial_sort(sims.begin(), sims.begin() + n, sims.end(), std::greater<float>());
      float mean = 0;
      for (size_t k = 0; k < n; k++) mean += sims[k];
      mean /= float(n);
      if (1.0f - mean <= o_.max_distance && mean > best_mean) best = p, best_mean = mean;
    }
    if (best) place(i, best);
  }

  const ClusterInput& in_;
  const PeopleOptions& o_;
  int dim_ = 0;
  std::vector<size_t> order_;
  std::vector<int64_t> person_;
  std::map<int64_t, std::vector<size_t>> members_;
  std::vector<size_t> placed_in_pass_;
  std::vector<int64_t> made_;
  int64_t next_ = 1;
};

}  // namespace

ClusterResult PeopleClusterer::update(const ClusterInput& in) const {
  Run run(in, opts_);
  run.start_from_input();
  run.join_all();
  run.seed_all();
  run.join_all();
  return run.result();
}

ClusterResult PeopleClusterer::recluster(const ClusterInput& in) const {
  // Cluster every face the user did not place, from nothing.
  int64_t first_new = in.next_person_id;
  ClusterInput fresh{{}, in.rejected, 0};
  std::map<int64_t, int64_t> old_person;  // face -> its person before
  for (auto& f : in.faces) {
    first_new = std::max(first_new, f.person + 1);
    if (f.pinned) continue;
    old_person[f.id] = f.person;
    fresh.faces.push_back(f);
    fresh.faces.back().person = 0;
  }
  fresh.next_person_id = first_new;
  ClusterResult r = update(fresh);

  // Each new group takes over the old person it holds most faces of, largest overlaps first; persons the user
  // placed faces in keep those faces whatever the groups.
  std::map<std::pair<int64_t, int64_t>, int> overlap;  // (group, old person) -> faces
  for (auto& [face, group] : r.person_of)
    if (group && old_person[face]) overlap[{group, old_person[face]}]++;
  std::vector<std::tuple<int, int64_t, int64_t>> pairs;  // (-faces, group, old person)
  for (auto& [k, n] : overlap) pairs.push_back({-n, k.first, k.second});
  std::sort(pairs.begin(), pairs.end());
  std::map<int64_t, int64_t> rename;
  std::set<int64_t> taken;
  for (auto& [neg, group, old] : pairs) {
    if (rename.count(group) || taken.count(old)) continue;
    rename[group] = old;
    taken.insert(old);
  }
  for (auto& [face, person] : r.person_of) {
    auto it = rename.find(person);
    if (it == rename.end()) continue;
    // A group that became an old person loses the faces rejected from that person.
    person = in.rejected.count({face, it->second}) ? 0 : it->second;
  }
  std::erase_if(r.new_persons, [&](int64_t p) { return rename.count(p) > 0; });
  for (auto& f : in.faces)
    if (f.pinned) r.person_of[f.id] = f.person;
  return r;
}

}  // namespace dr::search
