// A library is a folder: catalog.db (the SQLite catalog) and settings.json (tasks enabled, queue and analyzer
// thresholds); or a PostgreSQL database (`postgresql://user@host/db`), shared by many machines, which keeps its
// settings in the database. `darkroom init` creates either; opening one that is not a library says how to create it.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "catalog/store.h"

namespace dr::catalog {

class LibraryError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Library {
 public:
  // $XDG_DATA_HOME/darkroom, else ~/.local/share/darkroom.
  static std::string default_dir();
  // Creates the folder, the catalog and default settings (an existing library is left as it is: returns false).
  static bool create(const std::string& dir);
  // Throws LibraryError ("there is no darkroom library at DIR; create one with `darkroom init --library DIR`").
  static Library open(const std::string& dir);

  // The folder, or the database URL (without its password) of a shared library.
  const std::string& dir() const { return dir_; }
  bool shared() const { return !url_.empty(); }
  // The database URL as given (with its password, if any: never for messages); empty for a folder library.
  const std::string& url() const { return url_; }
  std::string catalog_path() const;
  std::string settings_path() const;
  // settings.json merged over the defaults.
  const nlohmann::json& settings() const { return settings_; }
  static nlohmann::json default_settings();
  // Replaces the library's settings (settings.json, or the database's for a shared library).
  void write_settings(const nlohmann::json& s);

  // Opens the catalog: the busy timeout comes from settings (busy_timeout_ms) or $DARKROOM_BUSY_TIMEOUT_MS.
  std::unique_ptr<Store> open_store() const;
  // Where thumbnails are written: <folder>/thumbs; for a shared library, settings "thumbs_dir" (a folder every
  // machine sees at the same path), else a folder of this machine's ($XDG_DATA_HOME/darkroom/thumbs/<host>-<db>).
  std::string thumbs_dir() const;

 private:
  std::string dir_, url_;
  nlohmann::json settings_;
};

}  // namespace dr::catalog
