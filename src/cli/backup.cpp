// darkroom backup DEST: a consistent copy of a folder library's catalog and settings, made while workers run.
#include "catalog/maintenance.h"
#include "cli/library.h"

namespace dr::cli {

void register_backup(CLI::App& app, Globals& g) {
  auto dest = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "backup", "copy the library's catalog and settings into a new folder (safe while `work` or `serve` run)");
  cmd->add_option("dest", *dest, "a folder that does not exist yet (or is empty)")->required();
  cmd->callback([&g, dest] {
    auto lib = catalog::Library::open(library_dir(g));
    auto r = catalog::backup(lib, *dest);
    if (g.json) {
      print_json_line(r.to_json());
      return;
    }
    std::printf("backed up %lld photos and %lld jobs into %s (%.1f MB); thumbnails stay in %s\n", (long long)r.photos,
                (long long)r.jobs, r.dest.c_str(), r.bytes / 1e6, lib.thumbs_dir().c_str());
  });
}

}  // namespace dr::cli
