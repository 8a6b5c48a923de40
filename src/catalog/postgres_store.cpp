#include "catalog/postgres_store.h"

#include <poll.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "catalog/postgres.h"
#include "catalog/rules.h"

namespace dr::catalog {

using nlohmann::json;
using pg::Conn;
using pg::Params;

bool is_postgres_url(const std::string& s) {
  return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0;
}

namespace {

int64_t local_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Each entry moves the schema one version up. Never edit a released entry: add a new one. The same tables as the
// SQLite catalog's, in PostgreSQL's types; documents carry their own tsvector (English stemming, accents folded, and
// words split at every character that is not a letter or digit, as SQLite's unicode61 tokenizer does:
// "beach_sunset.jpg" is beach, sunset, jpg).
const std::vector<const char*>& migrations() {
  static const std::vector<const char*> m = {
      R"sql(
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE OR REPLACE FUNCTION darkroom_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
CREATE TABLE photos(
  id BIGSERIAL PRIMARY KEY,
  content_hash TEXT NOT NULL UNIQUE,
  size BIGINT NOT NULL,
  format TEXT NOT NULL DEFAULT '',
  width INT NOT NULL DEFAULT 0,
  height INT NOT NULL DEFAULT 0,
  orientation INT NOT NULL DEFAULT 1,
  taken_at TEXT,
  file_date TEXT NOT NULL DEFAULT '',
  camera_make TEXT NOT NULL DEFAULT '',
  camera_model TEXT NOT NULL DEFAULT '',
  gps_lat DOUBLE PRECISION, gps_lon DOUBLE PRECISION, gps_alt DOUBLE PRECISION,
  added_ms BIGINT NOT NULL);
CREATE INDEX photos_date ON photos((coalesce(taken_at, file_date)), id);
CREATE TABLE paths(
  path TEXT PRIMARY KEY,
  photo_id BIGINT NOT NULL REFERENCES photos(id),
  size BIGINT NOT NULL,
  mtime_ns BIGINT NOT NULL,
  missing BOOLEAN NOT NULL DEFAULT false,
  scan_id BIGINT NOT NULL DEFAULT 0);
CREATE INDEX paths_photo ON paths(photo_id);
CREATE TABLE jobs(
  id BIGSERIAL PRIMARY KEY,
  photo_id BIGINT NOT NULL REFERENCES photos(id),
  task TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'queued',
  attempts INT NOT NULL DEFAULT 0,
  run_after BIGINT NOT NULL DEFAULT 0,
  lease_id BIGINT,
  lease_owner TEXT,
  lease_expires BIGINT,
  last_error TEXT,
  updated_ms BIGINT NOT NULL DEFAULT 0,
  UNIQUE(photo_id, task));
CREATE INDEX jobs_queued ON jobs(run_after) WHERE state='queued';
CREATE INDEX jobs_running ON jobs(lease_expires) WHERE state='running';
CREATE INDEX jobs_lease ON jobs(lease_id);
CREATE INDEX jobs_updated ON jobs(updated_ms);
CREATE INDEX jobs_task_state ON jobs(task, state);
CREATE TABLE results(
  photo_id BIGINT NOT NULL REFERENCES photos(id),
  task TEXT NOT NULL,
  value TEXT NOT NULL,
  models TEXT NOT NULL,
  updated_ms BIGINT NOT NULL,
  PRIMARY KEY(photo_id, task));
CREATE INDEX results_task ON results(task, updated_ms);
CREATE TABLE documents(
  id BIGSERIAL PRIMARY KEY,
  photo_id BIGINT NOT NULL REFERENCES photos(id),
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  text TEXT NOT NULL,
  score DOUBLE PRECISION,
  area DOUBLE PRECISION,
  tsv tsvector GENERATED ALWAYS AS
    (to_tsvector('english', darkroom_unaccent(regexp_replace(text, '[^[:alnum:]]+', ' ', 'g')))) STORED);
CREATE INDEX documents_photo ON documents(photo_id, source);
CREATE INDEX documents_kind ON documents(kind, text, photo_id);
CREATE INDEX documents_tsv ON documents USING GIN(tsv);
CREATE INDEX documents_trgm ON documents USING GIN(lower(text) gin_trgm_ops);
CREATE TABLE faces(
  id BIGSERIAL PRIMARY KEY,
  photo_id BIGINT NOT NULL REFERENCES photos(id),
  task TEXT NOT NULL,
  x DOUBLE PRECISION NOT NULL, y DOUBLE PRECISION NOT NULL, w DOUBLE PRECISION NOT NULL, h DOUBLE PRECISION NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  landmarks TEXT NOT NULL,
  quality DOUBLE PRECISION,
  embedding BYTEA,
  person_id BIGINT,
  size DOUBLE PRECISION,
  blur DOUBLE PRECISION,
  pinned BOOLEAN NOT NULL DEFAULT false);
CREATE INDEX faces_photo ON faces(photo_id);
CREATE INDEX faces_person ON faces(person_id);
CREATE TABLE embeddings(
  photo_id BIGINT NOT NULL REFERENCES photos(id),
  task TEXT NOT NULL,
  model TEXT NOT NULL,
  dim INT NOT NULL,
  vector BYTEA NOT NULL,
  PRIMARY KEY(photo_id, task, model));
CREATE INDEX embeddings_model ON embeddings(model);
CREATE TABLE persons(
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  face_id BIGINT);
CREATE TABLE face_rejections(
  photo_id BIGINT NOT NULL REFERENCES photos(id),
  x0 BIGINT NOT NULL, y0 BIGINT NOT NULL, w0 BIGINT NOT NULL, h0 BIGINT NOT NULL,
  person_id BIGINT NOT NULL,
  PRIMARY KEY(photo_id, x0, y0, w0, h0, person_id));
CREATE TABLE dupe_dismissals(
  a BIGINT NOT NULL REFERENCES photos(id),
  b BIGINT NOT NULL REFERENCES photos(id),
  PRIMARY KEY(a, b));
CREATE TABLE tokens(
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL DEFAULT '',
  sha256 TEXT NOT NULL UNIQUE,
  created_ms BIGINT NOT NULL);
INSERT INTO darkroom_meta(key, value) VALUES ('max_person_id', '0') ON CONFLICT DO NOTHING;
)sql",
  };
  return m;
}

// The batch (transaction) this thread is inside, per store.
struct Active {
  const PostgresStore* store;
  Conn* conn;
};
thread_local std::vector<Active> g_active;

Conn* active_conn(const PostgresStore* s) {
  for (auto& a : g_active)
    if (a.store == s) return a.conn;
  return nullptr;
}

// x, rounded half away from zero, as SQLite's round() and std::llround do: the face-box key of rules.h.
const char* kRound = "round(%s::numeric)::bigint";
std::string rounded(const char* col) {
  char buf[64];
  std::snprintf(buf, sizeof buf, kRound, col);
  return buf;
}

std::string basename_of(const std::string& p) { return std::filesystem::path(p).filename().string(); }

// The FTS5 query language as darkroom uses it (search/library_search.h writes "word" "a phrase" "pre"*, joined by
// spaces or " OR "; bare words count too), as a tsquery: words AND (or OR), phrases with <->, prefixes with :*.
std::string to_tsquery_text(const std::string& fts) {
  auto lexeme = [](const std::string& w) {
    std::string q = "'";
    for (char c : w) {
      if (c == '\'' || c == '\\') q += c;
      q += c;
    }
    return q + "'";
  };
  std::vector<std::string> terms;
  std::string op = " & ";
  size_t i = 0;
  while (i < fts.size()) {
    if (fts[i] == ' ') {
      ++i;
      continue;
    }
    std::string phrase;
    if (fts[i] == '"') {
      size_t end = fts.find('"', i + 1);
      if (end == std::string::npos) end = fts.size();
      phrase = fts.substr(i + 1, end - i - 1);
      i = std::min(fts.size(), end + 1);
    } else {
      size_t end = fts.find(' ', i);
      if (end == std::string::npos) end = fts.size();
      phrase = fts.substr(i, end - i);
      i = end;
      if (phrase == "OR") {
        op = " | ";
        continue;
      }
      if (phrase == "AND") continue;
    }
    bool prefix = (i < fts.size() && fts[i] == '*') || (!phrase.empty() && phrase.back() == '*');
    if (i < fts.size() && fts[i] == '*') ++i;
    if (!phrase.empty() && phrase.back() == '*') phrase.pop_back();
    std::vector<std::string> words;
    std::string cur;
    for (char c : phrase) {
      if (c == ' ') {
        if (!cur.empty()) words.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) words.push_back(cur);
    if (words.empty()) continue;
    std::string t;
    for (size_t k = 0; k < words.size(); ++k) {
      t += (k ? " <-> " : "") + lexeme(words[k]);
      if (prefix && k + 1 == words.size()) t += ":*";
    }
    terms.push_back("(" + t + ")");
  }
  std::string out;
  for (size_t k = 0; k < terms.size(); ++k) out += (k ? op : "") + terms[k];
  return out;
}

FaceRow face_row(const pg::Result& r, int i) {
  // columns: id, photo_id, x, y, w, h, score, landmarks, quality, embedding, person_id, size, blur, pinned
  FaceRow f;
  f.id = r.i64(i, 0);
  f.photo_id = r.i64(i, 1);
  for (int k = 0; k < 4; ++k) f.box[k] = float(r.f64(i, 2 + k));
  f.score = float(r.f64(i, 6));
  f.landmarks = json::parse(r.text(i, 7), nullptr, false);
  if (!r.is_null(i, 8)) f.quality = float(r.f64(i, 8));
  if (!r.is_null(i, 9)) f.embedding = from_blob(r.bytes(i, 9));
  if (!r.is_null(i, 10)) f.person_id = r.i64(i, 10);
  if (!r.is_null(i, 11)) f.size = float(r.f64(i, 11));
  if (!r.is_null(i, 12)) f.blur = float(r.f64(i, 12));
  f.pinned = r.boolean(i, 13);
  return f;
}
const char* kFaceColumns =
    "SELECT id, photo_id, x, y, w, h, score, landmarks, quality, embedding, person_id, size, blur, pinned FROM faces ";

std::vector<std::string> state_names(const std::vector<JobState>& states) {
  std::vector<std::string> out;
  for (auto s : states) out.push_back(to_string(s));
  return out;
}

}  // namespace

int PostgresStore::schema_version() { return int(migrations().size()); }

PostgresStore::PostgresStore(const std::string& url, const PostgresOptions& opts) : url_(url), opts_(opts) {
  migrate(opts.create);
}

PostgresStore::~PostgresStore() {
  stop_ = true;
  if (listen_thread_.joinable()) listen_thread_.join();
}

std::unique_ptr<Conn> PostgresStore::take() {
  std::unique_lock lock(pool_mu_);
  for (;;) {
    if (!free_.empty()) {
      auto c = std::move(free_.back());
      free_.pop_back();
      if (c->ok()) return c;
      --open_;
      continue;
    }
    if (open_ < opts_.max_connections) {
      ++open_;
      lock.unlock();
      try {
        return std::make_unique<Conn>(url_);
      } catch (...) {
        lock.lock();
        --open_;
        pool_cv_.notify_one();
        throw;
      }
    }
    pool_cv_.wait(lock);
  }
}

void PostgresStore::give(std::unique_ptr<Conn> c) {
  std::lock_guard lock(pool_mu_);
  if (c && c->ok())
    free_.push_back(std::move(c));
  else
    --open_;
  pool_cv_.notify_one();
}

template <class F>
auto PostgresStore::tx(const char* what, F&& fn) -> decltype(fn(std::declval<Conn&>())) {
  if (Conn* c = active_conn(this)) return fn(*c);  // inside batch(): its transaction, its error handling
  using R = decltype(fn(std::declval<Conn&>()));
  const int64_t deadline = local_ms() + opts_.reconnect_ms;
  int64_t backoff = 100;
  for (;;) {
    std::unique_ptr<Conn> c;
    try {
      c = take();
      c->exec("BEGIN");
      if constexpr (std::is_void_v<R>) {
        fn(*c);
        c->exec("COMMIT");
        give(std::move(c));
        return;
      } else {
        R r = fn(*c);
        c->exec("COMMIT");
        give(std::move(c));
        return r;
      }
    } catch (const pg::Error& e) {
      bool lost = e.connection_lost() || !c || !c->ok();
      if (c && !lost) {
        try {
          c->exec("ROLLBACK");
        } catch (...) {
        }
      }
      if (c) give(std::move(c));
      if ((lost || e.retryable()) && local_ms() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
        backoff = std::min<int64_t>(backoff * 2, 2000);
        continue;
      }
      throw StoreError(std::string("catalog error while ") + what + " (" + pg::redact(url_) + "): " + e.what(), lost);
    } catch (...) {
      if (c) {
        try {
          c->exec("ROLLBACK");
        } catch (...) {
        }
        give(std::move(c));
      }
      throw;
    }
  }
}

void PostgresStore::batch(const std::function<void()>& fn) {
  if (active_conn(this)) {
    fn();
    return;
  }
  tx("writing a batch", [&](Conn& c) {
    g_active.push_back({this, &c});
    try {
      fn();
    } catch (...) {
      g_active.pop_back();
      throw;
    }
    g_active.pop_back();
  });
}

void PostgresStore::migrate(bool create) {
  tx("opening the catalog", [&](Conn& c) {
    // One migrator at a time, whatever the number of machines starting at once.
    c.exec("SELECT pg_advisory_xact_lock(7361001)");
    auto has = c.exec("SELECT to_regclass('darkroom_meta') IS NOT NULL");
    if (!has.boolean(0, 0)) {
      if (!create)
        throw StoreError("there is no darkroom catalog in " + pg::redact(url_) +
                         "; create one with `darkroom init --library " + pg::redact(url_) + "`");
      c.exec("CREATE TABLE darkroom_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)");
      c.exec("INSERT INTO darkroom_meta VALUES ('schema_version', '0')");
    }
    int have = int(c.exec("SELECT value::int FROM darkroom_meta WHERE key='schema_version'").i64(0, 0));
    int want = schema_version();
    if (have > want)
      throw StoreError("the catalog " + pg::redact(url_) + " has schema version " + std::to_string(have) +
                       ", newer than this darkroom knows (" + std::to_string(want) + "); use a newer darkroom");
    for (int i = have; i < want; ++i) c.script(migrations()[size_t(i)]);
    Params p;
    c.exec("UPDATE darkroom_meta SET value=" + p.add(std::to_string(want)) + " WHERE key='schema_version'", p);
  });
}

json PostgresStore::settings() {
  return tx("reading the settings", [&](Conn& c) {
    auto r = c.exec("SELECT value FROM darkroom_meta WHERE key='settings'");
    return r.rows() ? json::parse(r.text(0, 0), nullptr, false) : json();
  });
}

void PostgresStore::put_settings(const json& s) {
  tx("writing the settings", [&](Conn& c) {
    Params p;
    c.exec("INSERT INTO darkroom_meta(key, value) VALUES ('settings', " + p.add(s.dump(2)) +
               ") ON CONFLICT (key) DO UPDATE SET value=excluded.value",
           p);
  });
}

// ---- photos and paths ----

std::optional<PathRecord> PostgresStore::find_path(const std::string& path) {
  return tx("looking up a path", [&](Conn& c) -> std::optional<PathRecord> {
    Params p;
    auto r = c.exec("SELECT photo_id, size, mtime_ns, missing FROM paths WHERE path=" + p.add(path), p);
    if (!r.rows()) return std::nullopt;
    return PathRecord{r.i64(0, 0), uint64_t(r.i64(0, 1)), r.i64(0, 2), r.boolean(0, 3)};
  });
}

std::optional<int64_t> PostgresStore::find_photo_by_hash(const std::string& h) {
  return tx("looking up a photo", [&](Conn& c) -> std::optional<int64_t> {
    Params p;
    auto r = c.exec("SELECT id FROM photos WHERE content_hash=" + p.add(h), p);
    if (!r.rows()) return std::nullopt;
    return r.i64(0, 0);
  });
}

int64_t PostgresStore::add_photo(const PhotoFacts& f) {
  return tx("adding a photo", [&](Conn& c) {
    Params p;
    auto opt = [](const std::optional<double>& v) {
      if (!v) return std::optional<std::string>();
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", *v);
      return std::optional<std::string>(buf);
    };
    std::string sql =
        "INSERT INTO photos(content_hash, size, format, width, height, orientation, taken_at, file_date, "
        "camera_make, camera_model, gps_lat, gps_lon, gps_alt, added_ms) VALUES (" +
        p.add(f.content_hash) + "," + p.add(int64_t(f.size)) + "," + p.add(f.format) + "," + p.add(f.width) + "," +
        p.add(f.height) + "," + p.add(f.orientation) + "," + p.add(f.taken_at) + "," + p.add(f.file_date) + "," +
        p.add(f.camera_make) + "," + p.add(f.camera_model) + "," + p.add(opt(f.gps_lat)) + "," + p.add(opt(f.gps_lon)) +
        "," + p.add(opt(f.gps_alt)) + "," + p.add(local_ms()) + ") RETURNING id";
    return c.exec(sql, p).i64(0, 0);
  });
}

void PostgresStore::refresh_file_documents(Conn& c, int64_t photo_id) {
  Params p;
  std::string id = p.add(photo_id);
  c.exec("DELETE FROM documents WHERE photo_id=" + id + " AND source='file'", p);
  auto r = c.exec("SELECT path FROM paths WHERE photo_id=" + id + " AND NOT missing", p);
  std::set<std::string> names;
  for (int i = 0; i < r.rows(); ++i) names.insert(basename_of(r.text(i, 0)));
  for (const auto& n : names) {
    Params q;
    c.exec("INSERT INTO documents(photo_id, source, kind, text) VALUES (" + q.add(photo_id) + ", 'file', 'file', " +
               q.add(n) + ")",
           q);
  }
}

void PostgresStore::put_path(const std::string& path, int64_t photo_id, uint64_t size, int64_t mtime_ns,
                             int64_t scan_id) {
  tx("recording a path", [&](Conn& c) {
    Params p;
    auto old = c.exec("SELECT photo_id FROM paths WHERE path=" + p.add(path), p);
    Params q;
    c.exec("INSERT INTO paths(path, photo_id, size, mtime_ns, missing, scan_id) VALUES (" + q.add(path) + "," +
               q.add(photo_id) + "," + q.add(int64_t(size)) + "," + q.add(mtime_ns) + ", false, " + q.add(scan_id) +
               ") ON CONFLICT (path) DO UPDATE SET photo_id=excluded.photo_id, size=excluded.size, "
               "mtime_ns=excluded.mtime_ns, missing=false, scan_id=excluded.scan_id",
           q);
    refresh_file_documents(c, photo_id);
    if (old.rows() && old.i64(0, 0) != photo_id) refresh_file_documents(c, old.i64(0, 0));
  });
}

void PostgresStore::touch_path(const std::string& path, int64_t scan_id) {
  tx("recording a path", [&](Conn& c) {
    Params p;
    c.exec("UPDATE paths SET scan_id=" + p.add(scan_id) + " WHERE path=" + p.add(path), p);
  });
}

std::vector<std::string> PostgresStore::unseen_paths(const std::string& root, int64_t scan_id) {
  return tx("listing paths", [&](Conn& c) {
    std::string prefix = root;
    if (prefix.empty() || prefix.back() != '/') prefix += '/';
    Params p;
    std::string pre = p.add(prefix);
    auto r = c.exec("SELECT path FROM paths WHERE NOT missing AND scan_id<>" + p.add(scan_id) +
                        " AND (path=" + p.add(root) + " OR substr(path, 1, length(" + pre + "))=" + pre + ")",
                    p);
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    return out;
  });
}

void PostgresStore::mark_missing(const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  tx("marking missing files", [&](Conn& c) {
    Params p;
    auto r = c.exec("UPDATE paths SET missing=true WHERE path = ANY(" + p.add_texts(paths) + ") RETURNING photo_id", p);
    std::set<int64_t> photos;
    for (int i = 0; i < r.rows(); ++i) photos.insert(r.i64(i, 0));
    for (auto id : photos) refresh_file_documents(c, id);
  });
}

std::optional<Photo> PostgresStore::photo(int64_t id) {
  return tx("reading a photo", [&](Conn& c) -> std::optional<Photo> {
    Params p;
    auto r = c.exec(
        "SELECT content_hash, size, format, width, height, orientation, taken_at, file_date, camera_make, "
        "camera_model, gps_lat, gps_lon, gps_alt FROM photos WHERE id=" +
            p.add(id),
        p);
    if (!r.rows()) return std::nullopt;
    Photo ph;
    ph.id = id;
    auto& f = ph.facts;
    f.content_hash = r.text(0, 0);
    f.size = uint64_t(r.i64(0, 1));
    f.format = r.text(0, 2);
    f.width = int(r.i64(0, 3));
    f.height = int(r.i64(0, 4));
    f.orientation = int(r.i64(0, 5));
    f.taken_at = r.opt_text(0, 6);
    f.file_date = r.text(0, 7);
    f.camera_make = r.text(0, 8);
    f.camera_model = r.text(0, 9);
    f.gps_lat = r.opt_f64(0, 10);
    f.gps_lon = r.opt_f64(0, 11);
    f.gps_alt = r.opt_f64(0, 12);
    auto q = c.exec("SELECT path, missing FROM paths WHERE photo_id=$1 ORDER BY path COLLATE \"C\"", p);
    for (int i = 0; i < q.rows(); ++i) (q.boolean(i, 1) ? ph.missing_paths : ph.paths).push_back(q.text(i, 0));
    return ph;
  });
}

std::vector<int64_t> PostgresStore::photo_ids() {
  return tx("listing photos", [&](Conn& c) {
    auto r = c.exec("SELECT id FROM photos ORDER BY id");
    std::vector<int64_t> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.i64(i, 0));
    return out;
  });
}

std::vector<int64_t> PostgresStore::photos_with_copies() {
  return tx("listing copies", [&](Conn& c) {
    auto r = c.exec("SELECT photo_id FROM paths WHERE NOT missing GROUP BY photo_id HAVING count(*)>1 ORDER BY 1");
    std::vector<int64_t> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.i64(i, 0));
    return out;
  });
}

std::vector<PhotoSummary> PostgresStore::list_photos(const PhotoQuery& q) {
  return tx("listing photos", [&](Conn& c) {
    Params p;
    const std::string d = "coalesce(p.taken_at, p.file_date)";
    std::string sql = "SELECT p.id, p.content_hash, " + d +
                      ", p.format, p.width, p.height, p.taken_at IS NOT NULL, pa.path FROM photos p CROSS JOIN "
                      "LATERAL (SELECT path FROM paths WHERE photo_id=p.id AND NOT missing ORDER BY path COLLATE "
                      "\"C\" LIMIT 1) pa WHERE true";
    if (q.after) sql += " AND (" + d + ", p.id) < (" + p.add(q.after->first) + ", " + p.add(q.after->second) + ")";
    if (!q.state.empty() || !q.task.empty()) {
      sql += " AND EXISTS (SELECT 1 FROM jobs j WHERE j.photo_id=p.id";
      if (!q.state.empty()) sql += " AND j.state=" + p.add(q.state);
      if (!q.task.empty()) sql += " AND j.task=" + p.add(q.task);
      sql += ")";
    }
    if (q.has_faces) sql += " AND EXISTS (SELECT 1 FROM faces f WHERE f.photo_id=p.id)";
    if (q.has_text)
      sql += " AND EXISTS (SELECT 1 FROM documents t WHERE t.photo_id=p.id AND t.source='text' AND t.kind='text')";
    if (!q.label.empty())
      sql += " AND EXISTS (SELECT 1 FROM documents t WHERE t.kind='label' AND t.text=" + p.add(q.label) +
             " AND t.photo_id=p.id)";
    if (q.person)
      sql += " AND EXISTS (SELECT 1 FROM faces f WHERE f.photo_id=p.id AND f.person_id=" + p.add(q.person) + ")";
    if (!q.from.empty()) sql += " AND " + d + " >= " + p.add(q.from);
    if (!q.to.empty()) sql += " AND " + d + " <= " + p.add(q.to + "~");
    sql += " ORDER BY " + d + " DESC, p.id DESC LIMIT " + p.add(int64_t(q.limit));
    auto r = c.exec(sql, p);
    std::vector<PhotoSummary> out;
    for (int i = 0; i < r.rows(); ++i) {
      PhotoSummary s;
      s.id = r.i64(i, 0);
      s.content_hash = r.text(i, 1);
      s.date = r.text(i, 2);
      s.format = r.text(i, 3);
      s.width = int(r.i64(i, 4));
      s.height = int(r.i64(i, 5));
      s.taken = r.boolean(i, 6);
      s.path = r.text(i, 7);
      out.push_back(std::move(s));
    }
    return out;
  });
}

// ---- jobs ----

int64_t PostgresStore::clock_ms() {
  int64_t local = local_ms();
  {
    std::lock_guard lock(clock_mu_);
    if (clock_checked_ && local - clock_checked_ < 30'000) return local + clock_offset_;
  }
  int64_t t0 = local_ms();
  int64_t server = tx("reading the server's clock", [&](Conn& c) {
    return c.exec("SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint").i64(0, 0);
  });
  int64_t t1 = local_ms();
  std::lock_guard lock(clock_mu_);
  clock_offset_ = server - (t0 + t1) / 2;
  clock_checked_ = t1;
  return t1 + clock_offset_;
}

void PostgresStore::notify(Conn& c) { c.exec("NOTIFY darkroom_jobs"); }

int PostgresStore::insert_jobs(int64_t photo_id, const std::vector<std::string>& tasks, int64_t now) {
  if (tasks.empty()) return 0;
  return tx("queueing jobs", [&](Conn& c) {
    Params p;
    std::string t = p.add(now);
    auto r = c.exec("INSERT INTO jobs(photo_id, task, state, run_after, updated_ms) SELECT " + p.add(photo_id) +
                        ", unnest(" + p.add_texts(tasks) + "), 'queued', " + t + ", " + t +
                        " ON CONFLICT (photo_id, task) DO NOTHING",
                    p);
    int n = int(r.changed());
    if (n) notify(c);
    return n;
  });
}

int PostgresStore::requeue_stale(const std::string& task, const json& models, int64_t now) {
  return tx("re-queueing jobs", [&](Conn& c) {
    Params p;
    std::string t = p.add(task), at = p.add(now);
    auto r = c.exec("UPDATE jobs SET state='queued', attempts=0, run_after=" + at +
                        ", last_error=NULL, updated_ms=" + at + " WHERE task=" + t +
                        " AND state='done' AND photo_id IN (SELECT photo_id FROM results "
                        "WHERE task=" +
                        t + " AND models<>" + p.add(models.dump()) + ")",
                    p);
    int n = int(r.changed());
    if (n) notify(c);
    return n;
  });
}

std::vector<LeasedPhoto> PostgresStore::lease_ready(const LeaseOrder& order) {
  if (order.tokens.empty()) return {};
  return tx("leasing jobs", [&](Conn& c) {
    const size_t want = order.tokens.size();
    // Pick: the photos of the first ready jobs, each photo's row locked for this transaction; photos another worker
    // is leasing right now are skipped, not waited for.
    Params p;
    std::string ready =
        order.expired ? "j.state='running' AND j.lease_expires<=" : "j.state='queued' AND j.run_after<=";
    ready += p.add(order.now_ms);
    std::string tasks = order.tasks.empty() ? "" : " AND j.task = ANY(" + p.add_texts(order.tasks) + ")";
    auto picked = c.exec("SELECT j.photo_id FROM jobs j JOIN photos ph ON ph.id=j.photo_id WHERE " + ready + tasks +
                             " ORDER BY " + (order.expired ? "j.lease_expires" : "j.run_after") + " LIMIT " +
                             p.add(int64_t(want * 8)) + " FOR NO KEY UPDATE OF ph SKIP LOCKED",
                         p);
    std::vector<int64_t> photos, tokens;
    for (int i = 0; i < picked.rows() && photos.size() < want; ++i) {
      int64_t id = picked.i64(i, 0);
      if (std::find(photos.begin(), photos.end(), id) == photos.end()) {
        photos.push_back(id);
        tokens.push_back(order.tokens[photos.size() - 1]);
      }
    }
    if (photos.empty()) return std::vector<LeasedPhoto>{};
    // Lease: every ready job of those photos, one token per photo, in one statement.
    Params u;
    std::string now = u.add(order.now_ms);
    std::string uready =
        order.expired ? "j.state='running' AND j.lease_expires<=" + now : "j.state='queued' AND j.run_after<=" + now;
    std::string utasks = order.tasks.empty() ? "" : " AND j.task = ANY(" + u.add_texts(order.tasks) + ")";
    auto leased =
        c.exec("UPDATE jobs j SET state='running', lease_id=t.token, lease_owner=" + u.add(order.owner) +
                   ", lease_expires=" + u.add(order.until_ms) + ", attempts=greatest(j.attempts+" +
                   u.add(order.attempt_delta) + ", 0), updated_ms=" + now + " FROM unnest(" + u.add_ints(photos) +
                   ", " + u.add_ints(tokens) + ") AS t(photo, token) WHERE j.photo_id=t.photo AND " + uready + utasks +
                   " RETURNING j.id, j.photo_id, j.task, j.attempts, j.lease_id",
               u);
    Params w;
    auto where = c.exec(
        "SELECT ph.id, ph.content_hash, (SELECT path FROM paths WHERE photo_id=ph.id AND NOT missing "
        "ORDER BY path COLLATE \"C\" LIMIT 1) FROM photos ph WHERE ph.id = ANY(" +
            w.add_ints(photos) + ")",
        w);
    std::vector<LeasedPhoto> out;
    for (auto pid : photos) {
      LeasedPhoto lp;
      lp.photo_id = pid;
      for (int i = 0; i < leased.rows(); ++i)
        if (leased.i64(i, 1) == pid)
          lp.jobs.push_back(Lease{leased.i64(i, 0), pid, leased.i64(i, 4), leased.text(i, 2), int(leased.i64(i, 3))});
      if (lp.jobs.empty()) continue;
      std::sort(lp.jobs.begin(), lp.jobs.end(), [](const Lease& a, const Lease& b) { return a.job_id < b.job_id; });
      for (int i = 0; i < where.rows(); ++i)
        if (where.i64(i, 0) == pid) {
          lp.content_hash = where.text(i, 1);
          lp.path = where.opt_text(i, 2).value_or("");
        }
      out.push_back(std::move(lp));
    }
    return out;
  });
}

int PostgresStore::extend_leases(const std::vector<int64_t>& tokens, int64_t until_ms) {
  if (tokens.empty()) return 0;
  return tx("renewing leases", [&](Conn& c) {
    Params p;
    return int(c.exec("UPDATE jobs SET lease_expires=" + p.add(until_ms) + " WHERE lease_id = ANY(" +
                          p.add_ints(tokens) + ") AND state='running'",
                      p)
                   .changed());
  });
}

bool PostgresStore::complete(const Lease& lease, const json& result, const json& models, int64_t now) {
  Derived d = derive(lease.task, result, models);  // pure: outside the transaction
  std::string value = result.dump(), model_text = models.dump();
  return tx("storing a result", [&](Conn& c) {
    Params p;
    auto r = c.exec(
        "UPDATE jobs SET state='done', lease_id=NULL, lease_owner=NULL, lease_expires=NULL, "
        "last_error=NULL, updated_ms=" +
            p.add(now) + " WHERE id=" + p.add(lease.job_id) + " AND lease_id=" + p.add(lease.lease_id) +
            " AND state='running'",
        p);
    if (r.changed() != 1) return false;  // the lease was lost: nothing is written
    Params q;
    c.exec("INSERT INTO results(photo_id, task, value, models, updated_ms) VALUES (" + q.add(lease.photo_id) + "," +
               q.add(lease.task) + "," + q.add(value) + "," + q.add(model_text) + "," + q.add(now) +
               ") ON CONFLICT (photo_id, task) DO UPDATE SET value=excluded.value, models=excluded.models, "
               "updated_ms=excluded.updated_ms",
           q);
    write_derived(c, lease.photo_id, lease.task, d);
    return true;
  });
}

void PostgresStore::write_derived(Conn& c, int64_t photo_id, const std::string& task, const Derived& derived) {
  if (!has_deriver(task)) return;  // no rows could exist: nothing to delete or write
  Derived d = derived;
  {
    Params p;
    auto r = c.exec("SELECT x, y, w, h, person_id, pinned FROM faces WHERE photo_id=" + p.add(photo_id) +
                        " AND task=" + p.add(task) + " AND person_id IS NOT NULL",
                    p);
    std::vector<FaceRow> old;
    for (int i = 0; i < r.rows(); ++i) {
      FaceRow f;
      for (int k = 0; k < 4; ++k) f.box[k] = float(r.f64(i, k));
      f.person_id = r.i64(i, 4);
      f.pinned = r.boolean(i, 5);
      old.push_back(f);
    }
    carry_people(old, d.faces);
  }
  Params del;
  std::string pid = del.add(photo_id), t = del.add(task);
  c.exec("DELETE FROM documents WHERE photo_id=" + pid + " AND source=" + t, del);
  c.exec("DELETE FROM faces WHERE photo_id=$1 AND task=$2", del);
  c.exec("DELETE FROM embeddings WHERE photo_id=$1 AND task=$2", del);
  for (const auto& doc : d.documents) {
    Params p;
    c.exec("INSERT INTO documents(photo_id, source, kind, text, score, area) VALUES (" + p.add(photo_id) + "," +
               p.add(task) + "," + p.add(doc.kind) + "," + p.add(doc.text) + "," +
               (doc.score ? p.add(*doc.score) : p.add(std::nullopt)) + "," +
               (doc.area ? p.add(*doc.area) : p.add(std::nullopt)) + ")",
           p);
  }
  for (const auto& f : d.faces) {
    Params p;
    std::string sql =
        "INSERT INTO faces(photo_id, task, x, y, w, h, score, landmarks, quality, embedding, person_id, "
        "size, blur, pinned) VALUES (" +
        p.add(photo_id) + "," + p.add(task);
    for (int i = 0; i < 4; ++i) sql += "," + p.add(double(f.box[i]));
    sql += "," + p.add(double(f.score)) + "," + p.add(f.landmarks.dump());
    sql += "," + (f.quality ? p.add(double(*f.quality)) : p.add(std::nullopt));
    sql += "," + (f.embedding.empty() ? p.add(std::nullopt) : p.add_bytes(to_blob(f.embedding)));
    sql += "," + (f.person_id ? p.add(*f.person_id) : p.add(std::nullopt));
    sql += "," + (f.size ? p.add(double(*f.size)) : p.add(std::nullopt));
    sql += "," + (f.blur ? p.add(double(*f.blur)) : p.add(std::nullopt));
    sql += "," + p.add(std::string(f.pinned ? "true" : "false")) + ")";
    c.exec(sql, p);
  }
  for (const auto& e : d.embeddings) {
    Params p;
    c.exec("INSERT INTO embeddings(photo_id, task, model, dim, vector) VALUES (" + p.add(photo_id) + "," + p.add(task) +
               "," + p.add(e.model) + "," + p.add(int64_t(e.vector.size())) + "," + p.add_bytes(to_blob(e.vector)) +
               ") ON CONFLICT (photo_id, task, model) DO UPDATE SET dim=excluded.dim, vector=excluded.vector",
           p);
  }
}

bool PostgresStore::finish(const Lease& lease, JobState next, int64_t run_after_ms,
                           const std::optional<std::string>& error, int attempt_delta, int64_t now) {
  return tx("recording the end of a job's run", [&](Conn& c) {
    Params p;
    auto r = c.exec("UPDATE jobs SET state=" + p.add(to_string(next)) + ", run_after=" + p.add(run_after_ms) +
                        ", last_error=coalesce(" + p.add(error) + ", last_error), attempts=greatest(attempts+" +
                        p.add(attempt_delta) +
                        ", 0), lease_id=NULL, lease_owner=NULL, lease_expires=NULL, "
                        "updated_ms=" +
                        p.add(now) + " WHERE id=" + p.add(lease.job_id) + " AND lease_id=" + p.add(lease.lease_id) +
                        " AND state='running'",
                    p);
    bool ok = r.changed() == 1;
    if (ok && next == JobState::Queued && run_after_ms <= now) notify(c);
    return ok;
  });
}

std::vector<std::string> PostgresStore::lease_owners() {
  return tx("listing leases", [&](Conn& c) {
    auto r = c.exec("SELECT DISTINCT lease_owner FROM jobs WHERE state='running' AND lease_owner IS NOT NULL");
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
    return out;
  });
}

int PostgresStore::expire_leases(const std::string& owner, bool give_back_attempt) {
  return tx("reclaiming leases", [&](Conn& c) {
    Params p;
    std::string o = p.add(owner), back = p.add(int64_t(give_back_attempt ? 1 : 0));
    int n = int(c.exec("UPDATE jobs SET lease_expires=0, attempts=GREATEST(attempts-" + back +
                           ", 0) WHERE state='running' AND lease_owner=" + o,
                       p)
                    .changed());
    if (n) notify(c);
    return n;
  });
}

int PostgresStore::requeue(const std::vector<JobState>& states, const std::vector<int64_t>& photo_ids, int64_t now) {
  if (states.empty()) return 0;
  return tx("re-queueing jobs", [&](Conn& c) {
    Params p;
    std::string at = p.add(now);
    std::string sql = "UPDATE jobs SET state='queued', attempts=0, run_after=" + at +
                      ", last_error=NULL, updated_ms=" + at + " WHERE state = ANY(" + p.add_texts(state_names(states)) +
                      ")";
    if (!photo_ids.empty()) sql += " AND photo_id = ANY(" + p.add_ints(photo_ids) + ")";
    int n = int(c.exec(sql, p).changed());
    if (n) notify(c);
    return n;
  });
}

int64_t PostgresStore::photo_count() {
  return tx("counting photos",
            [&](Conn& c) { return c.exec("SELECT count(DISTINCT photo_id) FROM paths WHERE NOT missing").i64(0, 0); });
}

std::map<std::string, std::map<std::string, int64_t>> PostgresStore::job_counts() {
  return tx("counting jobs", [&](Conn& c) {
    std::map<std::string, std::map<std::string, int64_t>> out;
    auto r = c.exec("SELECT task, state, count(*) FROM jobs GROUP BY task, state");
    for (int i = 0; i < r.rows(); ++i) out[r.text(i, 0)][r.text(i, 1)] += r.i64(i, 2);
    return out;
  });
}

int64_t PostgresStore::pending(const std::vector<std::string>& tasks) {
  return tx("counting jobs", [&](Conn& c) {
    Params p;
    std::string sql = "SELECT count(*) FROM jobs WHERE state IN ('queued','running')";
    if (!tasks.empty()) sql += " AND task = ANY(" + p.add_texts(tasks) + ")";
    return c.exec(sql, p).i64(0, 0);
  });
}

int64_t PostgresStore::pending_photos() {
  return tx("counting jobs", [&](Conn& c) {
    return c.exec("SELECT count(DISTINCT photo_id) FROM jobs WHERE state IN ('queued','running')").i64(0, 0);
  });
}

std::optional<int64_t> PostgresStore::next_due_ms(const std::vector<std::string>& tasks) {
  return tx("reading the queue", [&](Conn& c) -> std::optional<int64_t> {
    Params p;
    std::string f = tasks.empty() ? "" : " AND task = ANY(" + p.add_texts(tasks) + ")";
    auto r = c.exec("SELECT least((SELECT min(run_after) FROM jobs WHERE state='queued'" + f +
                        "), (SELECT min(lease_expires) FROM jobs WHERE state='running'" + f + "))",
                    p);
    if (r.is_null(0, 0)) return std::nullopt;
    return r.i64(0, 0);
  });
}

void PostgresStore::on_jobs_queued(std::function<void()> fn) {
  std::lock_guard lock(listen_mu_);
  listeners_.push_back(std::move(fn));
  if (!listen_thread_.joinable()) listen_thread_ = std::thread([this] { listen_loop(); });
}

void PostgresStore::listen_loop() {
  while (!stop_) {
    std::unique_ptr<Conn> c;
    try {
      c = std::make_unique<Conn>(url_);
      c->exec("LISTEN darkroom_jobs");
    } catch (const std::exception&) {
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    while (!stop_ && c->ok()) {
      pollfd p{PQsocket(c->raw()), POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      if (!PQconsumeInput(c->raw())) break;
      bool any = false;
      while (PGnotify* n = PQnotifies(c->raw())) {
        any = true;
        PQfreemem(n);
      }
      if (!any) continue;
      std::vector<std::function<void()>> fns;
      {
        std::lock_guard lock(listen_mu_);
        fns = listeners_;
      }
      for (auto& f : fns) f();
    }
  }
}

std::vector<FailureRow> PostgresStore::failures(size_t limit) {
  return tx("listing failures", [&](Conn& c) {
    Params p;
    auto r = c.exec(
        "SELECT j.photo_id, j.task, coalesce(j.last_error, ''), j.attempts, j.state, (SELECT path FROM paths pa "
        "WHERE pa.photo_id=j.photo_id ORDER BY missing, path COLLATE \"C\" LIMIT 1) FROM jobs j WHERE j.state IN "
        "('failed','dead') ORDER BY j.updated_ms DESC, j.id LIMIT " +
            p.add(int64_t(limit)),
        p);
    std::vector<FailureRow> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(FailureRow{r.i64(i, 0), r.opt_text(i, 5).value_or(""), r.text(i, 1), r.text(i, 2), int(r.i64(i, 3)),
                               parse_job_state(r.text(i, 4)).value_or(JobState::Failed)});
    return out;
  });
}

std::vector<JobInfo> PostgresStore::jobs_of(int64_t photo_id) {
  return tx("reading jobs", [&](Conn& c) {
    Params p;
    auto r = c.exec(
        "SELECT j.id, j.task, j.state, j.attempts, coalesce(j.last_error, ''), j.run_after, res.models FROM jobs j "
        "LEFT JOIN results res ON res.photo_id=j.photo_id AND res.task=j.task WHERE j.photo_id=" +
            p.add(photo_id) + " ORDER BY j.id",
        p);
    std::vector<JobInfo> out;
    for (int i = 0; i < r.rows(); ++i) {
      JobInfo j;
      j.id = r.i64(i, 0);
      j.photo_id = photo_id;
      j.task = r.text(i, 1);
      j.state = parse_job_state(r.text(i, 2)).value_or(JobState::Queued);
      j.attempts = int(r.i64(i, 3));
      j.error = r.text(i, 4);
      j.run_after_ms = r.i64(i, 5);
      j.models = r.is_null(i, 6) ? json() : json::parse(r.text(i, 6), nullptr, false);
      out.push_back(std::move(j));
    }
    return out;
  });
}

std::vector<JobChange> PostgresStore::job_changes(int64_t since_ms, size_t limit) {
  return tx("reading job changes", [&](Conn& c) {
    Params p;
    auto r = c.exec("SELECT id, photo_id, task, state, updated_ms FROM jobs WHERE updated_ms>" + p.add(since_ms) +
                        " ORDER BY updated_ms, id LIMIT " + p.add(int64_t(limit)),
                    p);
    std::vector<JobChange> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.i64(i, 0), r.i64(i, 1), r.text(i, 2), parse_job_state(r.text(i, 3)).value_or(JobState::Queued),
                     r.i64(i, 4)});
    return out;
  });
}

// ---- results ----

void PostgresStore::restore_job(int64_t photo_id, const JobInfo& job) {
  tx("copying a job", [&](Conn& c) {
    JobState st = job.state == JobState::Running ? JobState::Queued : job.state;
    Params p;
    c.exec("INSERT INTO jobs(photo_id, task, state, attempts, run_after, last_error, updated_ms) VALUES (" +
               p.add(photo_id) + "," + p.add(job.task) + "," + p.add(to_string(st)) + "," + p.add(job.attempts) + "," +
               p.add(job.run_after_ms) + "," +
               p.add(job.error.empty() ? std::nullopt : std::optional<std::string>(job.error)) + "," +
               p.add(local_ms()) +
               ") ON CONFLICT (photo_id, task) DO UPDATE SET state=excluded.state, attempts=excluded.attempts, "
               "run_after=excluded.run_after, last_error=excluded.last_error",
           p);
  });
}

void PostgresStore::restore_result(int64_t photo_id, const std::string& task, const StoredResult& r) {
  Derived d = derive(task, r.value, r.models);
  tx("copying a result", [&](Conn& c) {
    Params p;
    c.exec("INSERT INTO results(photo_id, task, value, models, updated_ms) VALUES (" + p.add(photo_id) + "," +
               p.add(task) + "," + p.add(r.value.dump()) + "," + p.add(r.models.dump()) + "," + p.add(r.updated_ms) +
               ") ON CONFLICT (photo_id, task) DO UPDATE SET value=excluded.value, models=excluded.models, "
               "updated_ms=excluded.updated_ms",
           p);
    write_derived(c, photo_id, task, d);
  });
}

std::map<std::string, StoredResult> PostgresStore::results(int64_t photo_id) {
  return tx("reading results", [&](Conn& c) {
    Params p;
    auto r = c.exec("SELECT task, value, models, updated_ms FROM results WHERE photo_id=" + p.add(photo_id), p);
    std::map<std::string, StoredResult> out;
    for (int i = 0; i < r.rows(); ++i)
      out[r.text(i, 0)] = StoredResult{json::parse(r.text(i, 1), nullptr, false),
                                       json::parse(r.text(i, 2), nullptr, false), r.i64(i, 3)};
    return out;
  });
}

std::vector<std::pair<int64_t, json>> PostgresStore::results_of_task(const std::string& task) {
  return tx("reading results", [&](Conn& c) {
    Params p;
    auto r = c.exec("SELECT photo_id, value FROM results WHERE task=" + p.add(task) + " ORDER BY photo_id", p);
    std::vector<std::pair<int64_t, json>> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.i64(i, 0), json::parse(r.text(i, 1), nullptr, false));
    return out;
  });
}

std::optional<StoredResult> PostgresStore::result(int64_t photo_id, const std::string& task) {
  return tx("reading a result", [&](Conn& c) -> std::optional<StoredResult> {
    Params p;
    auto r = c.exec(
        "SELECT value, models, updated_ms FROM results WHERE photo_id=" + p.add(photo_id) + " AND task=" + p.add(task),
        p);
    if (!r.rows()) return std::nullopt;
    return StoredResult{json::parse(r.text(0, 0), nullptr, false), json::parse(r.text(0, 1), nullptr, false),
                        r.i64(0, 2)};
  });
}

TaskStamp PostgresStore::task_stamp(const std::string& task) {
  return tx("reading results", [&](Conn& c) {
    Params p;
    auto r = c.exec("SELECT count(*), coalesce(max(updated_ms), 0) FROM results WHERE task=" + p.add(task), p);
    return TaskStamp{r.i64(0, 0), r.i64(0, 1)};
  });
}

std::vector<DocumentHit> PostgresStore::search_documents(const std::string& fts, size_t limit,
                                                         const std::string& skip_kind) {
  std::string tsq = to_tsquery_text(fts);
  if (tsq.empty()) return {};
  return tx("searching", [&](Conn& c) {
    Params p;
    auto r = c.exec(
        "SELECT d.photo_id, ts_rank_cd(d.tsv, q), d.kind, d.text FROM documents d, to_tsquery('english', "
        "darkroom_unaccent(" +
            p.add(tsq) + ")) q WHERE d.tsv @@ q AND d.kind<>" + p.add(skip_kind) + " ORDER BY 2 DESC, d.id LIMIT " +
            p.add(int64_t(limit)),
        p);
    std::vector<DocumentHit> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(DocumentHit{r.i64(i, 0), r.f64(i, 1), r.text(i, 2), r.text(i, 3)});
    return out;
  });
}

std::vector<DocumentHit> PostgresStore::search_substrings(const std::vector<std::string>& substrings,
                                                          const std::string& kind,
                                                          const std::function<bool(const std::string&)>& keep,
                                                          size_t limit) {
  if (substrings.empty() || limit == 0) return {};
  return tx("searching", [&](Conn& c) {
    Params p;
    std::string sql = "SELECT photo_id, kind, text FROM documents WHERE kind=" + p.add(kind);
    for (const auto& sub : substrings) {
      std::string like = "%";
      for (char ch : sub) {
        if (ch == '%' || ch == '_' || ch == '\\') like += '\\';
        like += char(std::tolower(static_cast<unsigned char>(ch)));
      }
      sql += " AND lower(text) LIKE " + p.add(like + "%");
    }
    auto r = c.exec(sql + " ORDER BY id LIMIT 20000", p);
    std::vector<DocumentHit> out;
    for (int i = 0; i < r.rows() && out.size() < limit; ++i) {
      std::string text = r.text(i, 2);
      if (keep(text)) out.push_back(DocumentHit{r.i64(i, 0), 0.0, r.text(i, 1), std::move(text)});
    }
    return out;
  });
}

std::vector<std::pair<int64_t, std::string>> PostgresStore::photos_by_date(const std::string& prefix, size_t limit) {
  return tx("searching dates", [&](Conn& c) {
    Params p;
    auto r = c.exec(
        "SELECT id, coalesce(taken_at, file_date) d FROM photos WHERE coalesce(taken_at, file_date)>=" + p.add(prefix) +
            " AND coalesce(taken_at, file_date)<" + p.add(prefix + "~") + " ORDER BY d LIMIT " + p.add(int64_t(limit)),
        p);
    std::vector<std::pair<int64_t, std::string>> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.i64(i, 0), r.text(i, 1));
    return out;
  });
}

std::vector<LabelHit> PostgresStore::photos_with_label(const std::string& label) {
  return tx("searching labels", [&](Conn& c) {
    Params p;
    auto r = c.exec(
        "SELECT d.photo_id, d.score, d.area, ph.width, ph.height FROM documents d JOIN photos ph ON "
        "ph.id=d.photo_id WHERE d.kind='label' AND d.text=" +
            p.add(label) + " ORDER BY d.photo_id",
        p);
    std::vector<LabelHit> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.i64(i, 0), r.opt_f64(i, 1), r.opt_f64(i, 2), double(r.i64(i, 3)) * double(r.i64(i, 4))});
    return out;
  });
}

std::vector<FaceRow> PostgresStore::faces_of(int64_t photo_id) {
  return tx("reading faces", [&](Conn& c) {
    Params p;
    auto r = c.exec(std::string(kFaceColumns) + "WHERE photo_id=" + p.add(photo_id) + " ORDER BY id", p);
    std::vector<FaceRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(face_row(r, i));
    return out;
  });
}

std::vector<EmbeddingRow> PostgresStore::embeddings(const std::string& model) {
  return tx("reading embeddings", [&](Conn& c) {
    Params p;
    auto r = c.exec("SELECT photo_id, vector FROM embeddings WHERE model=" + p.add(model) + " ORDER BY photo_id", p);
    std::vector<EmbeddingRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(EmbeddingRow{r.i64(i, 0), model, from_blob(r.bytes(i, 1))});
    return out;
  });
}

// ---- people ----

std::vector<FaceRow> PostgresStore::all_faces() {
  return tx("reading faces", [&](Conn& c) {
    auto r = c.exec(std::string(kFaceColumns) + "WHERE embedding IS NOT NULL ORDER BY id");
    std::vector<FaceRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(face_row(r, i));
    return out;
  });
}

std::optional<FaceRow> PostgresStore::face(int64_t id) {
  return tx("reading a face", [&](Conn& c) -> std::optional<FaceRow> {
    Params p;
    auto r = c.exec(std::string(kFaceColumns) + "WHERE id=" + p.add(id), p);
    if (!r.rows()) return std::nullopt;
    return face_row(r, 0);
  });
}

std::vector<std::pair<int64_t, int64_t>> PostgresStore::rejections() {
  return tx("reading rejections", [&](Conn& c) {
    auto r = c.exec("SELECT f.id, r.person_id FROM face_rejections r JOIN faces f ON f.photo_id=r.photo_id AND " +
                    rounded("f.x") + "=r.x0 AND " + rounded("f.y") + "=r.y0 AND " + rounded("f.w") + "=r.w0 AND " +
                    rounded("f.h") + "=r.h0 ORDER BY f.id");
    std::vector<std::pair<int64_t, int64_t>> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.i64(i, 0), r.i64(i, 1));
    return out;
  });
}

void PostgresStore::write_assignments(const std::vector<FaceAssignment>& assignments,
                                      const std::vector<int64_t>& new_persons) {
  tx("storing people", [&](Conn& c) {
    if (!new_persons.empty()) {
      Params p;
      c.exec("INSERT INTO persons(id, name) SELECT unnest(" + p.add_ints(new_persons) + "), '' ON CONFLICT DO NOTHING",
             p);
      Params q;
      c.exec("UPDATE darkroom_meta SET value=greatest(value::bigint, " +
                 q.add(*std::max_element(new_persons.begin(), new_persons.end())) + ")::text WHERE key='max_person_id'",
             q);
    }
    if (!assignments.empty()) {
      std::vector<int64_t> faces, persons;
      for (const auto& a : assignments) {
        faces.push_back(a.face_id);
        persons.push_back(a.person_id);
      }
      Params p;
      c.exec("UPDATE faces f SET person_id=nullif(t.person, 0) FROM unnest(" + p.add_ints(faces) + ", " +
                 p.add_ints(persons) + ") AS t(face, person) WHERE f.id=t.face AND NOT f.pinned",
             p);
    }
    c.exec("DELETE FROM persons WHERE name='' AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id=persons.id)");
  });
}

std::vector<PersonRow> PostgresStore::persons() {
  return tx("reading people", [&](Conn& c) {
    auto r = c.exec(
        "SELECT p.id, p.name, count(f.id), (SELECT g.photo_id FROM faces g WHERE g.person_id=p.id ORDER BY "
        "coalesce(g.size, least(g.w, g.h)) DESC, g.id LIMIT 1) FROM persons p JOIN faces f ON f.person_id=p.id "
        "GROUP BY p.id ORDER BY p.id");
    std::vector<PersonRow> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(PersonRow{r.i64(i, 0), r.text(i, 1), r.i64(i, 2), r.is_null(i, 3) ? 0 : r.i64(i, 3)});
    return out;
  });
}

std::optional<PersonRow> PostgresStore::person(int64_t id) {
  return tx("reading a person", [&](Conn& c) -> std::optional<PersonRow> {
    Params p;
    auto r = c.exec(
        "SELECT p.id, p.name, (SELECT count(*) FROM faces f WHERE f.person_id=p.id), (SELECT g.photo_id FROM faces "
        "g WHERE g.person_id=p.id ORDER BY coalesce(g.size, least(g.w, g.h)) DESC, g.id LIMIT 1) FROM persons p "
        "WHERE p.id=" +
            p.add(id),
        p);
    if (!r.rows()) return std::nullopt;
    return PersonRow{r.i64(0, 0), r.text(0, 1), r.i64(0, 2), r.is_null(0, 3) ? 0 : r.i64(0, 3)};
  });
}

int64_t PostgresStore::max_person_id() {
  return tx("reading people", [&](Conn& c) {
    return c
        .exec(
            "SELECT greatest(coalesce((SELECT value::bigint FROM darkroom_meta WHERE key='max_person_id'), 0), "
            "coalesce((SELECT max(id) FROM persons), 0))")
        .i64(0, 0);
  });
}

void PostgresStore::name_person(int64_t id, const std::string& name) {
  tx("naming a person", [&](Conn& c) {
    Params p;
    c.exec("UPDATE persons SET name=" + p.add(name) + " WHERE id=" + p.add(id), p);
  });
}

void PostgresStore::merge_persons(int64_t into, int64_t from) {
  tx("merging people", [&](Conn& c) {
    Params p;
    std::string a = p.add(into), b = p.add(from);
    // The user has looked at both and says they are one person: every face of both stays where it is now put.
    c.exec("UPDATE faces SET person_id=" + a + ", pinned=true WHERE person_id IN (" + a + ", " + b + ")", p);
    c.exec("UPDATE persons SET name=(SELECT name FROM persons WHERE id=" + b + ") WHERE id=" + a + " AND name=''", p);
    // A face rejected from either person stays out of the merged one...
    c.exec("INSERT INTO face_rejections(photo_id, x0, y0, w0, h0, person_id) SELECT photo_id, x0, y0, w0, h0, " + a +
               " FROM face_rejections WHERE person_id=" + b + " ON CONFLICT DO NOTHING",
           p);
    c.exec("DELETE FROM face_rejections WHERE person_id=" + b, p);
    // ...except the faces the user has just put there: the latest decision wins.
    c.exec("DELETE FROM face_rejections r WHERE r.person_id=" + a + " AND EXISTS (SELECT 1 FROM faces f WHERE " +
               "f.person_id=" + a + " AND f.photo_id=r.photo_id AND " + rounded("f.x") + "=r.x0 AND " + rounded("f.y") +
               "=r.y0 AND " + rounded("f.w") + "=r.w0 AND " + rounded("f.h") + "=r.h0)",
           p);
    c.exec("DELETE FROM persons WHERE id=" + b, p);
  });
}

void PostgresStore::move_face(int64_t face_id, int64_t person_id) {
  tx("moving a face", [&](Conn& c) {
    Params p;
    std::string f = p.add(face_id), to = person_id ? p.add(person_id) : p.add(std::nullopt);
    c.exec("UPDATE faces SET person_id=" + to + ", pinned=true WHERE id=" + f, p);
    // The user's placement overrides an earlier "not this person".
    Params q;
    c.exec("DELETE FROM face_rejections r USING faces f WHERE f.id=" + q.add(face_id) +
               " AND r.person_id=" + q.add(person_id) + " AND r.photo_id=f.photo_id AND " + rounded("f.x") +
               "=r.x0 AND " + rounded("f.y") + "=r.y0 AND " + rounded("f.w") + "=r.w0 AND " + rounded("f.h") + "=r.h0",
           q);
    c.exec("DELETE FROM persons WHERE name='' AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id=persons.id)");
  });
}

void PostgresStore::reject_face(int64_t face_id, int64_t person_id) {
  tx("rejecting a face", [&](Conn& c) {
    Params p;
    std::string f = p.add(face_id), who = p.add(person_id);
    c.exec("INSERT INTO face_rejections(photo_id, x0, y0, w0, h0, person_id) SELECT photo_id, " + rounded("x") + ", " +
               rounded("y") + ", " + rounded("w") + ", " + rounded("h") + ", " + who + " FROM faces WHERE id=" + f +
               " ON CONFLICT DO NOTHING",
           p);
    c.exec("UPDATE faces SET person_id=NULL, pinned=false WHERE id=" + f + " AND person_id=" + who, p);
  });
}

std::vector<std::pair<int64_t, std::string>> PostgresStore::photos_of_people_named(const std::string& query) {
  if (!has_name_words(query)) return {};
  return tx("searching people", [&](Conn& c) {
    auto r = c.exec("SELECT id, name FROM persons WHERE name<>'' ORDER BY id");
    std::vector<std::pair<int64_t, std::string>> out;
    for (int i = 0; i < r.rows(); ++i) {
      if (!name_matches(query, r.text(i, 1))) continue;
      Params p;
      auto q = c.exec("SELECT DISTINCT photo_id FROM faces WHERE person_id=" + p.add(r.i64(i, 0)) + " ORDER BY 1", p);
      for (int k = 0; k < q.rows(); ++k) out.emplace_back(q.i64(k, 0), r.text(i, 1));
    }
    return out;
  });
}

// ---- duplicates the user reviewed ----

void PostgresStore::dismiss_duplicates(const std::vector<int64_t>& photo_ids) {
  std::vector<int64_t> ids(photo_ids);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() < 2) return;
  std::vector<int64_t> as, bs;
  for (size_t i = 0; i < ids.size(); ++i)
    for (size_t j = i + 1; j < ids.size(); ++j) {
      as.push_back(ids[i]);
      bs.push_back(ids[j]);
    }
  tx("recording photos that are not duplicates", [&](Conn& c) {
    Params p;
    c.exec("INSERT INTO dupe_dismissals(a, b) SELECT * FROM unnest(" + p.add_ints(as) + ", " + p.add_ints(bs) +
               ") ON CONFLICT DO NOTHING",
           p);
  });
}

std::vector<std::pair<int64_t, int64_t>> PostgresStore::dismissed_pairs() {
  return tx("reading reviewed duplicates", [&](Conn& c) {
    auto r = c.exec("SELECT a, b FROM dupe_dismissals ORDER BY a, b");
    std::vector<std::pair<int64_t, int64_t>> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.i64(i, 0), r.i64(i, 1));
    return out;
  });
}

// ---- API tokens ----

int64_t PostgresStore::add_token(const std::string& name, const std::string& sha256) {
  return tx("storing a token", [&](Conn& c) {
    Params p;
    return c
        .exec("INSERT INTO tokens(name, sha256, created_ms) VALUES (" + p.add(name) + ", " + p.add(sha256) + ", " +
                  p.add(local_ms()) + ") RETURNING id",
              p)
        .i64(0, 0);
  });
}

std::vector<TokenRow> PostgresStore::tokens() {
  return tx("listing tokens", [&](Conn& c) {
    auto r = c.exec("SELECT id, name, sha256, created_ms FROM tokens ORDER BY id");
    std::vector<TokenRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({r.i64(i, 0), r.text(i, 1), r.text(i, 2), r.i64(i, 3)});
    return out;
  });
}

std::optional<TokenRow> PostgresStore::token_by_sha256(const std::string& sha256) {
  return tx("checking a token", [&](Conn& c) -> std::optional<TokenRow> {
    Params p;
    auto r = c.exec("SELECT id, name, sha256, created_ms FROM tokens WHERE sha256=" + p.add(sha256), p);
    if (!r.rows()) return std::nullopt;
    return TokenRow{r.i64(0, 0), r.text(0, 1), r.text(0, 2), r.i64(0, 3)};
  });
}

bool PostgresStore::revoke_token(int64_t id) {
  return tx("revoking a token", [&](Conn& c) {
    Params p;
    return c.exec("DELETE FROM tokens WHERE id=" + p.add(id), p).changed() > 0;
  });
}

}  // namespace dr::catalog
