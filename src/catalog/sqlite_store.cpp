#include "catalog/sqlite_store.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>

#include "catalog/rules.h"
#include "catalog/sqlite.h"
#include "util/utf8.h"

namespace dr::catalog {

using nlohmann::json;
using sqlite::Stmt;
using sqlite::Txn;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* to_string(JobState s) {
  switch (s) {
    case JobState::Queued:
      return "queued";
    case JobState::Running:
      return "running";
    case JobState::Done:
      return "done";
    case JobState::Failed:
      return "failed";
    case JobState::Dead:
      return "dead";
  }
  return "?";
}

std::optional<JobState> parse_job_state(const std::string& s) {
  for (auto st : {JobState::Queued, JobState::Running, JobState::Done, JobState::Failed, JobState::Dead})
    if (s == to_string(st)) return st;
  return std::nullopt;
}

namespace {

// Each entry moves the schema one version up. Never edit a released entry: add a new one.
// Later subsystems (people, vector indexes) append their own steps here.
const std::vector<const char*>& migrations() {
  static const std::vector<const char*> m = {
      // 1: photos, paths, jobs, results and the rows derived from results.
      R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta(key, value) VALUES ('lease_seq', '0');
CREATE TABLE photos(
  id INTEGER PRIMARY KEY,
  content_hash TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  width INTEGER NOT NULL DEFAULT 0,
  height INTEGER NOT NULL DEFAULT 0,
  orientation INTEGER NOT NULL DEFAULT 1,
  taken_at TEXT,
  file_date TEXT NOT NULL DEFAULT '',
  camera_make TEXT NOT NULL DEFAULT '',
  camera_model TEXT NOT NULL DEFAULT '',
  gps_lat REAL, gps_lon REAL, gps_alt REAL,
  added_ms INTEGER NOT NULL);
CREATE INDEX photos_date ON photos(coalesce(taken_at, file_date));
CREATE TABLE paths(
  path TEXT PRIMARY KEY,
  photo_id INTEGER NOT NULL REFERENCES photos(id),
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  missing INTEGER NOT NULL DEFAULT 0,
  scan_id INTEGER NOT NULL DEFAULT 0);
CREATE INDEX paths_photo ON paths(photo_id);
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  photo_id INTEGER NOT NULL REFERENCES photos(id),
  task TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued',
  attempts INTEGER NOT NULL DEFAULT 0,
  run_after INTEGER NOT NULL DEFAULT 0,
  lease_id INTEGER,
  lease_owner TEXT,
  lease_expires INTEGER,
  last_error TEXT,
  updated_ms INTEGER NOT NULL DEFAULT 0,
  UNIQUE(photo_id, task));
CREATE INDEX jobs_ready ON jobs(state, run_after);
CREATE INDEX jobs_lease ON jobs(lease_id);
CREATE TABLE results(
  photo_id INTEGER NOT NULL REFERENCES photos(id),
  task TEXT NOT NULL,
  value TEXT NOT NULL,
  models TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY(photo_id, task));
CREATE TABLE documents(
  id INTEGER PRIMARY KEY,
  photo_id INTEGER NOT NULL REFERENCES photos(id),
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  text TEXT NOT NULL);
CREATE INDEX documents_photo ON documents(photo_id, source);
CREATE VIRTUAL TABLE documents_fts USING fts5(text, content='documents', content_rowid='id',
  tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER documents_ai AFTER INSERT ON documents BEGIN
  INSERT INTO documents_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER documents_ad AFTER DELETE ON documents BEGIN
  INSERT INTO documents_fts(documents_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TABLE faces(
  id INTEGER PRIMARY KEY,
  photo_id INTEGER NOT NULL REFERENCES photos(id),
  task TEXT NOT NULL,
  x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
  score REAL NOT NULL,
  landmarks TEXT NOT NULL,
  quality REAL,
  embedding BLOB,
  person_id INTEGER);
CREATE INDEX faces_photo ON faces(photo_id);
CREATE INDEX faces_person ON faces(person_id);
CREATE TABLE embeddings(
  photo_id INTEGER NOT NULL REFERENCES photos(id),
  task TEXT NOT NULL,
  model TEXT NOT NULL,
  dim INTEGER NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY(photo_id, task, model));
CREATE INDEX embeddings_model ON embeddings(model);
)sql",
      // 2: people. A face's person and whether the user put it there live on the face row (kept across
      // re-analysis by matching the face box, see write_derived); rejections are keyed by photo and rounded box,
      // so "not this person" holds whatever face ids a later analysis gives.
      R"sql(
ALTER TABLE faces ADD COLUMN size REAL;
ALTER TABLE faces ADD COLUMN blur REAL;
ALTER TABLE faces ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
CREATE TABLE persons(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  face_id INTEGER);
CREATE TABLE face_rejections(
  photo_id INTEGER NOT NULL REFERENCES photos(id),
  x0 INTEGER NOT NULL, y0 INTEGER NOT NULL, w0 INTEGER NOT NULL, h0 INTEGER NOT NULL,
  person_id INTEGER NOT NULL,
  PRIMARY KEY(photo_id, x0, y0, w0, h0, person_id));
INSERT INTO meta(key, value) VALUES ('max_person_id', '0');
)sql",
      // 3: a trigram index of the documents, for words found inside other words: OCR of small text sometimes
      // loses the spaces of a line ("harbourwindowbluecity"), which the word index cannot search.
      R"sql(
CREATE VIRTUAL TABLE documents_trigram USING fts5(text, content='documents', content_rowid='id',
  tokenize='trigram');
INSERT INTO documents_trigram(documents_trigram) VALUES ('rebuild');
CREATE TRIGGER documents_trigram_ai AFTER INSERT ON documents BEGIN
  INSERT INTO documents_trigram(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER documents_trigram_ad AFTER DELETE ON documents BEGIN
  INSERT INTO documents_trigram(documents_trigram, rowid, text) VALUES ('delete', old.id, old.text);
END;
)sql",
      // 4: what `darkroom serve` reads often: job changes since a moment (the event stream), a task's newest
      // result (is a cached index still current?); the duplicates the user said are not duplicates; API tokens,
      // stored as sha256 only.
      R"sql(
CREATE INDEX jobs_updated ON jobs(updated_ms);
CREATE INDEX jobs_task_state ON jobs(task, state);
CREATE INDEX results_task ON results(task, updated_ms);
ALTER TABLE documents ADD COLUMN score REAL;
ALTER TABLE documents ADD COLUMN area REAL;
UPDATE documents SET
  score = (SELECT max(json_extract(o.value, '$.score')) FROM results r, json_each(r.value) o
           WHERE r.photo_id=documents.photo_id AND r.task='objects' AND json_extract(o.value, '$.label')=documents.text),
  area = (SELECT max(json_extract(o.value, '$.box[2]') * json_extract(o.value, '$.box[3]'))
          FROM results r, json_each(r.value) o
          WHERE r.photo_id=documents.photo_id AND r.task='objects' AND json_extract(o.value, '$.label')=documents.text)
  WHERE kind='label' AND source='objects';
CREATE INDEX documents_kind ON documents(kind, text, photo_id);
CREATE TABLE dupe_dismissals(
  a INTEGER NOT NULL REFERENCES photos(id),
  b INTEGER NOT NULL REFERENCES photos(id),
  PRIMARY KEY(a, b));
CREATE TABLE tokens(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  sha256 TEXT NOT NULL UNIQUE,
  created_ms INTEGER NOT NULL);
)sql",
  };
  return m;
}

bool writable(const std::string& path) {
  namespace fs = std::filesystem;
  auto dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (::access(dir.c_str(), W_OK) != 0) return false;
  return !fs::exists(path) || ::access(path.c_str(), W_OK) == 0;
}

std::string in_list(size_t n, int first) {
  std::string s = "(";
  for (size_t i = 0; i < n; ++i) s += (i ? ",?" : "?") + std::to_string(first + int(i));
  return s + ")";
}

std::string basename_of(const std::string& p) { return std::filesystem::path(p).filename().string(); }

}  // namespace

int SqliteStore::schema_version() { return int(migrations().size()); }

SqliteStore::SqliteStore(const std::string& path, const SqliteOptions& opts)
    : path_(path), busy_timeout_ms_(opts.busy_timeout_ms) {
  read_only_ = opts.read_only || (!opts.create && !writable(path));
  if (!opts.create && !std::filesystem::exists(path))
    throw StoreError("there is no catalog at " + path + "; create the library with `darkroom init`");
  guarded("opening the catalog", [&] {
    try {
      db_ = std::make_unique<sqlite::Db>(path, opts.create, read_only_, busy_timeout_ms_);
      if (read_only_) db_->exec("SELECT count(*) FROM sqlite_master");
    } catch (const sqlite::Error& e) {
      if (!read_only_) throw;
      // A WAL database in a folder we cannot write to cannot make its -shm file; read it as immutable instead.
      db_ = std::make_unique<sqlite::Db>("file:" + path + "?immutable=1", false, true, busy_timeout_ms_);
    }
    if (!read_only_) {
      db_->exec("PRAGMA journal_mode=WAL");
      db_->exec("PRAGMA synchronous=NORMAL");
    }
    db_->exec("PRAGMA foreign_keys=ON");
    migrate();
    return 0;
  });
}

SqliteStore::~SqliteStore() = default;

template <class F>
auto SqliteStore::guarded(const char* what, F&& fn) -> decltype(fn()) {
  std::lock_guard lock(mu_);
  try {
    return fn();
  } catch (const sqlite::Error& e) {
    if (e.busy())
      throw StoreError("the catalog " + path_ + " is locked by another process (waited " +
                           std::to_string(busy_timeout_ms_ / 1000.0).substr(0, 4) + " s while " + what +
                           "); try again when that process has finished",
                       true, false);
    // A disk that filled or turned read-only under a write may come back as an I/O error with the system's reason.
    const int sys = db_ && (e.code() & 0xff) == SQLITE_IOERR ? sqlite3_system_errno(db_->raw()) : 0;
    if (e.readonly() || read_only_ || sys == EROFS)
      throw StoreError("the catalog " + path_ + " cannot be written (" + e.what() +
                           "); status, show, search and dupes still work, and a library you can write to is "
                           "needed to add or analyse photos",
                       false, true);
    if (e.full() || sys == ENOSPC || sys == EDQUOT)
      throw StoreError("the disk holding the catalog " + path_ + " is full (" + e.what() + ", while " + what +
                           "); nothing was lost: jobs in hand are queued again when their leases end, and `darkroom "
                           "work` goes on once there is space",
                       false, false, true);
    if (e.damaged())
      throw StoreError("the catalog " + path_ + " is damaged (" + e.what() + ", while " + what +
                       "); `darkroom check` says what is wrong, and README.md (\"Backups\") how to restore a backup");
    throw StoreError(std::string("catalog error while ") + what + ": " + e.what());
  }
}

template <class F>
auto SqliteStore::write(const char* what, F&& fn) -> decltype(fn()) {
  return guarded(what, [&] {
    if (read_only_)
      throw StoreError("the library at " + std::filesystem::path(path_).parent_path().string() +
                           " is read-only; status, show, search and dupes still work, and a library you can write "
                           "to is needed to add or analyse photos",
                       false, true);
    if (batch_depth_ > 0) return fn();
    Txn txn(*db_);
    if constexpr (std::is_void_v<decltype(fn())>) {
      fn();
      txn.commit();
    } else {
      auto r = fn();
      txn.commit();
      return r;
    }
  });
}

void SqliteStore::migrate() {
  Stmt v(*db_, "PRAGMA user_version");
  v.step();
  int have = int(v.i64(0));
  v.reset();
  int want = schema_version();
  if (have > want)
    throw StoreError("the catalog " + path_ + " has schema version " + std::to_string(have) +
                     ", newer than this darkroom knows (" + std::to_string(want) + "); use a newer darkroom");
  if (have == want) return;
  if (read_only_)
    throw StoreError("the catalog " + path_ + " needs an upgrade (schema " + std::to_string(have) + " -> " +
                         std::to_string(want) + ") but is read-only; open it once with write access",
                     false, true);
  Txn txn(*db_);
  // Re-read inside the write lock: another process may have migrated meanwhile.
  v.step();
  have = int(v.i64(0));
  v.reset();
  for (int i = have; i < want; ++i) db_->exec(migrations()[size_t(i)]);
  db_->exec("PRAGMA user_version=" + std::to_string(want));
  txn.commit();
}

void SqliteStore::batch(const std::function<void()>& fn) {
  write("writing a batch", [&] {
    ++batch_depth_;
    try {
      fn();
    } catch (...) {
      --batch_depth_;
      throw;
    }
    --batch_depth_;
  });
}

// ---- photos and paths ----

std::optional<PathRecord> SqliteStore::find_path(const std::string& path) {
  return guarded("looking up a path", [&]() -> std::optional<PathRecord> {
    Stmt s(*db_, "SELECT photo_id, size, mtime_ns, missing FROM paths WHERE path=?1");
    s.bind(1, path);
    if (!s.step()) return std::nullopt;
    return PathRecord{s.i64(0), uint64_t(s.i64(1)), s.i64(2), s.i64(3) != 0};
  });
}

std::optional<int64_t> SqliteStore::find_photo_by_hash(const std::string& h) {
  return guarded("looking up a photo", [&]() -> std::optional<int64_t> {
    Stmt s(*db_, "SELECT id FROM photos WHERE content_hash=?1");
    s.bind(1, h);
    if (!s.step()) return std::nullopt;
    return s.i64(0);
  });
}

int64_t SqliteStore::add_photo(const PhotoFacts& f) {
  return write("adding a photo", [&] {
    Stmt s(*db_,
           "INSERT INTO photos(content_hash, size, format, width, height, orientation, taken_at, file_date, "
           "camera_make, camera_model, gps_lat, gps_lon, gps_alt, added_ms) "
           "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
    s.bind(1, f.content_hash).bind(2, int64_t(f.size)).bind(3, f.format).bind(4, f.width).bind(5, f.height);
    s.bind(6, f.orientation).bind(7, f.taken_at).bind(8, f.file_date).bind(9, f.camera_make);
    s.bind(10, f.camera_model).bind(11, f.gps_lat).bind(12, f.gps_lon).bind(13, f.gps_alt).bind(14, now_ms());
    s.run();
    return db_->last_insert_id();
  });
}

void SqliteStore::refresh_file_documents(int64_t photo_id) {
  Stmt del(*db_, "DELETE FROM documents WHERE photo_id=?1 AND source='file'");
  del.bind(1, photo_id).run();
  Stmt q(*db_, "SELECT path FROM paths WHERE photo_id=?1 AND missing=0");
  q.bind(1, photo_id);
  std::set<std::string> names;
  while (q.step()) names.insert(basename_of(q.text(0)));
  Stmt ins(*db_, "INSERT INTO documents(photo_id, source, kind, text) VALUES (?1, 'file', 'file', ?2)");
  for (const auto& n : names) ins.bind(1, photo_id).bind(2, n).run();
}

void SqliteStore::put_path(const std::string& path, int64_t photo_id, uint64_t size, int64_t mtime_ns,
                           int64_t scan_id) {
  write("recording a path", [&] {
    std::optional<int64_t> old;
    {
      Stmt q(*db_, "SELECT photo_id FROM paths WHERE path=?1");
      q.bind(1, path);
      if (q.step()) old = q.i64(0);
    }
    Stmt s(*db_,
           "INSERT INTO paths(path, photo_id, size, mtime_ns, missing, scan_id) VALUES (?1,?2,?3,?4,0,?5) "
           "ON CONFLICT(path) DO UPDATE SET photo_id=excluded.photo_id, size=excluded.size, "
           "mtime_ns=excluded.mtime_ns, missing=0, scan_id=excluded.scan_id");
    s.bind(1, path).bind(2, photo_id).bind(3, int64_t(size)).bind(4, mtime_ns).bind(5, scan_id).run();
    refresh_file_documents(photo_id);
    if (old && *old != photo_id) refresh_file_documents(*old);
  });
}

void SqliteStore::touch_path(const std::string& path, int64_t scan_id) {
  write("recording a path", [&] {
    Stmt s(*db_, "UPDATE paths SET scan_id=?2 WHERE path=?1");
    s.bind(1, path).bind(2, scan_id).run();
  });
}

std::vector<std::string> SqliteStore::unseen_paths(const std::string& root, int64_t scan_id) {
  return guarded("listing paths", [&] {
    std::string prefix = root;
    if (prefix.empty() || prefix.back() != '/') prefix += '/';
    Stmt s(*db_,
           "SELECT path FROM paths WHERE missing=0 AND scan_id<>?3 AND "
           "(path=?1 OR substr(path, 1, length(?2))=?2)");
    s.bind(1, root).bind(2, prefix).bind(3, scan_id);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  });
}

void SqliteStore::mark_missing(const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  write("marking missing files", [&] {
    std::set<int64_t> photos;
    Stmt s(*db_, "UPDATE paths SET missing=1 WHERE path=?1 RETURNING photo_id");
    for (const auto& p : paths) {
      s.bind(1, p);
      while (s.step()) photos.insert(s.i64(0));
      s.reset();
    }
    for (auto id : photos) refresh_file_documents(id);
  });
}

std::optional<Photo> SqliteStore::photo(int64_t id) {
  return guarded("reading a photo", [&]() -> std::optional<Photo> {
    Stmt s(*db_,
           "SELECT content_hash, size, format, width, height, orientation, taken_at, file_date, camera_make, "
           "camera_model, gps_lat, gps_lon, gps_alt FROM photos WHERE id=?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    Photo p;
    p.id = id;
    auto& f = p.facts;
    f.content_hash = s.text(0);
    f.size = uint64_t(s.i64(1));
    f.format = s.text(2);
    f.width = int(s.i64(3));
    f.height = int(s.i64(4));
    f.orientation = int(s.i64(5));
    f.taken_at = s.opt_text(6);
    f.file_date = s.text(7);
    f.camera_make = s.text(8);
    f.camera_model = s.text(9);
    f.gps_lat = s.opt_f64(10);
    f.gps_lon = s.opt_f64(11);
    f.gps_alt = s.opt_f64(12);
    Stmt q(*db_, "SELECT path, missing FROM paths WHERE photo_id=?1 ORDER BY path");
    q.bind(1, id);
    while (q.step()) (q.i64(1) ? p.missing_paths : p.paths).push_back(q.text(0));
    return p;
  });
}

std::vector<int64_t> SqliteStore::photo_ids() {
  return guarded("listing photos", [&] {
    Stmt s(*db_, "SELECT id FROM photos ORDER BY id");
    std::vector<int64_t> out;
    while (s.step()) out.push_back(s.i64(0));
    return out;
  });
}

std::vector<int64_t> SqliteStore::photos_with_copies() {
  return guarded("listing copies", [&] {
    Stmt s(*db_, "SELECT photo_id FROM paths WHERE missing=0 GROUP BY photo_id HAVING count(*)>1 ORDER BY photo_id");
    std::vector<int64_t> out;
    while (s.step()) out.push_back(s.i64(0));
    return out;
  });
}

std::vector<PhotoSummary> SqliteStore::list_photos(const PhotoQuery& q) {
  return guarded("listing photos", [&] {
    // Numbered parameters: ?1 limit, ?2/?3 the cursor, ?4 state, ?5 task, ?6 label, ?7 person, ?8/?9 dates.
    const std::string d = "coalesce(p.taken_at, p.file_date)";
    std::string sql = "SELECT p.id, p.content_hash, " + d +
                      ", p.format, p.width, p.height, p.taken_at IS NOT NULL, "
                      "(SELECT path FROM paths WHERE photo_id=p.id AND missing=0 ORDER BY path LIMIT 1) AS path "
                      "FROM photos p WHERE path IS NOT NULL";
    if (q.after) sql += " AND (" + d + " < ?2 OR (" + d + " = ?2 AND p.id < ?3))";
    if (!q.state.empty())
      sql += std::string(" AND EXISTS (SELECT 1 FROM jobs j WHERE j.photo_id=p.id AND j.state=?4") +
             (q.task.empty() ? "" : " AND j.task=?5") + ")";
    else if (!q.task.empty())
      sql += " AND EXISTS (SELECT 1 FROM jobs j WHERE j.photo_id=p.id AND j.task=?5)";
    if (q.has_faces) sql += " AND EXISTS (SELECT 1 FROM faces f WHERE f.photo_id=p.id)";
    if (q.has_text)
      sql +=
          " AND EXISTS (SELECT 1 FROM documents t INDEXED BY documents_photo WHERE t.photo_id=p.id AND t.source='text' "
          "AND t.kind='text')";
    if (!q.label.empty())
      sql += " AND EXISTS (SELECT 1 FROM documents t WHERE t.kind='label' AND t.text=?6 AND t.photo_id=p.id)";
    if (q.person) sql += " AND EXISTS (SELECT 1 FROM faces f WHERE f.photo_id=p.id AND f.person_id=?7)";
    if (!q.from.empty()) sql += " AND " + d + " >= ?8";
    if (!q.to.empty()) sql += " AND " + d + " <= ?9 || '~'";  // '~' sorts after every character of a date
    sql += " ORDER BY " + d + " DESC, p.id DESC LIMIT ?1";
    Stmt s(*db_, sql);
    s.bind(1, int64_t(q.limit));
    if (q.after) s.bind(2, q.after->first).bind(3, q.after->second);
    if (!q.state.empty()) s.bind(4, q.state);
    if (!q.task.empty()) s.bind(5, q.task);
    if (!q.label.empty()) s.bind(6, q.label);
    if (q.person) s.bind(7, q.person);
    if (!q.from.empty()) s.bind(8, q.from);
    if (!q.to.empty()) s.bind(9, q.to);
    std::vector<PhotoSummary> out;
    while (s.step()) {
      PhotoSummary r;
      r.id = s.i64(0);
      r.content_hash = s.text(1);
      r.date = s.text(2);
      r.format = s.text(3);
      r.width = int(s.i64(4));
      r.height = int(s.i64(5));
      r.taken = s.i64(6) != 0;
      r.path = s.text(7);
      out.push_back(std::move(r));
    }
    return out;
  });
}

// ---- jobs ----

int64_t SqliteStore::clock_ms() { return now_ms(); }

int SqliteStore::insert_jobs(int64_t photo_id, const std::vector<std::string>& tasks, int64_t now) {
  if (tasks.empty()) return 0;
  return write("queueing jobs", [&] {
    int n = 0;
    Stmt s(*db_,
           "INSERT INTO jobs(photo_id, task, state, run_after, updated_ms) VALUES (?1, ?2, 'queued', ?3, ?3) "
           "ON CONFLICT(photo_id, task) DO NOTHING");
    for (const auto& t : tasks) {
      s.bind(1, photo_id).bind(2, t).bind(3, now).run();
      n += db_->changes();
    }
    return n;
  });
}

int SqliteStore::requeue_stale(const std::string& task, const json& models, int64_t now) {
  return write("re-queueing jobs", [&] {
    Stmt s(*db_,
           "UPDATE jobs SET state='queued', attempts=0, run_after=?3, last_error=NULL, updated_ms=?3 "
           "WHERE task=?1 AND state='done' AND photo_id IN "
           "(SELECT photo_id FROM results WHERE task=?1 AND models<>?2)");
    s.bind(1, task).bind(2, models.dump()).bind(3, now).run();
    return db_->changes();
  });
}

std::vector<LeasedPhoto> SqliteStore::lease_ready(const LeaseOrder& order) {
  if (order.tokens.empty()) return {};
  return write("leasing jobs", [&] {
    const int64_t now = order.now_ms;
    const size_t want = order.tokens.size();
    std::string task_filter = order.tasks.empty() ? "" : " AND task IN " + in_list(order.tasks.size(), 3);
    std::string ready = order.expired ? "state='running' AND lease_expires<=?1" : "state='queued' AND run_after<=?1";
    // One writer at a time (this transaction): picking and leasing cannot race another process.
    std::vector<int64_t> photos;
    {
      Stmt s(*db_, "SELECT photo_id FROM jobs WHERE " + ready + task_filter +
                       (order.expired ? std::string(" ORDER BY lease_expires") : std::string(" ORDER BY run_after")) +
                       " LIMIT ?2");
      s.bind(1, now).bind(2, int64_t(want) * 8);
      for (size_t i = 0; i < order.tasks.size(); ++i) s.bind(3 + int(i), order.tasks[i]);
      while (s.step() && photos.size() < want) {
        int64_t id = s.i64(0);
        if (std::find(photos.begin(), photos.end(), id) == photos.end()) photos.push_back(id);
      }
    }
    std::vector<LeasedPhoto> out;
    Stmt upd(*db_,
             "UPDATE jobs SET state='running', lease_id=?3, lease_owner=?4, lease_expires=?5, "
             "attempts=max(attempts+?6, 0), updated_ms=?1 WHERE photo_id=?2 AND " +
                 ready + (order.tasks.empty() ? std::string() : " AND task IN " + in_list(order.tasks.size(), 7)) +
                 " RETURNING id, task, attempts");
    Stmt path(*db_,
              "SELECT (SELECT path FROM paths WHERE photo_id=?1 AND missing=0 ORDER BY path LIMIT 1), content_hash "
              "FROM photos WHERE id=?1");
    for (size_t k = 0; k < photos.size(); ++k) {
      int64_t pid = photos[k], token = order.tokens[k];
      upd.bind(1, now).bind(2, pid).bind(3, token).bind(4, order.owner).bind(5, order.until_ms);
      upd.bind(6, int64_t(order.attempt_delta));
      for (size_t i = 0; i < order.tasks.size(); ++i) upd.bind(7 + int(i), order.tasks[i]);
      LeasedPhoto lp;
      lp.photo_id = pid;
      while (upd.step()) lp.jobs.push_back(Lease{upd.i64(0), pid, token, upd.text(1), int(upd.i64(2))});
      upd.reset();
      if (lp.jobs.empty()) continue;
      path.bind(1, pid);
      if (path.step()) {
        lp.path = path.opt_text(0).value_or("");
        lp.content_hash = path.text(1);
      }
      path.reset();
      out.push_back(std::move(lp));
    }
    return out;
  });
}

int SqliteStore::extend_leases(const std::vector<int64_t>& tokens, int64_t until_ms) {
  if (tokens.empty()) return 0;
  return write("renewing leases", [&] {
    int n = 0;
    Stmt s(*db_, "UPDATE jobs SET lease_expires=?2 WHERE lease_id=?1 AND state='running'");
    for (auto id : tokens) {
      s.bind(1, id).bind(2, until_ms).run();
      n += db_->changes();
    }
    return n;
  });
}

void SqliteStore::write_derived(int64_t photo_id, const std::string& task, const Derived& derived) {
  if (!has_deriver(task)) return;  // no rows could exist: nothing to delete or write
  // The person of each face there was, by box, so that analysing a photo again keeps its people.
  Derived d = derived;
  {
    std::vector<FaceRow> old;
    Stmt q(*db_,
           "SELECT x, y, w, h, person_id, pinned FROM faces WHERE photo_id=?1 AND task=?2 AND "
           "person_id IS NOT NULL");
    q.bind(1, photo_id).bind(2, task);
    while (q.step()) {
      FaceRow f;
      for (int i = 0; i < 4; ++i) f.box[i] = float(q.f64(i));
      f.person_id = q.i64(4);
      f.pinned = q.i64(5) != 0;
      old.push_back(f);
    }
    carry_people(old, d.faces);
  }
  Stmt del_docs(*db_, "DELETE FROM documents WHERE photo_id=?1 AND source=?2");
  del_docs.bind(1, photo_id).bind(2, task).run();
  Stmt del_faces(*db_, "DELETE FROM faces WHERE photo_id=?1 AND task=?2");
  del_faces.bind(1, photo_id).bind(2, task).run();
  Stmt del_emb(*db_, "DELETE FROM embeddings WHERE photo_id=?1 AND task=?2");
  del_emb.bind(1, photo_id).bind(2, task).run();
  if (!d.documents.empty()) {
    Stmt ins(*db_, "INSERT INTO documents(photo_id, source, kind, text, score, area) VALUES (?1,?2,?3,?4,?5,?6)");
    for (const auto& doc : d.documents)
      ins.bind(1, photo_id)
          .bind(2, task)
          .bind(3, doc.kind)
          .bind(4, doc.text)
          .bind(5, doc.score)
          .bind(6, doc.area)
          .run();
  }
  if (!d.faces.empty()) {
    Stmt ins(*db_,
             "INSERT INTO faces(photo_id, task, x, y, w, h, score, landmarks, quality, embedding, person_id, size, "
             "blur, pinned) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
    for (const auto& f : d.faces) {
      ins.bind(1, photo_id).bind(2, task);
      for (int i = 0; i < 4; ++i) ins.bind(3 + i, double(f.box[i]));
      ins.bind(7, double(f.score)).bind(8, f.landmarks.dump());
      if (f.quality)
        ins.bind(9, double(*f.quality));
      else
        ins.bind_null(9);
      if (f.embedding.empty()) {
        ins.bind_null(10);
      } else {
        auto b = to_blob(f.embedding);
        ins.bind_blob(10, b.data(), b.size());
      }
      auto person = f.person_id;
      bool pinned = f.pinned;
      ins.bind(11, person);
      ins.bind(12, f.size ? std::optional<double>(*f.size) : std::nullopt);
      ins.bind(13, f.blur ? std::optional<double>(*f.blur) : std::nullopt);
      ins.bind(14, int64_t(pinned));
      ins.run();
    }
  }
  if (!d.embeddings.empty()) {
    Stmt ins(*db_, "INSERT OR REPLACE INTO embeddings(photo_id, task, model, dim, vector) VALUES (?1,?2,?3,?4,?5)");
    for (const auto& e : d.embeddings) {
      auto b = to_blob(e.vector);
      ins.bind(1, photo_id).bind(2, task).bind(3, e.model).bind(4, int64_t(e.vector.size()));
      ins.bind_blob(5, b.data(), b.size()).run();
    }
  }
}

bool SqliteStore::complete(const Lease& lease, const json& result, const json& models, int64_t now) {
  // Derive outside the lock: it is pure.
  Derived d = derive(lease.task, result, models);
  std::string value = result.dump(), model_text = models.dump();
  return write("storing a result", [&] {
    Stmt s(*db_,
           "UPDATE jobs SET state='done', lease_id=NULL, lease_owner=NULL, lease_expires=NULL, last_error=NULL, "
           "updated_ms=?3 WHERE id=?1 AND lease_id=?2 AND state='running'");
    s.bind(1, lease.job_id).bind(2, lease.lease_id).bind(3, now).run();
    if (db_->changes() != 1) return false;  // the lease was lost: the transaction commits nothing
    Stmt r(*db_,
           "INSERT INTO results(photo_id, task, value, models, updated_ms) VALUES (?1,?2,?3,?4,?5) "
           "ON CONFLICT(photo_id, task) DO UPDATE SET value=excluded.value, models=excluded.models, "
           "updated_ms=excluded.updated_ms");
    r.bind(1, lease.photo_id).bind(2, lease.task).bind(3, value).bind(4, model_text).bind(5, now).run();
    write_derived(lease.photo_id, lease.task, d);
    return true;
  });
}

bool SqliteStore::finish(const Lease& lease, JobState next, int64_t run_after_ms,
                         const std::optional<std::string>& error, int attempt_delta, int64_t now) {
  return write("recording the end of a job's run", [&] {
    Stmt s(*db_,
           "UPDATE jobs SET state=?3, run_after=?4, last_error=coalesce(?5, last_error), "
           "attempts=max(attempts+?7, 0), lease_id=NULL, lease_owner=NULL, lease_expires=NULL, updated_ms=?6 "
           "WHERE id=?1 AND lease_id=?2 AND state='running'");
    s.bind(1, lease.job_id).bind(2, lease.lease_id).bind(3, to_string(next)).bind(4, run_after_ms);
    s.bind(5, error).bind(6, now).bind(7, int64_t(attempt_delta)).run();
    return db_->changes() == 1;
  });
}

std::vector<std::string> SqliteStore::lease_owners() {
  return guarded("listing leases", [&] {
    Stmt s(*db_, "SELECT DISTINCT lease_owner FROM jobs WHERE state='running' AND lease_owner IS NOT NULL");
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  });
}

int SqliteStore::expire_leases(const std::string& owner, bool give_back_attempt) {
  return write("reclaiming leases", [&] {
    Stmt s(*db_,
           "UPDATE jobs SET lease_expires=0, attempts=max(attempts-?2, 0) WHERE state='running' AND lease_owner=?1");
    s.bind(1, owner).bind(2, give_back_attempt ? 1 : 0).run();
    return db_->changes();
  });
}

int SqliteStore::requeue(const std::vector<JobState>& states, const std::vector<int64_t>& photo_ids, int64_t now) {
  if (states.empty()) return 0;
  return write("re-queueing jobs", [&] {
    std::string sql =
        "UPDATE jobs SET state='queued', attempts=0, run_after=?1, last_error=NULL, updated_ms=?1 WHERE state IN " +
        in_list(states.size(), 2);
    if (!photo_ids.empty()) sql += " AND photo_id IN " + in_list(photo_ids.size(), 2 + int(states.size()));
    Stmt s(*db_, sql);
    s.bind(1, now);
    int i = 2;
    for (auto st : states) s.bind(i++, to_string(st));
    for (auto id : photo_ids) s.bind(i++, id);
    s.run();
    return db_->changes();
  });
}

int64_t SqliteStore::photo_count() {
  return guarded("counting photos", [&] {
    Stmt p(*db_, "SELECT count(DISTINCT photo_id) FROM paths WHERE missing=0");
    p.step();
    return p.i64(0);
  });
}

std::map<std::string, std::map<std::string, int64_t>> SqliteStore::job_counts() {
  return guarded("counting jobs", [&] {
    std::map<std::string, std::map<std::string, int64_t>> out;
    Stmt s(*db_, "SELECT task, state, count(*) FROM jobs GROUP BY task, state");
    while (s.step()) out[s.text(0)][s.text(1)] += s.i64(2);
    return out;
  });
}

int64_t SqliteStore::pending(const std::vector<std::string>& tasks) {
  return guarded("counting jobs", [&] {
    std::string sql = "SELECT count(*) FROM jobs WHERE state IN ('queued','running')";
    if (!tasks.empty()) sql += " AND task IN " + in_list(tasks.size(), 1);
    Stmt s(*db_, sql);
    for (size_t i = 0; i < tasks.size(); ++i) s.bind(1 + int(i), tasks[i]);
    s.step();
    return s.i64(0);
  });
}

int64_t SqliteStore::pending_photos() {
  return guarded("counting jobs", [&] {
    Stmt s(*db_, "SELECT count(DISTINCT photo_id) FROM jobs WHERE state IN ('queued','running')");
    s.step();
    return s.i64(0);
  });
}

std::optional<int64_t> SqliteStore::next_due_ms(const std::vector<std::string>& tasks) {
  return guarded("reading the queue", [&]() -> std::optional<int64_t> {
    std::string filter = tasks.empty() ? "" : " AND task IN " + in_list(tasks.size(), 1);
    Stmt s(*db_, "SELECT min(v) FROM (SELECT min(run_after) v FROM jobs WHERE state='queued'" + filter +
                     " UNION ALL SELECT min(lease_expires) FROM jobs WHERE state='running'" + filter + ")");
    for (size_t i = 0; i < tasks.size(); ++i) s.bind(1 + int(i), tasks[i]);
    s.step();
    if (s.is_null(0)) return std::nullopt;
    return s.i64(0);
  });
}

std::vector<FailureRow> SqliteStore::failures(size_t limit) {
  return guarded("listing failures", [&] {
    Stmt s(*db_,
           "SELECT j.photo_id, j.task, coalesce(j.last_error, ''), j.attempts, j.state, "
           "(SELECT path FROM paths p WHERE p.photo_id=j.photo_id ORDER BY missing, path LIMIT 1) "
           "FROM jobs j WHERE j.state IN ('failed','dead') ORDER BY j.updated_ms DESC, j.id LIMIT ?1");
    s.bind(1, int64_t(limit));
    std::vector<FailureRow> out;
    while (s.step())
      out.push_back(FailureRow{s.i64(0), s.text(5), s.text(1), s.text(2), int(s.i64(3)),
                               parse_job_state(s.text(4)).value_or(JobState::Failed)});
    return out;
  });
}

std::vector<JobInfo> SqliteStore::jobs_of(int64_t photo_id) {
  return guarded("reading jobs", [&] {
    Stmt s(*db_,
           "SELECT j.id, j.task, j.state, j.attempts, coalesce(j.last_error, ''), j.run_after, r.models "
           "FROM jobs j LEFT JOIN results r ON r.photo_id=j.photo_id AND r.task=j.task "
           "WHERE j.photo_id=?1 ORDER BY j.id");
    s.bind(1, photo_id);
    std::vector<JobInfo> out;
    while (s.step()) {
      JobInfo j;
      j.id = s.i64(0);
      j.photo_id = photo_id;
      j.task = s.text(1);
      j.state = parse_job_state(s.text(2)).value_or(JobState::Queued);
      j.attempts = int(s.i64(3));
      j.error = s.text(4);
      j.run_after_ms = s.i64(5);
      j.models = s.is_null(6) ? json() : json::parse(s.text(6), nullptr, false);
      out.push_back(std::move(j));
    }
    return out;
  });
}

// ---- results ----

std::vector<JobChange> SqliteStore::job_changes(int64_t since_ms, size_t limit) {
  return guarded("reading job changes", [&] {
    Stmt s(*db_,
           "SELECT id, photo_id, task, state, updated_ms FROM jobs WHERE updated_ms>?1 ORDER BY updated_ms, id "
           "LIMIT ?2");
    s.bind(1, since_ms).bind(2, int64_t(limit));
    std::vector<JobChange> out;
    while (s.step())
      out.push_back({s.i64(0), s.i64(1), s.text(2), parse_job_state(s.text(3)).value_or(JobState::Queued), s.i64(4)});
    return out;
  });
}

std::optional<StoredResult> SqliteStore::result(int64_t photo_id, const std::string& task) {
  return guarded("reading a result", [&]() -> std::optional<StoredResult> {
    Stmt s(*db_, "SELECT value, models, updated_ms FROM results WHERE photo_id=?1 AND task=?2");
    s.bind(1, photo_id).bind(2, task);
    if (!s.step()) return std::nullopt;
    return StoredResult{json::parse(s.text(0), nullptr, false), json::parse(s.text(1), nullptr, false), s.i64(2)};
  });
}

TaskStamp SqliteStore::task_stamp(const std::string& task) {
  return guarded("reading results", [&] {
    Stmt s(*db_, "SELECT count(*), coalesce(max(updated_ms), 0) FROM results WHERE task=?1");
    s.bind(1, task);
    s.step();
    return TaskStamp{s.i64(0), s.i64(1)};
  });
}

void SqliteStore::restore_job(int64_t photo_id, const JobInfo& job) {
  write("copying a job", [&] {
    JobState st = job.state == JobState::Running ? JobState::Queued : job.state;
    Stmt s(*db_,
           "INSERT INTO jobs(photo_id, task, state, attempts, run_after, last_error, updated_ms) VALUES "
           "(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(photo_id, task) DO UPDATE SET state=excluded.state, "
           "attempts=excluded.attempts, run_after=excluded.run_after, last_error=excluded.last_error");
    s.bind(1, photo_id).bind(2, job.task).bind(3, to_string(st)).bind(4, int64_t(job.attempts));
    s.bind(5, job.run_after_ms).bind(6, job.error.empty() ? std::nullopt : std::optional<std::string>(job.error));
    s.bind(7, now_ms()).run();
  });
}

void SqliteStore::restore_result(int64_t photo_id, const std::string& task, const StoredResult& r) {
  Derived d = derive(task, r.value, r.models);
  write("copying a result", [&] {
    Stmt s(*db_,
           "INSERT INTO results(photo_id, task, value, models, updated_ms) VALUES (?1,?2,?3,?4,?5) "
           "ON CONFLICT(photo_id, task) DO UPDATE SET value=excluded.value, models=excluded.models, "
           "updated_ms=excluded.updated_ms");
    s.bind(1, photo_id).bind(2, task).bind(3, r.value.dump()).bind(4, r.models.dump()).bind(5, r.updated_ms).run();
    write_derived(photo_id, task, d);
  });
}

std::map<std::string, StoredResult> SqliteStore::results(int64_t photo_id) {
  return guarded("reading results", [&] {
    Stmt s(*db_, "SELECT task, value, models, updated_ms FROM results WHERE photo_id=?1");
    s.bind(1, photo_id);
    std::map<std::string, StoredResult> out;
    while (s.step())
      out[s.text(0)] =
          StoredResult{json::parse(s.text(1), nullptr, false), json::parse(s.text(2), nullptr, false), s.i64(3)};
    return out;
  });
}

std::vector<std::pair<int64_t, json>> SqliteStore::results_of_task(const std::string& task) {
  return guarded("reading results", [&] {
    Stmt s(*db_, "SELECT photo_id, value FROM results WHERE task=?1 ORDER BY photo_id");
    s.bind(1, task);
    std::vector<std::pair<int64_t, json>> out;
    while (s.step()) out.emplace_back(s.i64(0), json::parse(s.text(1), nullptr, false));
    return out;
  });
}

std::vector<DocumentHit> SqliteStore::search_documents(const std::string& q, size_t limit,
                                                       const std::string& skip_kind) {
  return guarded("searching", [&] {
    Stmt s(*db_,
           "SELECT d.photo_id, -bm25(documents_fts), d.kind, d.text FROM documents_fts "
           "CROSS JOIN documents d ON d.id=documents_fts.rowid WHERE documents_fts MATCH ?1 AND d.kind<>?3 "
           "ORDER BY bm25(documents_fts) LIMIT ?2");
    s.bind(1, q).bind(2, int64_t(limit)).bind(3, skip_kind);
    std::vector<DocumentHit> out;
    while (s.step()) out.push_back(DocumentHit{s.i64(0), s.f64(1), s.text(2), s.text(3)});
    return out;
  });
}

std::vector<DocumentHit> SqliteStore::search_substrings(const std::vector<std::string>& substrings,
                                                        const std::string& kind,
                                                        const std::function<bool(const std::string&)>& keep,
                                                        size_t limit) {
  std::string q;
  for (const auto& sub : substrings) {
    if (util::utf8_length(sub) < 3) return {};  // the trigram index cannot look for fewer than 3 characters
    std::string quoted = "\"";
    for (char c : sub) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    q += (q.empty() ? "" : " ") + quoted + "\"";
  }
  if (q.empty() || limit == 0) return {};
  return guarded("searching", [&] {
    // No LIMIT: `keep` decides, and a common word's first rows may all be refused.
    Stmt s(*db_,
           "SELECT d.photo_id, d.kind, d.text FROM documents_trigram CROSS JOIN documents d "
           "ON d.id=documents_trigram.rowid WHERE documents_trigram MATCH ?1 AND d.kind=?2");
    s.bind(1, q).bind(2, kind);
    std::vector<DocumentHit> out;
    while (out.size() < limit && s.step()) {
      std::string text = s.text(2);
      if (keep(text)) out.push_back(DocumentHit{s.i64(0), 0.0, s.text(1), std::move(text)});
    }
    return out;
  });
}

std::vector<std::pair<int64_t, std::string>> SqliteStore::photos_by_date(const std::string& prefix, size_t limit) {
  return guarded("searching dates", [&] {
    Stmt s(*db_,
           "SELECT id, coalesce(taken_at, file_date) FROM photos WHERE coalesce(taken_at, file_date)>=?1 AND "
           "coalesce(taken_at, file_date)<?2 ORDER BY coalesce(taken_at, file_date) LIMIT ?3");
    s.bind(1, prefix).bind(2, prefix + "~").bind(3, int64_t(limit));
    std::vector<std::pair<int64_t, std::string>> out;
    while (s.step()) out.emplace_back(s.i64(0), s.text(1));
    return out;
  });
}

std::vector<LabelHit> SqliteStore::photos_with_label(const std::string& label) {
  return guarded("searching labels", [&] {
    Stmt s(*db_,
           "SELECT d.photo_id, d.score, d.area, p.width, p.height FROM documents d JOIN photos p ON p.id=d.photo_id "
           "WHERE d.kind='label' AND d.text=?1 ORDER BY d.photo_id");
    s.bind(1, label);
    std::vector<LabelHit> out;
    while (s.step()) out.push_back({s.i64(0), s.opt_f64(1), s.opt_f64(2), double(s.i64(3)) * double(s.i64(4))});
    return out;
  });
}

std::vector<FaceRow> SqliteStore::faces_of(int64_t photo_id) {
  return guarded("reading faces", [&] {
    Stmt s(*db_,
           "SELECT id, x, y, w, h, score, landmarks, quality, embedding, person_id FROM faces WHERE photo_id=?1 "
           "ORDER BY id");
    s.bind(1, photo_id);
    std::vector<FaceRow> out;
    while (s.step()) {
      FaceRow f;
      f.id = s.i64(0);
      f.photo_id = photo_id;
      for (int i = 0; i < 4; ++i) f.box[i] = float(s.f64(1 + i));
      f.score = float(s.f64(5));
      f.landmarks = json::parse(s.text(6), nullptr, false);
      if (!s.is_null(7)) f.quality = float(s.f64(7));
      if (!s.is_null(8)) f.embedding = from_blob(s.blob(8));
      if (!s.is_null(9)) f.person_id = s.i64(9);
      out.push_back(std::move(f));
    }
    return out;
  });
}

namespace {
FaceRow face_row(const Stmt& s) {
  // columns: id, photo_id, x, y, w, h, score, landmarks, quality, embedding, person_id, size, blur, pinned
  FaceRow f;
  f.id = s.i64(0);
  f.photo_id = s.i64(1);
  for (int i = 0; i < 4; ++i) f.box[i] = float(s.f64(2 + i));
  f.score = float(s.f64(6));
  f.landmarks = json::parse(s.text(7), nullptr, false);
  if (!s.is_null(8)) f.quality = float(s.f64(8));
  if (!s.is_null(9)) f.embedding = from_blob(s.blob(9));
  if (!s.is_null(10)) f.person_id = s.i64(10);
  if (!s.is_null(11)) f.size = float(s.f64(11));
  if (!s.is_null(12)) f.blur = float(s.f64(12));
  f.pinned = s.i64(13) != 0;
  return f;
}
const char* kFaceColumns =
    "SELECT id, photo_id, x, y, w, h, score, landmarks, quality, embedding, person_id, size, blur, pinned FROM faces ";
}  // namespace

std::vector<EmbeddingRow> SqliteStore::embeddings(const std::string& model) {
  return guarded("reading embeddings", [&] {
    Stmt s(*db_, "SELECT photo_id, vector FROM embeddings WHERE model=?1 ORDER BY photo_id");
    s.bind(1, model);
    std::vector<EmbeddingRow> out;
    while (s.step()) out.push_back(EmbeddingRow{s.i64(0), model, from_blob(s.blob(1))});
    return out;
  });
}

// ---- people ----

std::vector<FaceRow> SqliteStore::all_faces() {
  return guarded("reading faces", [&] {
    Stmt s(*db_, std::string(kFaceColumns) + "WHERE embedding IS NOT NULL ORDER BY id");
    std::vector<FaceRow> out;
    while (s.step()) out.push_back(face_row(s));
    return out;
  });
}

std::optional<FaceRow> SqliteStore::face(int64_t id) {
  return guarded("reading a face", [&]() -> std::optional<FaceRow> {
    Stmt s(*db_, std::string(kFaceColumns) + "WHERE id=?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return face_row(s);
  });
}

std::vector<std::pair<int64_t, int64_t>> SqliteStore::rejections() {
  return guarded("reading rejections", [&] {
    Stmt s(*db_,
           "SELECT f.id, r.person_id FROM face_rejections r JOIN faces f ON f.photo_id=r.photo_id AND "
           "round(f.x)=r.x0 AND round(f.y)=r.y0 AND round(f.w)=r.w0 AND round(f.h)=r.h0 ORDER BY f.id");
    std::vector<std::pair<int64_t, int64_t>> out;
    while (s.step()) out.emplace_back(s.i64(0), s.i64(1));
    return out;
  });
}

void SqliteStore::write_assignments(const std::vector<FaceAssignment>& assignments,
                                    const std::vector<int64_t>& new_persons) {
  write("storing people", [&] {
    Stmt ins(*db_, "INSERT OR IGNORE INTO persons(id, name) VALUES (?1, '')");
    int64_t top = 0;
    for (auto id : new_persons) {
      ins.bind(1, id).run();
      top = std::max(top, id);
    }
    Stmt seq(*db_, "UPDATE meta SET value=max(CAST(value AS INTEGER), ?1) WHERE key='max_person_id'");
    seq.bind(1, top).run();
    Stmt upd(*db_, "UPDATE faces SET person_id=?2 WHERE id=?1 AND pinned=0");
    for (const auto& a : assignments) {
      upd.bind(1, a.face_id);
      if (a.person_id)
        upd.bind(2, a.person_id);
      else
        upd.bind_null(2);
      upd.run();
    }
    db_->exec("DELETE FROM persons WHERE name='' AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id=persons.id)");
  });
}

std::vector<PersonRow> SqliteStore::persons() {
  return guarded("reading people", [&] {
    Stmt s(*db_,
           "SELECT p.id, p.name, count(f.id), (SELECT g.photo_id FROM faces g WHERE g.person_id=p.id ORDER BY "
           "coalesce(g.size, min(g.w, g.h)) DESC, g.id LIMIT 1) FROM persons p JOIN faces f ON f.person_id=p.id "
           "GROUP BY p.id ORDER BY p.id");
    std::vector<PersonRow> out;
    while (s.step()) out.push_back(PersonRow{s.i64(0), s.text(1), s.i64(2), s.is_null(3) ? 0 : s.i64(3)});
    return out;
  });
}

std::optional<PersonRow> SqliteStore::person(int64_t id) {
  return guarded("reading a person", [&]() -> std::optional<PersonRow> {
    Stmt s(*db_,
           "SELECT p.id, p.name, (SELECT count(*) FROM faces f WHERE f.person_id=p.id), (SELECT g.photo_id FROM "
           "faces g WHERE g.person_id=p.id ORDER BY coalesce(g.size, min(g.w, g.h)) DESC, g.id LIMIT 1) "
           "FROM persons p WHERE p.id=?1");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return PersonRow{s.i64(0), s.text(1), s.i64(2), s.is_null(3) ? 0 : s.i64(3)};
  });
}

int64_t SqliteStore::max_person_id() {
  return guarded("reading people", [&] {
    Stmt s(*db_,
           "SELECT max(coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key='max_person_id'), 0), "
           "coalesce((SELECT max(id) FROM persons), 0))");
    s.step();
    return s.i64(0);
  });
}

void SqliteStore::name_person(int64_t id, const std::string& name) {
  write("naming a person", [&] {
    Stmt s(*db_, "UPDATE persons SET name=?2 WHERE id=?1");
    s.bind(1, id).bind(2, name).run();
  });
}

void SqliteStore::merge_persons(int64_t into, int64_t from) {
  write("merging people", [&] {
    // The user has looked at both and says they are one person: every face of both stays where it is now put.
    Stmt f(*db_, "UPDATE faces SET person_id=?1, pinned=1 WHERE person_id IN (?1, ?2)");
    f.bind(1, into).bind(2, from).run();
    Stmt n(*db_, "UPDATE persons SET name=(SELECT name FROM persons WHERE id=?2) WHERE id=?1 AND name='' ");
    n.bind(1, into).bind(2, from).run();
    // A face rejected from either person stays out of the merged one.
    Stmt r(*db_, "UPDATE OR IGNORE face_rejections SET person_id=?1 WHERE person_id=?2");
    r.bind(1, into).bind(2, from).run();
    // ...except the faces the user has just put there: the latest decision wins.
    Stmt k(*db_,
           "DELETE FROM face_rejections WHERE person_id=?1 AND (photo_id, x0, y0, w0, h0) IN (SELECT photo_id, "
           "round(x), round(y), round(w), round(h) FROM faces WHERE person_id=?1)");
    k.bind(1, into).run();
    Stmt d(*db_, "DELETE FROM persons WHERE id=?1");
    d.bind(1, from).run();
  });
}

void SqliteStore::move_face(int64_t face_id, int64_t person_id) {
  write("moving a face", [&] {
    Stmt s(*db_, "UPDATE faces SET person_id=?2, pinned=1 WHERE id=?1");
    s.bind(1, face_id);
    if (person_id)
      s.bind(2, person_id);
    else
      s.bind_null(2);
    s.run();
    // The user's placement overrides an earlier "not this person".
    Stmt r(*db_,
           "DELETE FROM face_rejections WHERE person_id=?2 AND (photo_id, x0, y0, w0, h0) IN (SELECT photo_id, "
           "round(x), round(y), round(w), round(h) FROM faces WHERE id=?1)");
    r.bind(1, face_id).bind(2, person_id).run();
    db_->exec("DELETE FROM persons WHERE name='' AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id=persons.id)");
  });
}

void SqliteStore::reject_face(int64_t face_id, int64_t person_id) {
  write("rejecting a face", [&] {
    Stmt r(*db_,
           "INSERT OR IGNORE INTO face_rejections(photo_id, x0, y0, w0, h0, person_id) SELECT photo_id, round(x), "
           "round(y), round(w), round(h), ?2 FROM faces WHERE id=?1");
    r.bind(1, face_id).bind(2, person_id).run();
    Stmt s(*db_, "UPDATE faces SET person_id=NULL, pinned=0 WHERE id=?1 AND person_id=?2");
    s.bind(1, face_id).bind(2, person_id).run();
  });
}

std::vector<std::pair<int64_t, std::string>> SqliteStore::photos_of_people_named(const std::string& query) {
  if (!has_name_words(query)) return {};
  return guarded("searching people", [&] {
    Stmt s(*db_, "SELECT id, name FROM persons WHERE name<>'' ORDER BY id");
    std::vector<std::pair<int64_t, std::string>> named;
    while (s.step()) {
      auto name = s.text(1);
      if (name_matches(query, name)) named.emplace_back(s.i64(0), name);
    }
    std::vector<std::pair<int64_t, std::string>> out;
    Stmt q(*db_, "SELECT DISTINCT photo_id FROM faces WHERE person_id=?1 ORDER BY photo_id");
    for (const auto& [id, name] : named) {
      q.bind(1, id);
      while (q.step()) out.emplace_back(q.i64(0), name);
      q.reset();
    }
    return out;
  });
}

// ---- duplicates the user reviewed ----

void SqliteStore::dismiss_duplicates(const std::vector<int64_t>& photo_ids) {
  std::vector<int64_t> ids(photo_ids);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() < 2) return;
  write("recording photos that are not duplicates", [&] {
    Stmt s(*db_, "INSERT OR IGNORE INTO dupe_dismissals(a, b) VALUES (?1, ?2)");
    for (size_t i = 0; i < ids.size(); ++i)
      for (size_t j = i + 1; j < ids.size(); ++j) s.bind(1, ids[i]).bind(2, ids[j]).run();
  });
}

std::vector<std::pair<int64_t, int64_t>> SqliteStore::dismissed_pairs() {
  return guarded("reading reviewed duplicates", [&] {
    Stmt s(*db_, "SELECT a, b FROM dupe_dismissals ORDER BY a, b");
    std::vector<std::pair<int64_t, int64_t>> out;
    while (s.step()) out.emplace_back(s.i64(0), s.i64(1));
    return out;
  });
}

// ---- API tokens ----

int64_t SqliteStore::add_token(const std::string& name, const std::string& sha256) {
  return write("storing a token", [&] {
    Stmt s(*db_, "INSERT INTO tokens(name, sha256, created_ms) VALUES (?1, ?2, ?3)");
    s.bind(1, name).bind(2, sha256).bind(3, now_ms()).run();
    return db_->last_insert_id();
  });
}

std::vector<TokenRow> SqliteStore::tokens() {
  return guarded("listing tokens", [&] {
    Stmt s(*db_, "SELECT id, name, sha256, created_ms FROM tokens ORDER BY id");
    std::vector<TokenRow> out;
    while (s.step()) out.push_back({s.i64(0), s.text(1), s.text(2), s.i64(3)});
    return out;
  });
}

std::optional<TokenRow> SqliteStore::token_by_sha256(const std::string& sha256) {
  return guarded("checking a token", [&]() -> std::optional<TokenRow> {
    Stmt s(*db_, "SELECT id, name, sha256, created_ms FROM tokens WHERE sha256=?1");
    s.bind(1, sha256);
    if (!s.step()) return std::nullopt;
    return TokenRow{s.i64(0), s.text(1), s.text(2), s.i64(3)};
  });
}

bool SqliteStore::revoke_token(int64_t id) {
  return write("revoking a token", [&] {
    Stmt s(*db_, "DELETE FROM tokens WHERE id=?1");
    s.bind(1, id).run();
    return db_->changes() > 0;
  });
}

}  // namespace dr::catalog
