// `add`'s walk: finds the photos under some paths and brings the catalog up to date. Unchanged files (same size
// and mtime) are skipped without reading them; a new or changed file is hashed, and a content the catalog already
// knows (a moved, renamed or copied file) gets the new path without new analysis; files that disappeared from
// under a scanned folder are marked missing. Symlink loops and unreadable folders are reported, not fatal.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "catalog/store.h"

namespace dr::catalog {

struct ScanOptions {
  std::vector<std::string> tasks;  // jobs queued for every photo found
  // Queues a photo's jobs (jobs::Queue::enqueue: the catalog does not queue by itself); returns how many it made.
  std::function<int(int64_t photo_id, const std::vector<std::string>& tasks)> enqueue;
  // Called after each file (for progress); may be empty.
  std::function<void(size_t files_done)> progress;
  // When not empty: folders whose files may be catalogued (absolute, symlinks resolved). A root, folder or file
  // whose real path lies outside all of them (a symlink out, `..`) is skipped and reported. `serve` sets this to
  // the library's configured roots.
  std::vector<std::string> confine_to;
};

struct ScanReport {
  size_t found = 0;                   // photo files seen
  size_t added = 0;                   // new content
  size_t known = 0;                   // content already in the catalog at another path (moved, renamed, copied)
  size_t changed = 0;                 // a known path whose content changed
  size_t unchanged = 0;               // same size and mtime as last time: skipped
  size_t missing = 0;                 // catalogued paths that are gone
  size_t queued = 0;                  // jobs created
  std::vector<std::string> problems;  // sentences: unreadable folders, symlink loops, unreadable files
};

// True for the extensions add looks for in folders: JPEG, PNG, WebP, HEIC/HEIF, TIFF (any case). Files named on
// the command line are taken whatever their name.
bool is_photo_name(const std::string& path);

ScanReport scan(Store& store, const std::vector<std::string>& roots, const ScanOptions& opts);

}  // namespace dr::catalog
