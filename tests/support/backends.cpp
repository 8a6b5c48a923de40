#include "support/backends.h"

#include <unistd.h>

#include <atomic>
#include <fstream>

#include "catalog/postgres.h"
#include "catalog/postgres_store.h"
#include "catalog/sqlite_store.h"

namespace dr::test {

std::optional<std::string> postgres_server() {
  std::ifstream in(std::string(DARKROOM_TEST_PG_DIR) + "/url");
  std::string url;
  if (!std::getline(in, url) || url.empty()) return std::nullopt;
  return url;
}

// Both, always: the tests are listed when the binary is built (gtest_discover_tests), before CTest starts the
// server; a test of a backend that is not there when it runs is skipped, saying why.
std::vector<std::string> backend_names() { return {"sqlite", "postgres"}; }

std::optional<std::string> postgres_database() {
  auto server = postgres_server();
  if (!server) return std::nullopt;
  static std::atomic<int> seq{0};
  std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(seq++);
  catalog::pg::Conn c(*server);
  c.exec("DROP DATABASE IF EXISTS " + name);
  c.exec("CREATE DATABASE " + name);
  auto at = server->find("@/");
  return server->substr(0, at + 2) + name + server->substr(server->find('?'));
}

std::unique_ptr<catalog::Store> open_backend(const std::string& name, const std::string& dir) {
  if (name == "sqlite") {
    catalog::SqliteOptions o;
    o.create = true;
    return std::make_unique<catalog::SqliteStore>(dir + "/catalog.db", o);
  }
  if (name == "postgres") {
    auto url = postgres_database();
    if (!url) return nullptr;
    catalog::PostgresOptions o;
    o.create = true;
    return std::make_unique<catalog::PostgresStore>(*url, o);
  }
  return nullptr;
}

std::string backend_unavailable(const std::string& name) {
  return "no " + name + " catalog here (the PostgreSQL tests need the server CTest starts: run them with ctest)";
}

}  // namespace dr::test
