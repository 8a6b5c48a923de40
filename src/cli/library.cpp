#include "cli/library.h"

namespace dr::cli {

std::string library_dir(const Globals& g) { return g.library.empty() ? catalog::Library::default_dir() : g.library; }

app::Config app_config(const Globals& g) {
  app::Config c;
  c.library = library_dir(g);
  c.models_dir = models_dir(g);
  c.runtime = runtime_options(g);
  c.threads = threads(g);
  return c;
}

std::unique_ptr<app::Session> open_session(const Globals& g, bool write) {
  return std::make_unique<app::Session>(app_config(g), write);
}

}  // namespace dr::cli
