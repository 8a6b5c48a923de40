// darkroom add: finds photos under the given paths, catalogues them, queues their analysis jobs.
#include <unistd.h>

#include "app/library_ops.h"
#include "cli/library.h"

namespace dr::cli {

void register_add(CLI::App& app, Globals& g) {
  struct Args {
    std::string tasks;
    std::vector<std::string> paths;
  };
  auto a = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("add", "add photos (files or folders, recursively) to the library and queue their analysis");
  cmd->add_option(
      "--tasks", a->tasks,
      "comma-separated tasks (default: the library's settings, else every task whose models are installed)");
  cmd->add_option("paths", a->paths, "files and folders")->required();
  cmd->callback([&g, a] {
    auto s = open_session(g, true);
    app::AddOptions o;
    o.paths = a->paths;
    o.tasks = a->tasks;
    bool tty = !g.quiet && !g.json && ::isatty(STDERR_FILENO);
    if (tty)
      o.progress = [](size_t n) {
        if (n % 50 == 0) std::fprintf(stderr, "\r\033[Kadd: %zu files looked at", n);
      };
    auto r = app::add(*s, o);
    if (tty) std::fprintf(stderr, "\r\033[K");
    for (const auto& p : r.scan.problems) std::fprintf(stderr, "darkroom: %s\n", p.c_str());
    if (g.json) {
      print_json_line(r.to_json());
      return;
    }
    std::string tasks;
    for (const auto& t : r.tasks) tasks += (tasks.empty() ? "" : ",") + t;
    const auto& sc = r.scan;
    std::printf(
        "found %zu photos: %zu added, %zu already known at another path (moved, renamed or copied; not analysed "
        "again), %zu changed, %zu unchanged; %zu missing; %zu jobs queued (%s)\n",
        sc.found, sc.added, sc.known, sc.changed, sc.unchanged, sc.missing, sc.queued,
        tasks.empty() ? "no tasks" : tasks.c_str());
    if (sc.queued) std::printf("run `darkroom work --until-idle` to analyse them\n");
  });
}

}  // namespace dr::cli
