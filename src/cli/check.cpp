// darkroom check: is the catalog damaged, and do its rows keep the catalog's rules? Exit status 0 when all is well,
// 1 when something is wrong (each finding printed, a catalog that cannot be read among them), 2 when there is no
// library there (or its settings cannot be read).
#include "catalog/maintenance.h"
#include "cli/library.h"

namespace dr::cli {

void register_check(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("check", "check the catalog: SQLite's integrity check and the catalog's own rules");
  cmd->callback([&g] {
    auto lib = catalog::Library::open(library_dir(g));
    auto r = catalog::check(lib);
    g.exit_code = r.ok() ? 0 : 1;
    if (g.json) {
      print_json_line(r.to_json());
      return;
    }
    std::printf("library %s (%s)\n", r.library.c_str(), r.engine.c_str());
    for (const auto& f : r.storage)
      std::printf("  damaged: %s%s\n", f.what.c_str(),
                  f.count ? (" (" + std::to_string(f.count) + " rows)").c_str() : "");
    for (const auto& f : r.rules) std::printf("  wrong: %s (%lld rows)\n", f.what.c_str(), (long long)f.count);
    if (r.ok()) {
      std::printf("ok: %s's own check and %zu rules of the catalog\n", r.engine == "sqlite" ? "SQLite" : "PostgreSQL",
                  r.checked.size());
    } else {
      std::printf("the catalog is not sound; restore a backup (README.md, \"Backups\")%s\n",
                  r.opened ? ", or copy what can be read with `darkroom migrate` into a new library" : "");
    }
  });
}

}  // namespace dr::cli
