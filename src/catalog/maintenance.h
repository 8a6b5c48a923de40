// Keeping a catalog sound: `darkroom check` (is it damaged? do its rows keep the catalog's rules?) and `darkroom
// backup` (a consistent copy while workers go on writing). Both open the catalog without migrating it, so that they
// work on a catalog that no longer opens for the other commands.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/library.h"

namespace dr::catalog {

struct CheckFinding {
  std::string what;   // a sentence: what is wrong
  int64_t count = 0;  // how many rows (0 for the engine's own findings)
};

struct CheckReport {
  std::string library;
  std::string engine;                 // "sqlite" or "postgresql"
  bool opened = true;                 // false: the catalog could not be read at all (findings say why)
  std::vector<CheckFinding> storage;  // the database engine's own check (SQLite's integrity_check, ...)
  std::vector<CheckFinding> rules;    // the catalog's invariants that do not hold
  std::vector<std::string> checked;   // the invariants tried, as sentences
  bool ok() const { return opened && storage.empty() && rules.empty(); }
  nlohmann::json to_json() const;
};

// Runs the engine's check (SQLite: integrity_check, foreign_key_check and the full-text indexes' own checks;
// PostgreSQL checks its pages itself and enforces the keys) and the catalog's invariants. Never throws for a
// damaged catalog: that is a finding.
CheckReport check(const Library& lib);

struct BackupReport {
  std::string dest;              // the folder written: a library of its own
  int64_t bytes = 0;             // of its catalog.db
  int64_t photos = 0, jobs = 0;  // counted in the copy
  nlohmann::json to_json() const;
};

// Copies a folder library's catalog (SQLite's online backup: a consistent copy of one moment, while workers go on
// writing) and settings.json into `dest`, a folder that must not exist or be empty; the copy's running jobs are
// queued again (no worker holds them there), the copy is checked (quick_check) and its rows counted. Thumbnails are not
// copied: they are named by content, so the library's thumbs folder serves any copy of its catalog (README, "Backups").
// A library on PostgreSQL is backed up with pg_dump: LibraryError says so. LibraryError for every refusal.
BackupReport backup(const Library& lib, const std::string& dest);

}  // namespace dr::catalog
