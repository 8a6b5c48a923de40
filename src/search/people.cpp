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
  Run(const ClusterInput& in, const PeopleOptions& o) : in_(in), o_(o), assigned_(std::max(1, dim_of(in.faces))) {
    order_.resize(in.faces.size());
    for (size_t i = 0; i < order_.size(); i++) order_[i] = i;
    std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) { return in.faces[a].id < in.faces[b].id; });
    person_.assign(in.faces.size(), 0);
    next_ = in.next_person_id;
  }

  // The assignments the run starts from: all of them (update), or only those the user made (recluster).
  void start_from_input(bool keep_all) {
    for (size_t i : order_) {
      const FaceItem& f = in_.faces[i];
      if (f.person && (keep_all || f.pinned)) place(i, f.person);
    }
  }

  void place(size_t i, int64_t p) {
    person_[i] = p;
    members_[p].push_back(i);
    assigned_.add(int64_t(i), in_.faces[i].embedding.data());
  }

  // Step 1 and 3: each unassigned face joins the best person within reach.
  void join_all() {
    for (size_t i : order_)
      if (!person_[i]) join(i);
  }

  // Step 2: good unassigned faces with enough good unassigned neighbours form new persons.
  void seed_all() {
    VectorIndex pool(assigned_.dim());
    for (size_t i : order_)
      if (!person_[i] && in_.faces[i].can_seed) pool.add(int64_t(i), in_.faces[i].embedding.data());
    if (!pool.size()) return;
    for (size_t i : order_) {
      if (person_[i] || !in_.faces[i].can_seed) continue;
      std::vector<size_t> group;
      for (auto& h : pool.within(in_.faces[i].embedding.data(), 1.0f - o_.max_distance))
        if (!person_[size_t(h.id)]) group.push_back(size_t(h.id));
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

  std::vector<int64_t>& persons() { return person_; }
  std::vector<int64_t>& made() { return made_; }

 private:
  void join(size_t i) {
    const FaceItem& f = in_.faces[i];
    std::vector<int64_t> candidates;
    for (auto& h : assigned_.search(f.embedding.data(), o_.search_k)) {
      if (1.0f - h.similarity > o_.max_distance) break;  // hits come most similar first
      int64_t p = person_[size_t(h.id)];
      if (std::find(candidates.begin(), candidates.end(), p) == candidates.end() && !in_.rejected.count({f.id, p}))
        candidates.push_back(p);
    }
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
  std::vector<size_t> order_;
  std::vector<int64_t> person_;
  std::map<int64_t, std::vector<size_t>> members_;
  VectorIndex assigned_;
  std::vector<int64_t> made_;
  int64_t next_ = 1;
};

}  // namespace

ClusterResult PeopleClusterer::update(const ClusterInput& in) const {
  Run run(in, opts_);
  run.start_from_input(true);
  run.join_all();
  run.seed_all();
  run.join_all();
  return run.result();
}

ClusterResult PeopleClusterer::recluster(const ClusterInput& in) const {
  int64_t first_new = in.next_person_id;
  for (auto& f : in.faces) first_new = std::max(first_new, f.person + 1);
  ClusterInput fresh{in.faces, in.rejected, first_new};
  Run run(fresh, opts_);
  run.start_from_input(false);  // only what the user placed
  run.join_all();
  run.seed_all();
  run.join_all();

  // Each new group takes over the old person it holds most faces of, largest overlaps first, unless that person is
  // still there (it kept faces the user placed) or another group took it.
  auto& person = run.persons();
  std::set<int64_t> present;
  for (size_t i = 0; i < person.size(); i++)
    if (person[i] && person[i] < first_new) present.insert(person[i]);
  std::map<std::pair<int64_t, int64_t>, int> overlap;  // (group, old person) -> faces
  for (size_t i = 0; i < person.size(); i++)
    if (person[i] >= first_new && in.faces[i].person) overlap[{person[i], in.faces[i].person}]++;
  std::vector<std::tuple<int, int64_t, int64_t>> pairs;  // (-count, group, old)
  for (auto& [k, n] : overlap) pairs.push_back({-n, k.first, k.second});
  std::sort(pairs.begin(), pairs.end());
  std::map<int64_t, int64_t> rename;
  std::set<int64_t> taken = present;
  for (auto& [neg, group, old] : pairs) {
    if (rename.count(group) || taken.count(old)) continue;
    rename[group] = old;
    taken.insert(old);
  }
  for (size_t i = 0; i < person.size(); i++) {
    auto it = rename.find(person[i]);
    if (it == rename.end()) continue;
    // A group that became an old person loses the faces rejected from that person.
    person[i] = in.rejected.count({in.faces[i].id, it->second}) ? 0 : it->second;
  }
  auto& made = run.made();
  std::erase_if(made, [&](int64_t p) { return rename.count(p) > 0; });
  return run.result();
}

}  // namespace dr::search
