#include "catalog/library.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "catalog/postgres.h"
#include "catalog/postgres_store.h"
#include "catalog/sqlite_store.h"

namespace dr::catalog {
namespace fs = std::filesystem;
using nlohmann::json;

std::string Library::default_dir() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return (fs::path(x) / "darkroom").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : ".") / ".local" / "share" / "darkroom").string();
}

std::string Library::catalog_path() const { return (fs::path(dir_) / "catalog.db").string(); }
std::string Library::settings_path() const { return (fs::path(dir_) / "settings.json").string(); }

json Library::default_settings() {
  return json{
      {"tasks", json::array()},  // empty: every task whose models are installed
      {"queue",
       {{"max_attempts", 5},
        {"lease_seconds", 60},
        {"backoff_ms", 2000},
        {"backoff_max_ms", 600000},
        {"stop_deadline_seconds", 30}}},
      {"busy_timeout_ms", 10000},
      {"analyzers", json::object()},
  };
}

bool Library::create(const std::string& dir) {
  if (is_postgres_url(dir)) {
    PostgresOptions o;
    o.create = true;
    PostgresStore store(dir, o);  // creates and migrates
    if (!store.settings().is_null()) return false;
    store.put_settings(default_settings());
    return true;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw LibraryError("cannot create the library folder " + dir + ": " + ec.message());
  Library lib;
  lib.dir_ = fs::absolute(dir).lexically_normal().string();
  bool existed = fs::exists(lib.catalog_path());
  if (!fs::exists(lib.settings_path())) {
    std::ofstream out(lib.settings_path());
    out << default_settings().dump(2) << "\n";
    if (!out) throw LibraryError("cannot write " + lib.settings_path() + "; check the folder's permissions");
  }
  SqliteOptions o;
  o.create = true;
  SqliteStore store(lib.catalog_path(), o);  // creates and migrates
  return !existed;
}

Library Library::open(const std::string& dir) {
  Library lib;
  if (is_postgres_url(dir)) {
    lib.url_ = dir;
    lib.dir_ = pg::redact(dir);
    try {
      PostgresStore store(dir);
      lib.settings_ = default_settings();
      auto user = store.settings();
      if (!user.is_null()) {
        if (!user.is_object())
          throw LibraryError("the settings stored in " + lib.dir_ +
                             " are not a JSON object; fix darkroom_meta's "
                             "'settings' row");
        lib.settings_.merge_patch(user);
      }
    } catch (const StoreError& e) {
      throw LibraryError(e.what());
    }
    return lib;
  }
  lib.dir_ = fs::absolute(dir).lexically_normal().string();
  if (!fs::exists(lib.catalog_path()))
    throw LibraryError("there is no darkroom library at " + lib.dir_ + "; create one with `darkroom init --library " +
                       lib.dir_ + "` (or set DARKROOM_LIBRARY)");
  lib.settings_ = default_settings();
  if (fs::exists(lib.settings_path())) {
    std::ifstream in(lib.settings_path());
    json user = json::parse(in, nullptr, false);
    if (user.is_discarded() || !user.is_object())
      throw LibraryError(lib.settings_path() + " is not a JSON object; fix it or delete it to get the defaults back");
    lib.settings_.merge_patch(user);
  }
  return lib;
}

std::unique_ptr<Store> Library::open_store() const {
  if (!url_.empty()) return std::make_unique<PostgresStore>(url_);
  SqliteOptions o;
  o.busy_timeout_ms = settings_.value("busy_timeout_ms", 10000);
  if (const char* t = std::getenv("DARKROOM_BUSY_TIMEOUT_MS"); t && *t) o.busy_timeout_ms = std::atoi(t);
  return std::make_unique<SqliteStore>(catalog_path(), o);
}

void Library::write_settings(const json& s) {
  if (!url_.empty()) {
    PostgresStore(url_).put_settings(s);
  } else {
    std::ofstream out(settings_path());
    out << s.dump(2) << "\n";
    if (!out) throw LibraryError("cannot write " + settings_path() + "; check the folder's permissions");
  }
  settings_ = default_settings();
  settings_.merge_patch(s);
}

std::string Library::thumbs_dir() const {
  if (url_.empty()) return (fs::path(dir_) / "thumbs").string();
  if (settings_.contains("thumbs_dir") && settings_["thumbs_dir"].is_string() &&
      !settings_["thumbs_dir"].get<std::string>().empty())
    return settings_["thumbs_dir"].get<std::string>();
  std::string name;
  for (char c : dir_.substr(dir_.find("://") + 3)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  const char* x = std::getenv("XDG_DATA_HOME");
  const char* home = std::getenv("HOME");
  fs::path base = x && *x ? fs::path(x) : fs::path(home && *home ? home : ".") / ".local" / "share";
  return (base / "darkroom" / "thumbs" / name).string();
}

}  // namespace dr::catalog
