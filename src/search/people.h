// People: face embeddings grouped into persons. The clustering core works on plain data (face ids, embeddings,
// quality, current assignments, the user's decisions) and returns assignments; the catalog stores them.
//
// Incremental (`update`), for faces added since the last run:
//   1. join: an unassigned face joins the person whose faces are nearest, when the mean cosine distance to that
//      person's `check_faces` nearest faces (or all of them, if it has fewer) is within `max_distance`; never a
//      person the face was rejected from ("not this person");
//   2. seed: unassigned faces of good quality that have at least `min_faces - 1` other such faces within
//      `max_distance` form a new person with them; low-quality faces never seed a person;
//   3. join again, so that faces of any quality can join the persons just made.
// Full (`recluster`): every assignment the user did not make is dropped and made again by the same three steps;
// each resulting group takes over the old person whose faces it holds most of, so ids and names survive, and a
// rejection keeps its face out of that person however the groups come out.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace dr::search {

struct PeopleOptions {
  // Cosine distance (1 - cosine similarity) within which a face belongs with a person. 0.5 for MobileFaceNet,
  // measured on the sample photos (see BENCHMARKS.md, "Faces"): same person >= 0.64 similarity for sharp faces,
  // different people <= 0.47.
  float max_distance = 0.5f;
  int check_faces = 3;  // how many of a person's nearest faces a joining face is compared with
  int min_faces = 2;    // good-quality faces needed to form a new person
  int search_k = 64;    // nearest faces looked at for candidate persons, and for a seed's neighbours
};

// Whether a face may seed a person: big and sharp enough for its embedding to be trusted. Measured: below these the
// embeddings of different people come as close as 0.74 cosine similarity (18-pixel faces).
struct SeedQuality {
  float min_size = 24;  // the shorter side of the box, displayed pixels
  float min_blur = 15;  // variance of the Laplacian of the aligned face
  bool ok(float size, float blur) const { return size >= min_size && blur >= min_blur; }
};

struct FaceItem {
  int64_t id = 0;
  std::vector<float> embedding;  // L2-normalised
  bool can_seed = false;         // SeedQuality::ok
  int64_t person = 0;            // current person, 0 = none
  bool pinned = false;           // placed there by the user (move, merge): never changed by clustering
};

struct ClusterInput {
  std::vector<FaceItem> faces;
  std::set<std::pair<int64_t, int64_t>> rejected;  // (face, person): "not this person"
  int64_t next_person_id = 1;                      // ids for new persons start here
};

struct ClusterResult {
  std::map<int64_t, int64_t> person_of;  // every face -> person (0 = none)
  std::vector<int64_t> new_persons;      // persons made by this run, in id order
  int64_t next_person_id = 1;
};

class PeopleClusterer {
 public:
  explicit PeopleClusterer(PeopleOptions opts = {}) : opts_(opts) {}
  ClusterResult update(const ClusterInput& in) const;
  ClusterResult recluster(const ClusterInput& in) const;
  const PeopleOptions& options() const { return opts_; }

 private:
  PeopleOptions opts_;
};

}  // namespace dr::search
