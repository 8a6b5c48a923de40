#include "app/library_ops.h"

#include <filesystem>

#include "analyzers/task.h"

namespace dr::app {
namespace fs = std::filesystem;

nlohmann::json StatusReport::to_json() const {
  nlohmann::json f = nlohmann::json::array();
  for (const auto& r : failures)
    f.push_back({{"path", r.path},
                 {"photo_id", r.photo_id},
                 {"task", r.task},
                 {"error", r.error},
                 {"attempts", r.attempts},
                 {"state", catalog::to_string(r.state)}});
  return {{"library", library},
          {"photos", counts.photos},
          {"jobs", counts.jobs},
          {"by_task", counts.by_task},
          {"failures", f}};
}

StatusReport status(Session& s, size_t failure_limit) {
  return {s.library().dir(), s.queue().counts(), s.store().failures(failure_limit)};
}

std::vector<std::string> tasks_for(Session& s, const std::string& flag) {
  try {
    if (!flag.empty()) return analyzers::parse_task_list(flag);
    const auto t = s.library().settings().value("tasks", nlohmann::json::array());
    if (t.is_array() && !t.empty()) {
      std::string csv;
      for (const auto& x : t)
        if (x.is_string()) csv += (csv.empty() ? "" : ",") + x.get<std::string>();
      return analyzers::parse_task_list(csv);
    }
    return analyzers::available_tasks(s.models(), true);
  } catch (const std::invalid_argument& e) {
    throw Error(Error::BadInput, e.what());
  }
}

std::vector<std::string> library_roots(Session& s, const std::vector<std::string>& extra) {
  std::vector<std::string> dirs = extra;
  const auto r = s.library().settings().value("roots", nlohmann::json::array());  // not in the defaults
  if (r.is_array())
    for (const auto& x : r)
      if (x.is_string()) dirs.push_back(x.get<std::string>());
  std::vector<std::string> out;
  for (const auto& d : dirs) {
    std::error_code ec;
    auto c = fs::canonical(d, ec);
    if (ec || !fs::is_directory(c, ec)) continue;
    out.push_back(c.string());
  }
  return out;
}

nlohmann::json AddReport::to_json() const {
  return {{"found", scan.found},         {"added", scan.added},     {"known", scan.known},   {"changed", scan.changed},
          {"unchanged", scan.unchanged}, {"missing", scan.missing}, {"queued", scan.queued}, {"tasks", tasks},
          {"problems", scan.problems}};
}

AddReport add(Session& s, const AddOptions& o) {
  if (o.paths.empty()) throw Error(Error::BadInput, "give a file or a folder to add");
  catalog::ScanOptions opts;
  opts.tasks = tasks_for(s, o.tasks);
  opts.progress = o.progress;
  opts.confine_to = o.confine_to;
  opts.enqueue = [&s](int64_t photo, const std::vector<std::string>& tasks) { return s.queue().enqueue(photo, tasks); };
  AddReport r;
  r.scan = catalog::scan(s.store(), o.paths, opts);
  r.tasks = opts.tasks;
  return r;
}

int retry(Session& s, bool failed, bool dead, const std::vector<int64_t>& photo_ids) {
  std::vector<catalog::JobState> states;
  if (failed || !dead) states.push_back(catalog::JobState::Failed);
  if (dead || !failed) states.push_back(catalog::JobState::Dead);
  for (auto id : photo_ids)
    if (!s.store().photo(id)) throw Error(Error::NotFound, "photo " + std::to_string(id) + " is not in the library");
  return s.queue().retry(states, photo_ids);
}

}  // namespace dr::app
