// The library's everyday operations: what it holds (status), adding photos, retrying failures, and which tasks a
// photo gets.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/session.h"
#include "catalog/scan.h"

namespace dr::app {

struct StatusReport {
  std::string library;
  catalog::QueueCounts counts;
  std::vector<catalog::FailureRow> failures;
  // {"library", "photos", "jobs": {state: n}, "by_task": {task: {state: n}}, "failures": [...]}
  nlohmann::json to_json() const;
};

StatusReport status(Session& s, size_t failure_limit = 1000);

// The tasks queued for new photos: `flag` (a comma-separated list) when given, else the library's settings
// ("tasks"), else every task whose models are installed. Error::BadInput for an unknown task.
std::vector<std::string> tasks_for(Session& s, const std::string& flag = {});

// The folders `serve` may add photos from (settings.json "roots", plus `extra`), absolute with symlinks resolved;
// folders that do not exist are left out.
std::vector<std::string> library_roots(Session& s, const std::vector<std::string>& extra = {});

struct AddReport {
  catalog::ScanReport scan;
  std::vector<std::string> tasks;
  nlohmann::json to_json() const;  // `add --json`'s keys
};

struct AddOptions {
  std::vector<std::string> paths;
  std::string tasks;                    // as tasks_for's flag
  std::vector<std::string> confine_to;  // ScanOptions::confine_to
  std::function<void(size_t)> progress;
};

AddReport add(Session& s, const AddOptions& o);

// Puts failed and/or dead jobs (of these photos; all when empty) back in the queue; returns how many.
int retry(Session& s, bool failed, bool dead, const std::vector<int64_t>& photo_ids);

}  // namespace dr::app
