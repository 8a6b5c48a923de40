#include "app/people.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "app/photos.h"
#include "search/people.h"

namespace dr::app {
namespace {

catalog::PersonRow known_person(catalog::Store& store, int64_t id) {
  auto p = store.person(id);
  if (!p) throw Error(Error::NotFound, "there is no person " + std::to_string(id) + " in the library");
  return *p;
}

catalog::FaceRow known_face(catalog::Store& store, int64_t id) {
  auto f = store.face(id);
  if (!f) throw Error(Error::NotFound, "there is no face " + std::to_string(id) + " in the library");
  return *f;
}

std::string path_of(catalog::Store& store, int64_t photo_id) {
  if (!photo_id) return {};
  auto p = store.photo(photo_id);
  return p ? p->path() : std::string();
}

}  // namespace

bool cluster_faces(catalog::Store& store, bool full) {
  auto rows = store.all_faces();
  if (rows.empty()) return false;
  // One embedding model at a time: the faces of the most common embedding size (others wait for re-analysis).
  std::map<size_t, size_t> dims;
  for (const auto& r : rows) ++dims[r.embedding.size()];
  size_t dim = std::max_element(dims.begin(), dims.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  search::ClusterInput in;
  search::SeedQuality quality;
  bool unassigned = false;
  for (auto& r : rows) {
    if (r.embedding.size() != dim) continue;
    double n = 0;
    for (float v : r.embedding) n += double(v) * v;
    if (n <= 0) continue;
    search::FaceItem f;
    f.id = r.id;
    f.embedding = std::move(r.embedding);
    for (auto& v : f.embedding) v = float(v / std::sqrt(n));
    f.can_seed = r.size && r.blur && quality.ok(*r.size, *r.blur);
    f.person = r.person_id.value_or(0);
    f.pinned = r.pinned;
    unassigned = unassigned || f.person == 0;
    in.faces.push_back(std::move(f));
  }
  if (!full && !unassigned) return false;
  for (const auto& r : store.rejections()) in.rejected.insert(r);
  in.next_person_id = store.max_person_id() + 1;
  search::PeopleClusterer clusterer;
  auto result = full ? clusterer.recluster(in) : clusterer.update(in);
  std::vector<catalog::FaceAssignment> changes;
  for (const auto& f : in.faces) {
    if (f.pinned) continue;
    auto it = result.person_of.find(f.id);
    int64_t to = it == result.person_of.end() ? 0 : it->second;
    if (to != f.person || full) changes.push_back({f.id, to});
  }
  if (changes.empty() && result.new_persons.empty()) return false;
  store.write_assignments(changes, result.new_persons);
  return true;
}

nlohmann::json PeopleList::to_json() const {
  auto arr = nlohmann::json::array();
  for (const auto& p : people)
    arr.push_back({{"id", p.row.id},
                   {"name", p.row.name},
                   {"faces", p.row.faces},
                   {"photo", p.photo},
                   {"photo_id", p.row.photo_id},
                   {"face", p.face},
                   {"face_ids", p.face_ids}});
  auto loose = nlohmann::json::array();
  for (const auto& f : unassigned) loose.push_back({{"face", f.face}, {"photo", f.photo}, {"photo_id", f.photo_id}});
  return {{"people", arr}, {"unassigned", loose}};
}

PeopleList list_people(catalog::Store& store) {
  PeopleList out;
  std::map<int64_t, std::vector<const catalog::FaceRow*>> faces_of;
  auto faces = store.all_faces();
  for (const auto& f : faces) {
    if (f.person_id)
      faces_of[*f.person_id].push_back(&f);
    else
      out.unassigned.push_back({f.id, f.photo_id, path_of(store, f.photo_id)});
  }
  for (const auto& row : store.persons()) {
    PersonView v{row, path_of(store, row.photo_id), 0, {}};
    float biggest = -1;
    for (const auto* f : faces_of[row.id]) {
      v.face_ids.push_back(f->id);
      float area = f->box[2] * f->box[3];
      if (area > biggest) {
        biggest = area;
        v.face = f->id;
      }
    }
    out.people.push_back(std::move(v));
  }
  return out;
}

nlohmann::json PersonDetail::to_json() const {
  auto arr = nlohmann::json::array();
  for (const auto& f : faces)
    arr.push_back({{"face", f.face.id},
                   {"box", {f.face.box[0], f.face.box[1], f.face.box[2], f.face.box[3]}},
                   {"score", f.face.score},
                   {"pinned", f.face.pinned},
                   {"photo", summary_json(f.photo)}});
  return {{"id", row.id}, {"name", row.name}, {"faces", arr}};
}

PersonDetail person_detail(catalog::Store& store, int64_t id) {
  PersonDetail d{known_person(store, id), {}};
  for (auto& f : store.all_faces()) {
    if (f.person_id != id) continue;
    auto p = store.photo(f.photo_id);
    auto s = p ? summary_of(*p) : std::nullopt;
    if (!s) continue;
    f.embedding.clear();
    d.faces.push_back({std::move(f), *s});
  }
  return d;
}

nlohmann::json name_person(catalog::Store& store, int64_t id, const std::string& name) {
  auto p = known_person(store, id);
  if (name.find_first_not_of(" \t\r\n") == std::string::npos)
    throw Error(Error::BadInput, "the name is empty; give the person a name");
  if (name.size() > 200) throw Error(Error::BadInput, "the name is longer than 200 bytes");
  store.name_person(p.id, name);
  return {{"id", p.id}, {"name", name}};
}

nlohmann::json merge_people(catalog::Store& store, int64_t into, int64_t from) {
  auto a = known_person(store, into), b = known_person(store, from);
  if (a.id == b.id)
    throw Error(Error::BadInput, "cannot merge person " + std::to_string(into) + " with itself; give two persons");
  store.merge_persons(a.id, b.id);
  auto p = store.person(a.id);
  return {{"id", a.id}, {"merged", b.id}, {"faces", p ? p->faces : 0}};
}

nlohmann::json move_face(catalog::Store& store, int64_t face, int64_t to) {
  auto f = known_face(store, face);
  auto p = known_person(store, to);
  store.move_face(f.id, p.id);
  return {{"face", f.id}, {"person", p.id}};
}

nlohmann::json reject_face(catalog::Store& store, int64_t face, int64_t from) {
  auto f = known_face(store, face);
  auto p = known_person(store, from);
  store.reject_face(f.id, p.id);
  return {{"face", f.id}, {"rejected_from", p.id}};
}

}  // namespace dr::app
