// The PostgreSQL catalog, for a library that several machines share: `--library postgresql://user@host/db`. The
// same Store as SQLite's, over libpq: a small pool of connections (one transaction each), leasing with
// FOR NO KEY UPDATE ... SKIP LOCKED so that workers on many machines never wait on each other, every time from the
// server's clock, NOTIFY when jobs are queued (idle workers LISTEN), reconnection with backoff when the server goes
// away, full-text search with tsvector/GIN and unaccent, and pg_trgm for words found inside glued OCR text.
// Embeddings are stored as bytes and searched in the process (FAISS), as with SQLite (pgvector is not in Debian 12).
#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalog/store.h"

namespace dr::catalog {

namespace pg {
class Conn;
class Params;
}  // namespace pg

struct PostgresOptions {
  bool create = false;        // create the schema when the database has none (`darkroom init`)
  int max_connections = 8;    // the pool's size
  int reconnect_ms = 30'000;  // how long an operation keeps trying when the server is unreachable
};

// True for "postgresql://..." and "postgres://..." (what --library takes for a shared catalog).
bool is_postgres_url(const std::string& s);

class PostgresStore final : public Store {
 public:
  // Connects (and migrates with create, or when the schema is older); throws StoreError with a sentence.
  explicit PostgresStore(const std::string& url, const PostgresOptions& opts = {});
  ~PostgresStore() override;

  static int schema_version();
  const std::string& url() const { return url_; }
  // The library's settings.json, kept in the database (darkroom_meta 'settings'); null when none was stored.
  nlohmann::json settings();
  void put_settings(const nlohmann::json& s);

  bool read_only() const override { return false; }
  std::optional<PathRecord> find_path(const std::string& path) override;
  std::optional<int64_t> find_photo_by_hash(const std::string& content_hash) override;
  int64_t add_photo(const PhotoFacts& facts) override;
  void put_path(const std::string& path, int64_t photo_id, uint64_t size, int64_t mtime_ns, int64_t scan_id) override;
  void touch_path(const std::string& path, int64_t scan_id) override;
  std::vector<std::string> unseen_paths(const std::string& root, int64_t scan_id) override;
  void mark_missing(const std::vector<std::string>& paths) override;
  std::optional<Photo> photo(int64_t id) override;
  std::vector<int64_t> photo_ids() override;
  std::vector<int64_t> photos_with_copies() override;
  std::vector<PhotoSummary> list_photos(const PhotoQuery& q) override;
  void batch(const std::function<void()>& fn) override;

  int64_t clock_ms() override;
  int insert_jobs(int64_t photo_id, const std::vector<std::string>& tasks, int64_t now_ms) override;
  std::vector<LeasedPhoto> lease_ready(const LeaseOrder& order) override;
  int extend_leases(const std::vector<int64_t>& tokens, int64_t until_ms) override;
  bool complete(const Lease& lease, const nlohmann::json& result, const nlohmann::json& models,
                int64_t now_ms) override;
  bool finish(const Lease& lease, JobState next, int64_t run_after_ms, const std::optional<std::string>& error,
              int attempt_delta, int64_t now_ms) override;
  std::vector<std::string> lease_owners() override;
  int expire_leases(const std::string& owner, bool give_back_attempt) override;
  int requeue(const std::vector<JobState>& states, const std::vector<int64_t>& photo_ids, int64_t now_ms) override;
  int requeue_stale(const std::string& task, const nlohmann::json& models, int64_t now_ms) override;
  int64_t photo_count() override;
  std::map<std::string, std::map<std::string, int64_t>> job_counts() override;
  int64_t pending(const std::vector<std::string>& tasks) override;
  int64_t pending_photos() override;
  std::optional<int64_t> next_due_ms(const std::vector<std::string>& tasks) override;
  void on_jobs_queued(std::function<void()> fn) override;
  std::vector<FailureRow> failures(size_t limit) override;
  std::vector<JobInfo> jobs_of(int64_t photo_id) override;
  std::vector<JobChange> job_changes(int64_t since_ms, size_t limit) override;

  void restore_job(int64_t photo_id, const JobInfo& job) override;
  void restore_result(int64_t photo_id, const std::string& task, const StoredResult& r) override;

  std::map<std::string, StoredResult> results(int64_t photo_id) override;
  std::vector<std::pair<int64_t, nlohmann::json>> results_of_task(const std::string& task) override;
  std::optional<StoredResult> result(int64_t photo_id, const std::string& task) override;
  TaskStamp task_stamp(const std::string& task) override;
  std::vector<DocumentHit> search_documents(const std::string& fts_query, size_t limit,
                                            const std::string& skip_kind) override;
  std::vector<DocumentHit> search_substrings(const std::vector<std::string>& substrings, const std::string& kind,
                                             const std::function<bool(const std::string&)>& keep,
                                             size_t limit) override;
  std::vector<std::pair<int64_t, std::string>> photos_by_date(const std::string& prefix, size_t limit) override;
  std::vector<LabelHit> photos_with_label(const std::string& label) override;
  std::vector<FaceRow> faces_of(int64_t photo_id) override;
  std::vector<EmbeddingRow> embeddings(const std::string& model) override;

  std::vector<FaceRow> all_faces() override;
  std::vector<std::pair<int64_t, int64_t>> rejections() override;
  void write_assignments(const std::vector<FaceAssignment>& assignments,
                         const std::vector<int64_t>& new_persons) override;
  std::vector<PersonRow> persons() override;
  std::optional<PersonRow> person(int64_t id) override;
  std::optional<FaceRow> face(int64_t id) override;
  int64_t max_person_id() override;
  void name_person(int64_t id, const std::string& name) override;
  void merge_persons(int64_t into, int64_t from) override;
  void move_face(int64_t face_id, int64_t person_id) override;
  void reject_face(int64_t face_id, int64_t person_id) override;
  std::vector<std::pair<int64_t, std::string>> photos_of_people_named(const std::string& name) override;

  void dismiss_duplicates(const std::vector<int64_t>& photo_ids) override;
  std::vector<std::pair<int64_t, int64_t>> dismissed_pairs() override;

  int64_t add_token(const std::string& name, const std::string& sha256) override;
  std::vector<TokenRow> tokens() override;
  std::optional<TokenRow> token_by_sha256(const std::string& sha256) override;
  bool revoke_token(int64_t id) override;

 private:
  // Runs fn(conn) on a pooled connection, in its own transaction unless inside batch() on this thread (then in
  // the batch's). A lost connection is replaced and the whole call tried again, with backoff, for up to
  // reconnect_ms (not inside a batch: the batch fails and its caller decides).
  template <class F>
  auto tx(const char* what, F&& fn) -> decltype(fn(std::declval<pg::Conn&>()));
  std::unique_ptr<pg::Conn> take();
  void give(std::unique_ptr<pg::Conn> c);
  void migrate(bool create);
  void refresh_file_documents(pg::Conn& c, int64_t photo_id);
  void write_derived(pg::Conn& c, int64_t photo_id, const std::string& task, const Derived& derived);
  void notify(pg::Conn& c);
  void listen_loop();

  std::string url_;
  PostgresOptions opts_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<pg::Conn>> free_;
  int open_ = 0;
  // The server's clock as an offset from this machine's, measured now and then.
  std::mutex clock_mu_;
  int64_t clock_offset_ = 0, clock_checked_ = 0;
  // LISTEN darkroom_jobs.
  std::mutex listen_mu_;
  std::vector<std::function<void()>> listeners_;
  std::thread listen_thread_;
  std::atomic<bool> stop_{false};
};

}  // namespace dr::catalog
