// People: faces grouped into persons, and the user's decisions about them (name, merge, move, reject), which
// clustering never undoes. Clustering is an explicit step: `update_people` places the faces not yet in a person
// (incremental), `recluster` groups every face again keeping ids, names and decisions. `work` and `serve` run the
// incremental step after faces are found; reading the list changes nothing.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/session.h"

namespace dr::app {

// Places faces in persons: the new ones only (incremental), or every one the user did not place (full). Returns
// whether anything changed.
bool cluster_faces(catalog::Store& store, bool full);

struct PersonView {
  catalog::PersonRow row;
  std::string photo;  // the path of its representative face's photo
  int64_t face = 0;   // its representative face (the biggest): what the page shows
  std::vector<int64_t> face_ids;
};

struct LooseFace {
  int64_t face = 0, photo_id = 0;
  std::string photo;  // path
};

struct PeopleList {
  std::vector<PersonView> people;
  std::vector<LooseFace> unassigned;  // faces in no person
  // {"people": [{"id","name","faces","photo","face_ids","face"}], "unassigned": [{"face","photo","photo_id"}]}
  nlohmann::json to_json() const;
};

PeopleList list_people(catalog::Store& store);

struct PersonFace {
  catalog::FaceRow face;  // without its embedding
  catalog::PhotoSummary photo;
};

struct PersonDetail {
  catalog::PersonRow row;
  std::vector<PersonFace> faces;
  // {"id","name","faces": [{"face","box","score","pinned","photo": summary}]}
  nlohmann::json to_json() const;
};

// Error::NotFound for an unknown person.
PersonDetail person_detail(catalog::Store& store, int64_t id);

// The user's decisions. Each checks its ids (Error::NotFound) and arguments (Error::BadInput) and returns the JSON
// the CLI prints with --json.
nlohmann::json name_person(catalog::Store& store, int64_t id, const std::string& name);
nlohmann::json merge_people(catalog::Store& store, int64_t into, int64_t from);
nlohmann::json move_face(catalog::Store& store, int64_t face, int64_t to);
nlohmann::json reject_face(catalog::Store& store, int64_t face, int64_t from);

}  // namespace dr::app
