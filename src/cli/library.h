// Helpers shared by the library commands (init, add, work, status, show, search, dupes, retry).
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "catalog/library.h"
#include "catalog/store.h"
#include "cli/cli.h"

namespace dr::cli {

// --library, else $DARKROOM_LIBRARY (both in g.library), else ~/.local/share/darkroom.
std::string library_dir(const Globals& g);
// Opens the library or throws UserError saying how to create one.
catalog::Library open_library(const Globals& g);
// Opens its catalog; `write`: the command changes it, so a read-only library is refused up front.
std::unique_ptr<catalog::Store> open_catalog(const catalog::Library& lib, bool write);
// A photo named by a path (as catalogued: absolute) or by its id; throws UserError when unknown.
int64_t resolve_photo(catalog::Store& store, const std::string& arg);

}  // namespace dr::cli
