#include "catalog/maintenance.h"

#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "catalog/postgres.h"
#include "catalog/sqlite.h"
#include "catalog/sqlite_store.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace dr::catalog {

namespace {

// The catalog's rules, each a count of the rows that break it, in SQL both engines read. The keys say the same
// for SQLite (with foreign keys on) as long as no one writes the file by hand or a page is damaged in a way SQLite's
// own check does not see (a flipped byte inside a stored value).
struct Rule {
  const char* sentence;  // what holds
  const char* broken;    // SELECT count(*) of the rows that break it
};
const Rule kRules[] = {
    {"every path belongs to a photo",
     "SELECT count(*) FROM paths x WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.id = x.photo_id)"},
    {"every job belongs to a photo",
     "SELECT count(*) FROM jobs x WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.id = x.photo_id)"},
    {"every result belongs to a photo",
     "SELECT count(*) FROM results x WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.id = x.photo_id)"},
    {"every face, text line, label and embedding belongs to a photo",
     "SELECT (SELECT count(*) FROM faces x WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.id = x.photo_id)) + "
     "(SELECT count(*) FROM documents x WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.id = x.photo_id)) + "
     "(SELECT count(*) FROM embeddings x WHERE NOT EXISTS (SELECT 1 FROM photos p WHERE p.id = x.photo_id))"},
    {"every job is queued, running, done, failed or dead",
     "SELECT count(*) FROM jobs WHERE state NOT IN ('queued', 'running', 'done', 'failed', 'dead')"},
    {"every running job has a lease (a token, an owner and an end)",
     "SELECT count(*) FROM jobs WHERE state = 'running' AND "
     "(lease_id IS NULL OR lease_owner IS NULL OR lease_expires IS NULL)"},
    {"no job that is not running holds a lease",
     "SELECT count(*) FROM jobs WHERE state <> 'running' AND lease_id IS NOT NULL"},
    {"no two running photos share a lease token",
     "SELECT count(*) FROM (SELECT lease_id FROM jobs WHERE lease_id IS NOT NULL "
     "GROUP BY lease_id HAVING count(DISTINCT photo_id) > 1) t"},
    {"every done job has its result",
     "SELECT count(*) FROM jobs j WHERE j.state = 'done' AND "
     "NOT EXISTS (SELECT 1 FROM results r WHERE r.photo_id = j.photo_id AND r.task = j.task)"},
    {"attempts are never negative", "SELECT count(*) FROM jobs WHERE attempts < 0"},
    {"every face placed in a person points to a person that exists",
     "SELECT count(*) FROM faces f WHERE f.person_id IS NOT NULL AND f.person_id > 0 AND "
     "NOT EXISTS (SELECT 1 FROM persons p WHERE p.id = f.person_id)"},
};

void run_rules(CheckReport& r, const std::function<int64_t(const std::string&)>& count) {
  for (const auto& rule : kRules) {
    r.checked.push_back(rule.sentence);
    int64_t n = count(rule.broken);
    if (n > 0) r.rules.push_back({std::string("not every row keeps the rule: ") + rule.sentence, n});
  }
}

void check_sqlite(const Library& lib, CheckReport& r) {
  std::unique_ptr<sqlite::Db> db;
  bool read_only = false;
  // A catalog of an older darkroom is brought to this one's schema first, as every other command does; one that
  // cannot be opened that way (damaged, read-only) is checked as it is.
  try {
    SqliteStore migrated(lib.catalog_path());
  } catch (const std::exception&) {
  }
  try {
    if (!fs::exists(lib.catalog_path())) throw sqlite::Error("there is no " + lib.catalog_path(), SQLITE_CANTOPEN);
    // Read-write without migrating (the full-text indexes' checks are statements SQLite treats as writes), else
    // read-only, else immutable (a WAL catalog in a folder that cannot be written has no -shm file to make): a
    // library on a read-only disk is still checked, without the indexes' checks.
    try {
      db = std::make_unique<sqlite::Db>(lib.catalog_path(), false, false, 10000);
      db->exec("SELECT count(*) FROM sqlite_master");
    } catch (const sqlite::Error& e) {
      if (!e.readonly()) throw;
      try {
        db = std::make_unique<sqlite::Db>(lib.catalog_path(), false, true, 10000);
        db->exec("SELECT count(*) FROM sqlite_master");
      } catch (const sqlite::Error& e2) {
        if (!e2.readonly()) throw;
        db = std::make_unique<sqlite::Db>("file:" + lib.catalog_path() + "?immutable=1", false, true, 10000);
        db->exec("SELECT count(*) FROM sqlite_master");
      }
    }
    // SQLite opens a file it may not write read-only without saying so.
    read_only = sqlite3_db_readonly(db->raw(), "main") != 0;
  } catch (const sqlite::Error& e) {
    r.opened = false;
    r.storage.push_back({std::string("the catalog cannot be read: ") + e.what(), 0});
    return;
  }
  auto rows = [&](const char* sql, int limit) {
    std::vector<std::string> out;
    sqlite::Stmt st(*db, sql);
    while (st.step() && int(out.size()) < limit) {
      std::string line;
      for (int c = 0; c < st.columns(); ++c) line += (c ? " " : "") + st.text(c);
      out.push_back(line);
    }
    return out;
  };
  try {
    for (const auto& line : rows("PRAGMA integrity_check(100)", 100))
      if (line != "ok") r.storage.push_back({"SQLite's integrity check: " + line, 0});
  } catch (const sqlite::Error& e) {
    r.storage.push_back({std::string("SQLite's integrity check could not finish: ") + e.what(), 0});
  }
  try {
    auto fk = rows("PRAGMA foreign_key_check", 1000);
    if (!fk.empty())
      r.storage.push_back({"rows whose photo (or other row they refer to) is missing, by SQLite's foreign key check",
                           int64_t(fk.size())});
  } catch (const sqlite::Error& e) {
    r.storage.push_back({std::string("SQLite's foreign key check could not finish: ") + e.what(), 0});
  }
  for (const char* index : {"documents_fts", "documents_trigram"}) {
    const std::string name = std::string("the search index ") + index + " matches the text it indexes";
    if (read_only) {
      r.checked.push_back(name + " (not checked: the catalog cannot be written, and the check is a write)");
      continue;
    }
    try {
      db->exec(std::string("INSERT INTO ") + index + "(" + index + ") VALUES ('integrity-check')");
      r.checked.push_back(name);
    } catch (const sqlite::Error& e) {
      if (e.damaged())
        r.storage.push_back(
            {std::string("the search index ") + index + " does not match the text it indexes (" + e.what() + ")", 0});
      else  // busy (a worker holds the write lock), or an index this catalog does not have
        r.checked.push_back(name + " (not checked: " + e.what() + ")");
    }
  }
  try {
    run_rules(r, [&](const std::string& sql) {
      sqlite::Stmt st(*db, sql);
      return st.step() ? st.i64(0) : int64_t(0);
    });
  } catch (const sqlite::Error& e) {
    r.storage.push_back({std::string("the catalog's rows could not all be read: ") + e.what(), 0});
  }
}

void check_postgres(const Library& lib, CheckReport& r) {
  try {
    pg::Conn c(lib.url());
    run_rules(r, [&](const std::string& sql) { return c.exec(sql).i64(0, 0); });
  } catch (const std::exception& e) {
    r.opened = false;
    r.storage.push_back({std::string("the catalog cannot be read: ") + e.what(), 0});
  }
}

}  // namespace

json CheckReport::to_json() const {
  auto list = [](const std::vector<CheckFinding>& v) {
    json a = json::array();
    for (const auto& f : v) a.push_back({{"problem", f.what}, {"rows", f.count}});
    return a;
  };
  return {{"library", library},       {"engine", engine},     {"ok", ok()},        {"opened", opened},
          {"storage", list(storage)}, {"rules", list(rules)}, {"checked", checked}};
}

CheckReport check(const Library& lib) {
  CheckReport r;
  r.library = lib.dir();
  r.engine = lib.shared() ? "postgresql" : "sqlite";
  if (lib.shared())
    check_postgres(lib, r);
  else
    check_sqlite(lib, r);
  return r;
}

json BackupReport::to_json() const { return {{"dest", dest}, {"bytes", bytes}, {"photos", photos}, {"jobs", jobs}}; }

BackupReport backup(const Library& lib, const std::string& dest) {
  if (lib.shared())
    throw LibraryError("a library on PostgreSQL is backed up with PostgreSQL's own tools: pg_dump -Fc -f FILE " +
                       lib.dir() + " (pg_restore puts it back)");
  BackupReport r;
  r.dest = fs::absolute(dest).lexically_normal().string();
  std::error_code ec;
  const bool existed = fs::exists(r.dest, ec);
  if (existed && !(fs::is_directory(r.dest, ec) && fs::is_empty(r.dest, ec)))
    throw LibraryError(r.dest + " already exists and is not an empty folder; a backup goes to a new folder");
  if (fs::equivalent(fs::path(r.dest), fs::path(lib.dir()), ec))
    throw LibraryError("a backup cannot go into the library's own folder");
  fs::create_directories(r.dest, ec);
  if (ec) throw LibraryError("cannot create " + r.dest + ": " + ec.message());
  const std::string out = (fs::path(r.dest) / "catalog.db").string();
  // A failed backup leaves nothing behind (the folder too, when the backup made it).
  auto undo = [&] {
    std::error_code ignored;
    for (const char* f : {"catalog.db", "catalog.db-wal", "catalog.db-shm", "settings.json"})
      fs::remove(fs::path(r.dest) / f, ignored);
    if (!existed) fs::remove(r.dest, ignored);
  };
  try {
    sqlite::Db src(lib.catalog_path(), false, true, 10000);
    sqlite::Db dst(out, true, false, 10000);
    sqlite3_backup* b = sqlite3_backup_init(dst.raw(), "main", src.raw(), "main");
    if (!b) throw sqlite::Error(std::string("cannot start the backup: ") + sqlite3_errmsg(dst.raw()), 1);
    // One step copies every page under one read transaction: the copy is of one moment. Writers go on meanwhile
    // (the catalog is in WAL mode, where a reader never blocks them).
    int rc, waits = 0;
    do {
      rc = sqlite3_backup_step(b, -1);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(50);
    } while (rc == SQLITE_OK || ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ++waits < 200));
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) throw sqlite::Error(std::string("the backup stopped: ") + sqlite3_errstr(rc), rc);
    dst.exec("PRAGMA journal_mode=WAL");
    // No worker holds a lease in the copy: its running jobs are queued again, their attempt given back.
    dst.exec(
        "UPDATE jobs SET state='queued', attempts=max(attempts-1, 0), lease_id=NULL, lease_owner=NULL, "
        "lease_expires=NULL WHERE state='running'");
    {
      sqlite::Stmt q(dst, "PRAGMA quick_check");
      if (!q.step() || q.text(0) != "ok")
        throw sqlite::Error("the copy does not pass SQLite's quick check: " + q.text(0), SQLITE_CORRUPT);
    }
    sqlite::Stmt photos(dst, "SELECT count(*) FROM photos");
    if (photos.step()) r.photos = photos.i64(0);
    sqlite::Stmt jobs(dst, "SELECT count(*) FROM jobs");
    if (jobs.step()) r.jobs = jobs.i64(0);
  } catch (const sqlite::Error& e) {
    undo();
    throw LibraryError(std::string("the backup of ") + lib.catalog_path() + " failed: " + e.what() +
                       (e.damaged() ? "; the catalog is damaged: `darkroom check` says what is wrong" : ""));
  }
  if (fs::exists(lib.settings_path())) fs::copy_file(lib.settings_path(), fs::path(r.dest) / "settings.json", ec);
  if (ec) {
    undo();
    throw LibraryError("cannot copy " + lib.settings_path() + " into " + r.dest + ": " + ec.message());
  }
  r.bytes = int64_t(fs::file_size(out, ec));
  return r;
}

}  // namespace dr::catalog
