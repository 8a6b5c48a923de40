#include "app/photos.h"

#include <algorithm>

namespace dr::app {
namespace {

// Embedding vectors are long; they are shown only with --embeddings.
void strip_embeddings(nlohmann::json& j) {
  if (j.is_object()) {
    j.erase("embedding");
    for (auto& [k, v] : j.items()) strip_embeddings(v);
  } else if (j.is_array()) {
    for (auto& v : j) strip_embeddings(v);
  }
}

}  // namespace

std::string camera_name(const std::string& make, const std::string& model) {
  if (model.empty()) return make;
  if (model.rfind(make, 0) == 0) return model;
  return (make.empty() ? "" : make + " ") + model;
}

nlohmann::json photo_json(catalog::Store& store, int64_t id, bool embeddings) {
  auto p = store.photo(id);
  if (!p) throw Error(Error::NotFound, "photo " + std::to_string(id) + " is not in the library");
  const auto& f = p->facts;
  nlohmann::json j = {{"id", p->id},
                      {"path", p->path()},
                      {"paths", p->paths},
                      {"missing_paths", p->missing_paths},
                      {"missing", p->missing()},
                      {"content_hash", f.content_hash},
                      {"size", f.size},
                      {"format", f.format},
                      {"width", f.width},
                      {"height", f.height},
                      {"orientation", f.orientation},
                      {"taken_at", f.taken_at ? nlohmann::json(*f.taken_at) : nlohmann::json()},
                      {"file_date", f.file_date}};
  std::string camera = camera_name(f.camera_make, f.camera_model);
  j["camera"] = camera.empty() ? nlohmann::json() : nlohmann::json(camera);
  if (f.gps_lat && f.gps_lon) {
    j["gps"] = {{"lat", *f.gps_lat}, {"lon", *f.gps_lon}};
    if (f.gps_alt) j["gps"]["alt"] = *f.gps_alt;
  } else {
    j["gps"] = nullptr;
  }
  auto results = store.results(id);
  nlohmann::json tasks = nlohmann::json::object();
  for (const auto& job : store.jobs_of(id)) {
    nlohmann::json t = {{"status", catalog::to_string(job.state)},
                        {"attempts", job.attempts},
                        {"error", job.error.empty() ? nlohmann::json() : nlohmann::json(job.error)}};
    auto r = results.find(job.task);
    t["model"] = nullptr;
    if (r != results.end() && r->second.models.is_array() && !r->second.models.empty())
      t["model"] = r->second.models.size() == 1 ? r->second.models[0] : r->second.models;
    tasks[job.task] = t;
  }
  j["tasks"] = tasks;
  for (auto& [task, r] : results) {
    auto v = r.value;
    if (!embeddings) strip_embeddings(v);
    j[task] = v;
  }
  // The faces' ids and persons (the faces task's result lists boxes; the catalog knows who they are).
  auto faces = store.faces_of(id);
  if (!faces.empty()) {
    nlohmann::json people = nlohmann::json::array();
    for (const auto& fr : faces)
      people.push_back({{"face", fr.id},
                        {"box", {fr.box[0], fr.box[1], fr.box[2], fr.box[3]}},
                        {"person", fr.person_id ? nlohmann::json(*fr.person_id) : nlohmann::json()}});
    j["people"] = people;
  }
  return j;
}

nlohmann::json summary_json(const catalog::PhotoSummary& p) {
  return {{"id", p.id},         {"path", p.path},    {"content_hash", p.content_hash},
          {"date", p.date},     {"taken", p.taken},  {"width", p.width},
          {"height", p.height}, {"format", p.format}};
}

std::optional<catalog::PhotoSummary> summary_of(const catalog::Photo& p) {
  if (p.missing()) return std::nullopt;
  catalog::PhotoSummary s;
  s.id = p.id;
  s.content_hash = p.facts.content_hash;
  s.path = p.path();
  s.taken = p.facts.taken_at.has_value();
  s.date = p.facts.taken_at.value_or(p.facts.file_date);
  s.format = p.facts.format;
  s.width = p.facts.width;
  s.height = p.facts.height;
  return s;
}

nlohmann::json PhotoPage::to_json() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& p : photos) arr.push_back(summary_json(p));
  return {{"photos", arr}, {"next", next.empty() ? nlohmann::json() : nlohmann::json(next)}};
}

// A cursor is "<date>~<id>" with the date's characters kept to those dates use; no encoding is needed for a URL.
std::string encode_cursor(const std::string& date, int64_t id) { return date + "~" + std::to_string(id); }

std::pair<std::string, int64_t> decode_cursor(const std::string& cursor) {
  auto bad = [&] {
    return Error(Error::BadInput, "the cursor \"" + cursor.substr(0, 64) +
                                      "\" is not one this server gave; start again without a cursor");
  };
  auto tilde = cursor.rfind('~');
  if (tilde == std::string::npos || cursor.size() > 64) throw bad();
  std::string date = cursor.substr(0, tilde), id = cursor.substr(tilde + 1);
  if (date.find_first_not_of("0123456789-T:") != std::string::npos) throw bad();
  if (id.empty() || id.size() > 17 || id.find_first_not_of("0123456789") != std::string::npos) throw bad();
  return {date, std::stoll(id)};
}

PhotoPage list_photos(catalog::Store& store, catalog::PhotoQuery q) {
  q.limit = std::clamp<size_t>(q.limit, 1, 1000);
  PhotoPage page;
  // One more than asked tells whether there is a next page.
  size_t want = q.limit;
  q.limit = want + 1;
  page.photos = store.list_photos(q);
  if (page.photos.size() > want) {
    page.photos.resize(want);
    page.next = encode_cursor(page.photos.back().date, page.photos.back().id);
  }
  return page;
}

}  // namespace dr::app
