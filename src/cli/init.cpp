// darkroom init: creates a library (folder, catalog, default settings).
#include "cli/library.h"

namespace dr::cli {

void register_init(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("init", "create a library (the folder of --library, default ~/.local/share/darkroom)");
  cmd->callback([&g] {
    auto dir = library_dir(g);
    bool created = false;
    try {
      created = catalog::Library::create(dir);
    } catch (const std::exception& e) {
      throw UserError(std::string(e.what()));
    }
    auto lib = catalog::Library::open(dir);
    if (g.json) {
      print_json_line({{"library", lib.dir()}, {"created", created}});
    } else if (g.quiet) {
    } else if (created) {
      std::printf("created the library %s; add photos with `darkroom add --library %s PATH...`\n", lib.dir().c_str(),
                  lib.dir().c_str());
    } else {
      std::printf("the library %s already exists; nothing changed\n", lib.dir().c_str());
    }
  });
}

}  // namespace dr::cli
