// darkroom status: photos, jobs by state and by task, and the failures with their reasons.
#include "app/library_ops.h"
#include "cli/library.h"

namespace dr::cli {

void register_status(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("status", "what the library holds: photos, jobs by state and task, failures");
  cmd->callback([&g] {
    auto s = open_session(g, false);
    auto r = app::status(*s);
    if (g.json) {
      print_json_line(r.to_json());
      return;
    }
    std::printf("library %s: %lld photos\n", r.library.c_str(), (long long)r.counts.photos);
    auto line = [](const std::map<std::string, int64_t>& m) {
      std::string t;
      for (auto k : {"queued", "running", "done", "failed", "dead"}) {
        auto it = m.find(k);
        t += "  " + std::string(k) + " " + std::to_string(it == m.end() ? 0 : it->second);
      }
      return t;
    };
    std::printf("jobs:%s\n", line(r.counts.jobs).c_str());
    for (const auto& [task, m] : r.counts.by_task) std::printf("  %-8s%s\n", task.c_str(), line(m).c_str());
    if (!r.failures.empty()) {
      std::printf("failures:\n");
      for (const auto& f : r.failures)
        std::printf("  %s [%s, %s after %d attempt%s]: %s\n", f.path.c_str(), f.task.c_str(),
                    catalog::to_string(f.state), f.attempts, f.attempts == 1 ? "" : "s", f.error.c_str());
      std::printf("`darkroom retry` queues them again\n");
    }
  });
}

}  // namespace dr::cli
