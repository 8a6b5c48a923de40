#include "catalog/library.h"

#include <algorithm>
#include <cctype>
#include <cmath>
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
        {"stop_deadline_seconds", 30},
        {"job_time_limit_seconds", 600}}},
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

namespace {

// The keys of settings.json that darkroom reads, checked once here so that every reader can rely on their types and
// ranges (a number too large for an int is undefined behaviour in the reader). Keys darkroom does not know are
// kept as they are.
void check_settings(const json& s, const std::string& file) {
  auto bad = [&](const std::string& key, const std::string& what) {
    throw LibraryError(file + ": " + key + " must be " + what + "; fix it, or delete it to get the default");
  };
  auto whole = [&](const json& o, const char* key, const std::string& name, int64_t lo, int64_t hi) {
    if (!o.contains(key)) return;
    const json& v = o[key];
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi ||
        (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(hi)))
      bad(name, "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  };
  auto seconds = [&](const json& o, const char* key, const std::string& name, double lo, double hi) {
    if (!o.contains(key)) return;
    const json& v = o[key];
    if (!v.is_number() || !(v.get<double>() >= lo) || v.get<double>() > hi)
      bad(name, "a number of seconds from " + std::to_string(int64_t(lo)) + " to " + std::to_string(int64_t(hi)));
  };
  auto strings = [&](const char* key) {
    if (!s.contains(key)) return;
    const json& v = s[key];
    if (!v.is_array() || !std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_string(); }))
      bad(std::string("\"") + key + "\"", "a list of strings");
  };
  strings("tasks");
  strings("roots");
  whole(s, "busy_timeout_ms", "\"busy_timeout_ms\"", 0, 3'600'000);
  const json& q = s["queue"];
  if (!q.is_object()) bad("\"queue\"", "an object");
  whole(q, "max_attempts", "\"queue\".\"max_attempts\"", 1, 1000);
  whole(q, "backoff_ms", "\"queue\".\"backoff_ms\"", 0, 86'400'000);
  whole(q, "backoff_max_ms", "\"queue\".\"backoff_max_ms\"", 0, 86'400'000);
  // A lease shorter than a second ends before its heartbeat renews it: every job would be run twice.
  seconds(q, "lease_seconds", "\"queue\".\"lease_seconds\"", 1, 86'400);
  seconds(q, "stop_deadline_seconds", "\"queue\".\"stop_deadline_seconds\"", 0, 86'400);
  // 0: no limit. A hung analysis is abandoned after this (WorkerPool); the slowest real job takes seconds.
  seconds(q, "job_time_limit_seconds", "\"queue\".\"job_time_limit_seconds\"", 0, 86'400);
  if (q.contains("task_concurrency")) {
    const json& c = q["task_concurrency"];
    if (!c.is_object()) bad("\"queue\".\"task_concurrency\"", "an object of task names and numbers");
    for (const auto& [task, n] : c.items())
      whole(c, task.c_str(), "\"queue\".\"task_concurrency\".\"" + task + "\"", 1, 1024);
  }
  const json& a = s["analyzers"];
  if (!a.is_object()) bad("\"analyzers\"", "an object with one object of settings per task");
  for (const auto& [task, settings] : a.items()) {
    if (!settings.is_object()) bad("\"analyzers\".\"" + task + "\"", "an object of settings");
    // Each task reads its own keys; a number none of them could use (a 32-bit int read from 1e300) stops here.
    for (const auto& [key, v] : settings.items())
      if (v.is_number() && !(std::abs(v.get<double>()) <= 1e9))
        bad("\"analyzers\".\"" + task + "\".\"" + key + "\"", "a number between -1e9 and 1e9");
  }
}

// The user's settings over the defaults; a key set to null is deleted by the merge and gets its default back.
void apply_user_settings(json& settings, const json& user, const std::string& where) {
  settings.merge_patch(user);
  const json defaults = Library::default_settings();
  for (const auto& [key, value] : defaults.items())
    if (!settings.contains(key)) settings[key] = value;
  check_settings(settings, where);
}

}  // namespace

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
        apply_user_settings(lib.settings_, user, "the settings stored in " + lib.dir_);
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
    apply_user_settings(lib.settings_, user, lib.settings_path());
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
