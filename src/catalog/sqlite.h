// A thin RAII layer over the SQLite C API for the catalog: a connection, prepared statements with typed binds and
// columns, and errors that say which statement failed and why. Nothing here knows the schema.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dr::catalog::sqlite {

// An SQLite error. busy() is true for SQLITE_BUSY / SQLITE_LOCKED: another connection holds the lock for longer
// than the busy timeout; callers may retry.
class Error : public std::runtime_error {
 public:
  Error(const std::string& what, int code) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }
  bool busy() const { return (code_ & 0xff) == SQLITE_BUSY || (code_ & 0xff) == SQLITE_LOCKED; }
  bool readonly() const { return (code_ & 0xff) == SQLITE_READONLY || (code_ & 0xff) == SQLITE_CANTOPEN; }
  bool full() const { return (code_ & 0xff) == SQLITE_FULL; }  // the disk is full
  // The file is not a database, or its pages do not hold together: `darkroom check`, then a backup.
  bool damaged() const { return (code_ & 0xff) == SQLITE_CORRUPT || (code_ & 0xff) == SQLITE_NOTADB; }

 private:
  int code_;
};

class Db;

class Stmt {
 public:
  Stmt(Db& db, std::string_view sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), sql_(std::move(o.sql_)) { o.s_ = nullptr; }

  // Binds are 1-based like SQLite's; each returns *this so calls chain.
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, int v) { return bind(i, int64_t(v)); }
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind_blob(int i, const void* data, size_t size);
  Stmt& bind_null(int i);
  template <class T>
  Stmt& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }

  // Steps once: true while a row is available.
  bool step();
  // Runs to completion (for statements without rows) and resets.
  void run();
  void reset();

  int columns() const { return sqlite3_column_count(s_); }
  bool is_null(int col) const;
  int64_t i64(int col) const;
  double f64(int col) const;
  std::string text(int col) const;
  std::optional<std::string> opt_text(int col) const;
  std::optional<double> opt_f64(int col) const;
  std::vector<uint8_t> blob(int col) const;

 private:
  Db& db_;
  sqlite3_stmt* s_ = nullptr;
  std::string sql_;
};

class Db {
 public:
  // Opens (creating when `create`) the database file; read_only opens it without write access.
  Db(const std::string& path, bool create, bool read_only, int busy_timeout_ms);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* raw() { return db_; }
  const std::string& path() const { return path_; }
  void exec(std::string_view sql);
  int64_t last_insert_id() { return sqlite3_last_insert_rowid(db_); }
  int changes() { return sqlite3_changes(db_); }
  [[noreturn]] void fail(int rc, std::string_view what);

 private:
  friend class Stmt;
  // Prepared statements are kept for reuse (preparing costs more than running most of ours): a Stmt borrows one
  // for its SQL text and gives it back, reset, when it dies.
  sqlite3_stmt* borrow(const std::string& sql);
  void give_back(const std::string& sql, sqlite3_stmt* s);

  std::string path_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// A transaction: BEGIN (IMMEDIATE for writers, so the write lock is taken up front and a busy library waits on the
// busy timeout instead of failing at COMMIT), rolled back unless commit() was called.
class Txn {
 public:
  explicit Txn(Db& db, bool write = true);
  ~Txn();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace dr::catalog::sqlite
