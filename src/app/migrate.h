// `darkroom migrate FROM TO`: a library copied between catalogs (a folder's SQLite and a PostgreSQL database,
// either way): settings, photos with their paths (missing ones too), every job's state, attempts and last error,
// every result with its derived rows, people with their names, the user's placements (merges, moves) and "not this
// person" decisions, the duplicates marked "not duplicates", and API tokens. Then both are counted and compared.
#pragma once
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dr::app {

struct MigrateReport {
  std::string from, to;
  nlohmann::json counts_from, counts_to;  // {"photos","jobs": {task: {state: n}},"results": {task: n},"faces",...}
  std::vector<std::string> mismatches;    // sentences; empty when the copy is whole
  bool ok() const { return mismatches.empty(); }
  nlohmann::json to_json() const;
};

// Error::NotFound when FROM is not a library, Error::Conflict when TO already holds photos.
MigrateReport migrate(const std::string& from, const std::string& to,
                      const std::function<void(size_t done, size_t total)>& progress = {});

}  // namespace dr::app
