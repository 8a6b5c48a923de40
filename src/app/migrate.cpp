#include "app/migrate.h"

#include <cmath>
#include <map>

#include "app/session.h"
#include "catalog/library.h"
#include "jobs/queue.h"

namespace dr::app {
namespace {

using nlohmann::json;

json counts(catalog::Store& s) {
  json results = json::object();
  for (const auto& [task, states] : s.job_counts()) results[task] = s.task_stamp(task).count;
  json names = json::array();
  for (const auto& p : s.persons()) names.push_back(p.name);
  int64_t placed = 0, pinned = 0;
  for (const auto& f : s.all_faces()) {
    placed += f.person_id.has_value();
    pinned += f.pinned;
  }
  return {{"photos", s.photo_count()},
          {"jobs", s.job_counts()},
          {"results", results},
          {"faces", s.all_faces().size()},
          {"faces_in_persons", placed},
          {"faces_placed_by_the_user", pinned},
          {"persons", names},
          {"rejections", s.rejections().size()},
          {"not_duplicates", s.dismissed_pairs().size()},
          {"tokens", s.tokens().size()}};
}

std::array<int64_t, 4> key(const catalog::FaceRow& f) {
  return {std::llround(f.box[0]), std::llround(f.box[1]), std::llround(f.box[2]), std::llround(f.box[3])};
}

}  // namespace

json MigrateReport::to_json() const {
  return {{"from", from},        {"to", to},
          {"ok", ok()},          {"counts", counts_from},
          {"copied", counts_to}, {"mismatches", mismatches}};
}

MigrateReport migrate(const std::string& from, const std::string& to,
                      const std::function<void(size_t, size_t)>& progress) {
  catalog::Library src_lib;
  try {
    src_lib = catalog::Library::open(from);
  } catch (const catalog::LibraryError& e) {
    throw Error(Error::NotFound, e.what());
  }
  try {
    catalog::Library::create(to);
  } catch (const std::exception& e) {
    throw Error(Error::Conflict, std::string("cannot create the library ") + to + ": " + e.what());
  }
  auto dst_lib = catalog::Library::open(to);
  auto src = src_lib.open_store();
  auto dst = dst_lib.open_store();
  if (dst->photo_count() > 0 || !dst->photo_ids().empty())
    throw Error(Error::Conflict,
                "the library " + dst_lib.dir() + " already holds photos; migrate copies into a new, empty library");
  MigrateReport rep{src_lib.dir(), dst_lib.dir(), {}, {}, {}};
  dst_lib.write_settings(src_lib.settings());

  // Photos, paths, jobs, results; photo ids are the new catalog's own.
  std::map<int64_t, int64_t> photo_of;
  auto ids = src->photo_ids();
  size_t done = 0;
  for (auto id : ids) {
    auto p = src->photo(id);
    if (!p) continue;
    dst->batch([&] {
      int64_t nid = dst->add_photo(p->facts);
      photo_of[id] = nid;
      for (const auto& path : p->paths) {
        auto rec = src->find_path(path);
        dst->put_path(path, nid, rec ? rec->size : p->facts.size, rec ? rec->mtime_ns : 0, 0);
      }
      for (const auto& path : p->missing_paths) {
        auto rec = src->find_path(path);
        dst->put_path(path, nid, rec ? rec->size : p->facts.size, rec ? rec->mtime_ns : 0, 0);
      }
      dst->mark_missing(p->missing_paths);
      for (const auto& job : src->jobs_of(id)) dst->restore_job(nid, job);
      for (const auto& [task, r] : src->results(id)) dst->restore_result(nid, task, r);
    });
    if (progress) progress(++done, ids.size());
  }

  // People: every face's person (the user's placements pinned again), names, and "not this person".
  std::map<std::pair<int64_t, std::array<int64_t, 4>>, int64_t> face_of;  // (new photo, box) -> new face
  for (const auto& [old, nid] : photo_of)
    for (const auto& f : dst->faces_of(nid)) face_of[{nid, key(f)}] = f.id;
  auto new_face = [&](const catalog::FaceRow& f) -> int64_t {
    auto p = photo_of.find(f.photo_id);
    if (p == photo_of.end()) return 0;
    auto it = face_of.find({p->second, key(f)});
    return it == face_of.end() ? 0 : it->second;
  };
  std::vector<catalog::FaceAssignment> assignments;
  std::vector<std::pair<int64_t, int64_t>> pinned;
  std::map<int64_t, catalog::FaceRow> old_faces;
  for (const auto& f : src->all_faces()) {
    old_faces[f.id] = f;
    int64_t nf = new_face(f);
    if (!nf || !f.person_id) continue;
    assignments.push_back({nf, *f.person_id});
    if (f.pinned) pinned.emplace_back(nf, *f.person_id);
  }
  std::vector<int64_t> persons;
  for (const auto& p : src->persons()) persons.push_back(p.id);
  if (int64_t top = src->max_person_id(); top > 0) persons.push_back(top);  // ids are never given twice
  dst->write_assignments(assignments, persons);
  for (const auto& [face, person] : pinned) dst->move_face(face, person);
  for (const auto& p : src->persons())
    if (!p.name.empty()) dst->name_person(p.id, p.name);
  for (const auto& [face, person] : src->rejections()) {
    auto it = old_faces.find(face);
    if (it == old_faces.end()) continue;
    if (int64_t nf = new_face(it->second)) dst->reject_face(nf, person);
  }

  // What the user reviewed, and who may use the API.
  for (const auto& [a, b] : src->dismissed_pairs())
    if (photo_of.count(a) && photo_of.count(b)) dst->dismiss_duplicates({photo_of[a], photo_of[b]});
  for (const auto& t : src->tokens()) dst->add_token(t.name, t.sha256);

  rep.counts_from = counts(*src);
  rep.counts_to = counts(*dst);
  for (const auto& [k, v] : rep.counts_from.items())
    if (rep.counts_to[k] != v)
      rep.mismatches.push_back(k + ": " + v.dump() + " in " + rep.from + ", " + rep.counts_to[k].dump() + " in " +
                               rep.to);
  return rep;
}

}  // namespace dr::app
