#include "cli/library.h"

#include <filesystem>

namespace dr::cli {

std::string library_dir(const Globals& g) { return g.library.empty() ? catalog::Library::default_dir() : g.library; }

catalog::Library open_library(const Globals& g) {
  try {
    return catalog::Library::open(library_dir(g));
  } catch (const catalog::LibraryError& e) {
    throw UserError(e.what());
  }
}

std::unique_ptr<catalog::Store> open_catalog(const catalog::Library& lib, bool write) {
  std::unique_ptr<catalog::Store> store;
  try {
    store = lib.open_store();
  } catch (const catalog::StoreError& e) {
    throw UserError(e.what());
  }
  if (write && store->read_only())
    throw UserError("the library at " + lib.dir() +
                    " is read-only (no write permission); status, show, search and dupes still work, and a library "
                    "you can write to is needed to add or analyse photos");
  return store;
}

int64_t resolve_photo(catalog::Store& store, const std::string& arg) {
  auto abs = std::filesystem::absolute(arg).lexically_normal().string();
  if (auto rec = store.find_path(abs)) return rec->photo_id;
  bool numeric = !arg.empty() && arg.find_first_not_of("0123456789") == std::string::npos;
  if (numeric && store.photo(std::stoll(arg))) return std::stoll(arg);
  throw UserError("no photo " + arg +
                  " in the library; give a path that `darkroom add` has seen, or a photo id "
                  "(`darkroom status` lists failures with their paths)");
}

}  // namespace dr::cli
