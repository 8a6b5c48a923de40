// darkroom migrate FROM TO: copies a library between catalogs (a folder and a postgresql:// database, either way)
// and checks the copy by counting both.
#include "app/migrate.h"

#include <unistd.h>

#include "cli/cli.h"

namespace dr::cli {

void register_migrate(CLI::App& app, Globals& g) {
  auto from = std::make_shared<std::string>(), to = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("migrate", "copy a library to another catalog (a folder or a postgresql:// URL)");
  cmd->add_option("from", *from, "the library to copy: a folder or postgresql://user@host/db")->required();
  cmd->add_option("to", *to, "a new, empty library: a folder or postgresql://user@host/db")->required();
  cmd->callback([&g, from, to] {
    bool tty = !g.quiet && !g.json && ::isatty(STDERR_FILENO);
    auto rep = app::migrate(*from, *to, [tty](size_t done, size_t total) {
      if (tty && (done % 100 == 0 || done == total))
        std::fprintf(stderr, "\r\033[Kmigrate: %zu of %zu photos", done, total);
    });
    if (tty) std::fprintf(stderr, "\r\033[K");
    if (g.json) {
      print_json_line(rep.to_json());
    } else if (rep.ok()) {
      std::printf("copied %s to %s: %s photos; every count matches\n", rep.from.c_str(), rep.to.c_str(),
                  rep.counts_to["photos"].dump().c_str());
    } else {
      std::printf("copied %s to %s, but the counts differ:\n", rep.from.c_str(), rep.to.c_str());
      for (const auto& m : rep.mismatches) std::printf("  %s\n", m.c_str());
    }
    g.exit_code = rep.ok() ? 0 : 1;
  });
}

}  // namespace dr::cli
