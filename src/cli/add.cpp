// darkroom add: finds photos under the given paths, catalogues them, queues their analysis jobs.
#include <unistd.h>

#include "analyzers/task.h"
#include "catalog/scan.h"
#include "cli/library.h"

namespace dr::cli {
namespace {

struct AddArgs {
  std::string tasks;
  std::vector<std::string> paths;
};

std::vector<std::string> tasks_for(const Globals& g, const catalog::Library& lib, const std::string& flag) {
  try {
    if (!flag.empty()) return analyzers::parse_task_list(flag);
    const auto& s = lib.settings()["tasks"];
    if (s.is_array() && !s.empty()) {
      std::string csv;
      for (const auto& t : s) csv += (csv.empty() ? "" : ",") + t.get<std::string>();
      return analyzers::parse_task_list(csv);
    }
    return analyzers::available_tasks(model_store(g));
  } catch (const std::invalid_argument& e) {
    throw UserError(e.what());
  }
}

void run_add(Globals& g, const AddArgs& a) {
  auto lib = open_library(g);
  auto store = open_catalog(lib, true);
  catalog::ScanOptions opts;
  opts.tasks = tasks_for(g, lib, a.tasks);
  bool tty = !g.quiet && !g.json && ::isatty(STDERR_FILENO);
  if (tty)
    opts.progress = [](size_t n) {
      if (n % 50 == 0) std::fprintf(stderr, "\r\033[Kadd: %zu files looked at", n);
    };
  auto r = catalog::scan(*store, a.paths, opts);
  if (tty) std::fprintf(stderr, "\r\033[K");
  for (const auto& p : r.problems) std::fprintf(stderr, "darkroom: %s\n", p.c_str());
  if (g.json) {
    print_json_line({{"found", r.found},
                     {"added", r.added},
                     {"known", r.known},
                     {"changed", r.changed},
                     {"unchanged", r.unchanged},
                     {"missing", r.missing},
                     {"queued", r.queued},
                     {"tasks", opts.tasks},
                     {"problems", r.problems}});
  } else {
    std::string tasks;
    for (const auto& t : opts.tasks) tasks += (tasks.empty() ? "" : ",") + t;
    std::printf(
        "found %zu photos: %zu added, %zu already known at another path (moved, renamed or copied; not analysed "
        "again), %zu changed, %zu unchanged; %zu missing; %zu jobs queued (%s)\n",
        r.found, r.added, r.known, r.changed, r.unchanged, r.missing, r.queued,
        tasks.empty() ? "no tasks" : tasks.c_str());
    if (r.queued) std::printf("run `darkroom work --until-idle` to analyse them\n");
  }
}

}  // namespace

void register_add(CLI::App& app, Globals& g) {
  auto a = std::make_shared<AddArgs>();
  auto* cmd =
      app.add_subcommand("add", "add photos (files or folders, recursively) to the library and queue their analysis");
  cmd->add_option(
      "--tasks", a->tasks,
      "comma-separated tasks (default: the library's settings, else every task whose models are installed)");
  cmd->add_option("paths", a->paths, "files and folders")->required();
  cmd->callback([&g, a] { run_add(g, *a); });
}

}  // namespace dr::cli
