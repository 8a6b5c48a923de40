#include "catalog/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include "catalog/library.h"
#include "jobs/queue.h"
#include "support/cli.h"

namespace dr::catalog {
namespace {

using nlohmann::json;

PhotoFacts facts(const std::string& hash) {
  PhotoFacts f;
  f.content_hash = hash;
  f.size = 100;
  f.format = "jpeg";
  f.width = 40;
  f.height = 30;
  f.file_date = "2021-03-04";
  return f;
}

// What only the SQLite catalog has: its schema version, its file, locks by other processes, read-only files.
struct SqliteStoreTest : ::testing::Test {
  test::TempDir dir;
  std::unique_ptr<SqliteStore> store;
  void SetUp() override {
    SqliteOptions o;
    o.create = true;
    store = std::make_unique<SqliteStore>(dir / "catalog.db", o);
  }
  int64_t photo(const std::string& name, const std::vector<std::string>& tasks = {"pdq"}) {
    int64_t id = store->add_photo(facts("hash-" + name));
    store->put_path(dir / name, id, 100, 1, 1);
    jobs::Queue(*store).enqueue(id, tasks);
    return id;
  }
};

TEST_F(SqliteStoreTest, MigratesToTheCurrentVersionAndReopens) {
  store.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "catalog.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), SqliteStore::schema_version());
  sqlite3_finalize(s);
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_exec(db, "PRAGMA user_version=999", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  try {
    SqliteStore again(dir / "catalog.db");
    FAIL() << "a newer schema must be refused";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteStoreTest, MissingCatalogSaysHowToCreateOne) {
  try {
    SqliteStore s(dir / "nothing.db");
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("darkroom init"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteStoreTest, ALockedDatabaseGivesAClearBusyError) {
  photo("a.jpg");
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "catalog.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  SqliteOptions o;
  o.busy_timeout_ms = 200;
  SqliteStore second(dir / "catalog.db", o);
  try {
    jobs::Queue(second).lease("w", 1, {});
    FAIL() << "the lease must wait for the lock and then fail";
  } catch (const StoreError& e) {
    EXPECT_TRUE(e.busy());
    EXPECT_NE(std::string(e.what()).find("locked by another process"), std::string::npos) << e.what();
  }
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_EQ(jobs::Queue(second).lease("w", 1, {}).size(), 1u);
}

TEST_F(SqliteStoreTest, AReadOnlyLibraryCanBeReadButNotWritten) {
  int64_t id = photo("a.jpg");
  store.reset();
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  std::filesystem::permissions(dir / "catalog.db", std::filesystem::perms::owner_read);
  // Root ignores permissions: there, open it read-only explicitly (the same code path once opened).
  SqliteOptions o;
  o.read_only = ::access((dir / "catalog.db").c_str(), W_OK) == 0;
  SqliteStore ro(dir / "catalog.db", o);
  EXPECT_TRUE(ro.read_only());
  EXPECT_EQ(jobs::Queue(ro).counts().jobs["queued"], 1);
  EXPECT_TRUE(ro.photo(id));
  try {
    jobs::Queue(ro).lease("w", 1, {});
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_TRUE(e.read_only());
    EXPECT_NE(std::string(e.what()).find("read-only"), std::string::npos) << e.what();
  }
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all);
}

TEST(Library, InitCreatesAndOpenSaysHowToCreate) {
  test::TempDir dir;
  try {
    Library::open(dir / "none");
    FAIL();
  } catch (const LibraryError& e) {
    EXPECT_NE(std::string(e.what()).find("darkroom init"), std::string::npos);
  }
  EXPECT_TRUE(Library::create(dir / "lib"));
  EXPECT_FALSE(Library::create(dir / "lib"));
  auto lib = Library::open(dir / "lib");
  EXPECT_EQ(lib.settings()["queue"]["max_attempts"], 5);
  EXPECT_EQ(lib.open_store()->photo_count(), 0);
}

}  // namespace
}  // namespace dr::catalog
