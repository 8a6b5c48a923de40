// The SQLite catalog: one database file per library, WAL journal (readers never wait for the writer), FTS5 for
// the documents, a busy timeout for the moments another process writes, and versioned migrations.
// One connection per store object, serialised by a mutex: SQLite allows a single writer per database anyway, and
// every write here is a short transaction (analysis happens outside them).
#pragma once
#include <memory>
#include <mutex>
#include <string>

#include "catalog/store.h"

namespace dr::catalog {

namespace sqlite {
class Db;
}

struct SqliteOptions {
  int busy_timeout_ms = 10'000;
  bool create = false;     // create the file when it does not exist
  bool read_only = false;  // open without write access (also chosen when the file or folder is not writable)
};

class SqliteStore final : public Store {
 public:
  // Opens (and migrates) the catalog; throws StoreError with a sentence that says what to do.
  SqliteStore(const std::string& path, const SqliteOptions& opts = {});
  ~SqliteStore() override;

  static int schema_version();  // the version this build migrates to

  bool read_only() const override { return read_only_; }
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
  template <class F>
  auto guarded(const char* what, F&& fn) -> decltype(fn());
  template <class F>
  auto write(const char* what, F&& fn) -> decltype(fn());
  void migrate();
  void refresh_file_documents(int64_t photo_id);
  void write_derived(int64_t photo_id, const std::string& task, const Derived& derived);

  std::string path_;
  bool read_only_ = false;
  int busy_timeout_ms_;
  std::unique_ptr<sqlite::Db> db_;
  std::recursive_mutex mu_;
  int batch_depth_ = 0;
};

}  // namespace dr::catalog
