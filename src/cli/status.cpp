// darkroom status: photos, jobs by state and by task, and the failures with their reasons.
#include "cli/library.h"

namespace dr::cli {

void register_status(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("status", "what the library holds: photos, jobs by state and task, failures");
  cmd->callback([&g] {
    auto lib = open_library(g);
    auto store = open_catalog(lib, false);
    auto c = store->counts();
    auto failures = store->failures(1000);
    if (g.json) {
      nlohmann::json f = nlohmann::json::array();
      for (const auto& r : failures)
        f.push_back({{"path", r.path},
                     {"task", r.task},
                     {"error", r.error},
                     {"attempts", r.attempts},
                     {"state", catalog::to_string(r.state)}});
      print_json_line(
          {{"library", lib.dir()}, {"photos", c.photos}, {"jobs", c.jobs}, {"by_task", c.by_task}, {"failures", f}});
      return;
    }
    std::printf("library %s: %lld photos\n", lib.dir().c_str(), (long long)c.photos);
    auto line = [](const std::map<std::string, int64_t>& m) {
      std::string s;
      for (auto k : {"queued", "running", "done", "failed", "dead"}) {
        auto it = m.find(k);
        s += "  " + std::string(k) + " " + std::to_string(it == m.end() ? 0 : it->second);
      }
      return s;
    };
    std::printf("jobs:%s\n", line(c.jobs).c_str());
    for (const auto& [task, m] : c.by_task) std::printf("  %-8s%s\n", task.c_str(), line(m).c_str());
    if (!failures.empty()) {
      std::printf("failures:\n");
      for (const auto& r : failures)
        std::printf("  %s [%s, %s after %d attempt%s]: %s\n", r.path.c_str(), r.task.c_str(),
                    catalog::to_string(r.state), r.attempts, r.attempts == 1 ? "" : "s", r.error.c_str());
      std::printf("`darkroom retry` queues them again\n");
    }
  });
}

}  // namespace dr::cli
