// Helpers shared by the library commands (init, add, work, status, show, search, dupes, retry, people, serve).
#pragma once
#include <memory>
#include <string>

#include "app/session.h"
#include "cli/cli.h"

namespace dr::cli {

// --library, else $DARKROOM_LIBRARY (both in g.library), else ~/.local/share/darkroom.
std::string library_dir(const Globals& g);
// The app layer's configuration from the global options.
app::Config app_config(const Globals& g);
// Opens the library (app::Error saying how to create one); `write`: the command changes it, so a read-only library
// is refused up front.
std::unique_ptr<app::Session> open_session(const Globals& g, bool write);

}  // namespace dr::cli
