// A thin layer over libpq for the PostgreSQL catalog: a connection, statements with text parameters, results read
// by row and column, and errors that say which statement failed and whether the connection was lost. Nothing here
// knows the schema.
#pragma once
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dr::catalog::pg {

class Error : public std::runtime_error {
 public:
  Error(const std::string& what, std::string sqlstate, bool lost)
      : std::runtime_error(what), sqlstate_(std::move(sqlstate)), lost_(lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  // The connection is gone (server restarted, network): the operation may be tried again on a new one.
  bool connection_lost() const { return lost_; }
  // A serialization failure or deadlock: the transaction may be tried again.
  bool retryable() const { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

 private:
  std::string sqlstate_;
  bool lost_;
};

// Statement parameters, in text form ($1, $2, ...); nullopt is NULL.
class Params {
 public:
  // Appends a value and returns its placeholder ("$3").
  std::string add(std::optional<std::string> v);
  std::string add(int64_t v) { return add(std::to_string(v)); }
  std::string add(int v) { return add(std::to_string(v)); }
  std::string add(double v);
  std::string add(const char* v) { return add(std::string(v)); }
  std::string add_bytes(const std::vector<uint8_t>& bytes);  // bytea
  std::string add_ints(const std::vector<int64_t>& v);       // bigint[]
  std::string add_texts(const std::vector<std::string>& v);  // text[]
  const std::vector<std::optional<std::string>>& values() const { return v_; }

 private:
  std::vector<std::optional<std::string>> v_;
};

class Result {
 public:
  explicit Result(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return PQntuples(r_.get()); }
  // Rows a command changed (UPDATE, DELETE, INSERT).
  int64_t changed() const;
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  std::optional<std::string> opt_text(int row, int col) const;
  int64_t i64(int row, int col) const;
  double f64(int row, int col) const;
  std::optional<double> opt_f64(int row, int col) const;
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  std::vector<uint8_t> bytes(int row, int col) const;  // bytea

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> r_;
};

class Conn {
 public:
  // Connects (a URL or key=value conninfo); throws Error (connection_lost) when the server cannot be reached.
  explicit Conn(const std::string& conninfo);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  Result exec(const std::string& sql, const Params& p = {});
  // Several statements, no parameters (migrations).
  void script(const std::string& sql);
  bool ok() const { return PQstatus(c_) == CONNECTION_OK; }
  PGconn* raw() { return c_; }

 private:
  PGconn* c_ = nullptr;
};

// "postgresql://user:secret@host/db" -> "postgresql://user@host/db": for messages.
std::string redact(const std::string& url);

}  // namespace dr::catalog::pg
