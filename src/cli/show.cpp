// darkroom show PHOTO: everything the library knows about one photo, results under `analyze`'s keys.
#include "cli/library.h"

namespace dr::cli {
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

nlohmann::json photo_json(catalog::Store& store, int64_t id, bool embeddings) {
  auto p = store.photo(id);
  if (!p) throw UserError("photo " + std::to_string(id) + " is not in the library");
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
  std::string camera = f.camera_make;
  if (!f.camera_model.empty())
    camera = f.camera_model.rfind(f.camera_make, 0) == 0 ? f.camera_model
                                                         : (camera.empty() ? "" : camera + " ") + f.camera_model;
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
  return j;
}

}  // namespace

void register_show(CLI::App& app, Globals& g) {
  struct Args {
    std::string photo;
    bool embeddings = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("show", "everything the library knows about one photo (a path or an id)");
  cmd->add_option("photo", a->photo, "a path or a photo id")->required();
  cmd->add_flag("--embeddings", a->embeddings, "include embedding vectors");
  cmd->callback([&g, a] {
    auto lib = open_library(g);
    auto store = open_catalog(lib, false);
    auto j = photo_json(*store, resolve_photo(*store, a->photo), a->embeddings);
    if (g.json) {
      print_json_line(j);
      return;
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  });
}

}  // namespace dr::cli
