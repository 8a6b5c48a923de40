// The catalog backends a test suite runs on: SQLite always; PostgreSQL when the test server is there (CTest starts
// a throwaway one for the whole run: scripts/test_postgres.sh, the `postgres` fixture in tests/CMakeLists.txt).
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/store.h"

namespace dr::test {

std::vector<std::string> backend_names();
// A fresh, empty catalog of that backend (scratch files under `dir`; a new database on the test server); null
// when the backend cannot be had here.
std::unique_ptr<catalog::Store> open_backend(const std::string& name, const std::string& dir);
// Why a backend cannot be had (for a skipped test).
std::string backend_unavailable(const std::string& name);
// The URL of a new, empty database on the test server (nullopt without one): a library for `--library`.
std::optional<std::string> postgres_database();
// The test server's URL (its `postgres` database), when there is one.
std::optional<std::string> postgres_server();

}  // namespace dr::test
