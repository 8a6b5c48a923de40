#include "catalog/postgres.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dr::catalog::pg {

std::string Params::add(std::optional<std::string> v) {
  v_.push_back(std::move(v));
  return "$" + std::to_string(v_.size());
}

std::string Params::add(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return add(std::string(buf));
}

std::string Params::add_bytes(const std::vector<uint8_t>& bytes) {
  static const char* hex = "0123456789abcdef";
  std::string s = "\\x";
  s.reserve(2 + 2 * bytes.size());
  for (uint8_t b : bytes) {
    s += hex[b >> 4];
    s += hex[b & 15];
  }
  return add(std::move(s));
}

std::string Params::add_ints(const std::vector<int64_t>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return add(s + "}") + "::bigint[]";
}

std::string Params::add_texts(const std::vector<std::string>& v) {
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) {
    s += i ? ",\"" : "\"";
    for (char c : v[i]) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  return add(s + "}") + "::text[]";
}

int64_t Result::changed() const {
  const char* n = PQcmdTuples(r_.get());
  return n && *n ? std::atoll(n) : 0;
}

std::optional<std::string> Result::opt_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

int64_t Result::i64(int row, int col) const { return std::atoll(PQgetvalue(r_.get(), row, col)); }
double Result::f64(int row, int col) const { return std::strtod(PQgetvalue(r_.get(), row, col), nullptr); }

std::optional<double> Result::opt_f64(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return f64(row, col);
}

std::vector<uint8_t> Result::bytes(int row, int col) const {
  std::vector<uint8_t> out;
  if (is_null(row, col)) return out;
  const char* t = PQgetvalue(r_.get(), row, col);
  size_t n = std::strlen(t);
  if (n < 2 || t[0] != '\\' || t[1] != 'x') return out;  // bytea_output is hex since PostgreSQL 9.0
  auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  out.reserve((n - 2) / 2);
  for (size_t i = 2; i + 1 < n; i += 2) out.push_back(uint8_t(nib(t[i]) * 16 + nib(t[i + 1])));
  return out;
}

Conn::Conn(const std::string& conninfo) {
  c_ = PQconnectdb(conninfo.c_str());
  if (PQstatus(c_) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c_);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    PQfinish(c_);
    c_ = nullptr;
    throw Error("cannot connect to the catalog database " + redact(conninfo) + ": " + why, "08001", true);
  }
  // Notices ("relation already exists, skipping") are not for the user.
  PQsetNoticeProcessor(
      c_, [](void*, const char*) {}, nullptr);
}

Conn::~Conn() {
  if (c_) PQfinish(c_);
}

namespace {

Result check(PGconn* c, PGresult* r, const std::string& sql) {
  auto st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Result(r);
  std::string state, msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
  if (r && PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  if (r) PQclear(r);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  bool lost = PQstatus(c) != CONNECTION_OK || state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02" ||
              state == "57P03";
  std::string head = sql.substr(0, 60);
  for (auto& ch : head)
    if (ch == '\n') ch = ' ';
  throw Error(msg + " (in: " + head + (sql.size() > 60 ? "..." : "") + ")", state, lost);
}

}  // namespace

Result Conn::exec(const std::string& sql, const Params& p) {
  std::vector<const char*> values;
  for (const auto& v : p.values()) values.push_back(v ? v->c_str() : nullptr);
  PGresult* r = PQexecParams(c_, sql.c_str(), int(values.size()), nullptr, values.data(), nullptr, nullptr, 0);
  return check(c_, r, sql);
}

void Conn::script(const std::string& sql) { check(c_, PQexec(c_, sql.c_str()), sql); }

std::string redact(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  auto at = url.find('@', scheme);
  if (at == std::string::npos) return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

}  // namespace dr::catalog::pg
