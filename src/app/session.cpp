#include "app/session.h"

#include <filesystem>

#include "app/dupes.h"
#include "app/search.h"

namespace dr::app {

Session::Session(Config config, bool write) : config_(std::move(config)) {
  if (config_.library.empty()) config_.library = catalog::Library::default_dir();
  if (config_.models_dir.empty()) config_.models_dir = runtime::ModelStore::default_dir();
  try {
    library_ = catalog::Library::open(config_.library);
  } catch (const catalog::LibraryError& e) {
    throw Error(Error::NotFound, e.what());
  }
  try {
    store_ = library_.open_store();
  } catch (const catalog::StoreError& e) {
    throw Error(e.busy() ? Error::Unavailable : Error::Conflict, e.what());
  }
  const auto& settings = library_.settings();
  int64_t lease_ms = int64_t(settings["queue"].value("lease_seconds", 60.0) * 1000);
  queue_ = std::make_unique<jobs::Queue>(*store_, jobs::RetryPolicy::from_settings(settings),
                                         std::max<int64_t>(lease_ms, 100));
  if (write && store_->read_only())
    throw Error(Error::Conflict,
                "the library at " + library_.dir() +
                    " is read-only (no write permission); status, show, search and dupes still work, and a library "
                    "you can write to is needed to add or analyse photos");
}

Session::~Session() = default;

const runtime::ModelStore& Session::models() {
  std::lock_guard lock(mu_);
  if (!models_) models_.emplace(config_.models_dir, runtime::Manifest::load(config_.models_dir));
  return *models_;
}

runtime::Runtime& Session::runtime() {
  std::lock_guard lock(mu_);
  if (!runtime_) runtime_ = std::make_unique<runtime::Runtime>(config_.runtime);
  return *runtime_;
}

Search& Session::search() {
  std::lock_guard lock(mu_);
  if (!search_) search_ = std::make_unique<Search>(*this);
  return *search_;
}

DupeCache& Session::dupes() {
  std::lock_guard lock(mu_);
  if (!dupes_) dupes_ = std::make_unique<DupeCache>();
  return *dupes_;
}

std::string Session::thumbs_dir() const { return library_.thumbs_dir(); }

int64_t parse_id(const std::string& what, const std::string& text) {
  bool numeric = !text.empty() && text.size() < 18 && text.find_first_not_of("0123456789") == std::string::npos;
  if (!numeric || std::stoll(text) <= 0) throw Error(Error::BadInput, what + " \"" + text + "\" is not an id");
  return std::stoll(text);
}

int64_t resolve_photo(catalog::Store& store, const std::string& arg) {
  auto abs = std::filesystem::absolute(arg).lexically_normal().string();
  if (auto rec = store.find_path(abs)) return rec->photo_id;
  bool numeric = !arg.empty() && arg.size() < 18 && arg.find_first_not_of("0123456789") == std::string::npos;
  if (numeric && store.photo(std::stoll(arg))) return std::stoll(arg);
  throw Error(Error::NotFound, "no photo " + arg +
                                   " in the library; give a path that `darkroom add` has seen, or a photo id "
                                   "(`darkroom status` lists failures with their paths)");
}

}  // namespace dr::app
