// The catalog: photos (identified by content), the paths they live at, one job per (photo, task), each task's
// result with the models that made it, and the searchable rows derived from results. One interface, several
// backends: SQLite (sqlite_store.h) now; a PostgreSQL store implements the same calls (leasing with
// FOR UPDATE SKIP LOCKED) without the queue, the analyzers or the CLI changing.
//
// Every method is safe to call from several threads of one process; several processes may share one catalog.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "catalog/derive.h"

namespace dr::catalog {

// Milliseconds since the Unix epoch (the clock every lease, backoff and timestamp uses).
int64_t now_ms();

// A catalog error the user can act on; busy() when another process held the database past the busy timeout.
class StoreError : public std::runtime_error {
 public:
  StoreError(const std::string& what, bool busy = false, bool read_only = false, bool full = false)
      : std::runtime_error(what), busy_(busy), read_only_(read_only), full_(full) {}
  bool busy() const { return busy_; }
  bool read_only() const { return read_only_; }
  bool full() const { return full_; }  // the disk holding the catalog is full

 private:
  bool busy_, read_only_, full_;
};

// What `add` learns about a photo the first time its content is seen.
struct PhotoFacts {
  std::string content_hash;  // sha256 of the file's bytes
  uint64_t size = 0;
  std::string format;         // "jpeg", "png", ... (empty: not recognised as an image)
  int width = 0, height = 0;  // as displayed (EXIF orientation applied)
  int orientation = 1;
  std::optional<std::string> taken_at;  // "YYYY-MM-DDTHH:MM:SS" from EXIF
  std::string file_date;                // "YYYY-MM-DD" from the file's mtime (dates search falls back to it)
  std::string camera_make, camera_model;
  std::optional<double> gps_lat, gps_lon, gps_alt;
};

struct Photo {
  int64_t id = 0;
  PhotoFacts facts;
  std::vector<std::string> paths;          // where it lives now
  std::vector<std::string> missing_paths;  // where it was seen and is no more
  bool missing() const { return paths.empty(); }
  std::string path() const { return paths.empty() ? (missing_paths.empty() ? "" : missing_paths[0]) : paths[0]; }
};

struct PathRecord {
  int64_t photo_id = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool missing = false;
};

enum class JobState { Queued, Running, Done, Failed, Dead };
const char* to_string(JobState s);
std::optional<JobState> parse_job_state(const std::string& s);

struct JobInfo {
  int64_t id = 0, photo_id = 0;
  std::string task;
  JobState state = JobState::Queued;
  int attempts = 0;
  std::string error;         // the last error (kept on a job that later succeeded? no: cleared when done)
  nlohmann::json models;     // of the stored result, when there is one
  int64_t run_after_ms = 0;  // queued: not before this (backoff)
};

// One leased job. lease_id is the fencing token: only the holder of the current lease may complete or fail it.
struct Lease {
  int64_t job_id = 0, photo_id = 0, lease_id = 0;
  std::string task;
  int attempts = 0;  // including this one
};

// The jobs of one photo leased together, so that the photo is decoded once for all its tasks.
struct LeasedPhoto {
  int64_t photo_id = 0;
  std::string path;          // a current path of the photo; empty when every path is missing
  std::string content_hash;  // the photo's identity (what thumbnails and other derived files are named by)
  std::vector<Lease> jobs;
};

// What Store::lease_ready leases: see there.
struct LeaseOrder {
  bool expired = false;         // leases that ended (their holder died or hung), else queued jobs that are due
  std::string owner;            // "host/pid/thread": who holds it (for diagnostics and dead-owner reclaim)
  std::vector<int64_t> tokens;  // one per photo leased, at most this many photos
  int64_t now_ms = 0, until_ms = 0;
  std::vector<std::string> tasks;  // only these tasks (empty: any)
  int attempt_delta = 1;
};

struct StoredResult {
  nlohmann::json value;
  nlohmann::json models;  // [{"id","sha256"}]
  int64_t updated_ms = 0;
};

struct QueueCounts {
  int64_t photos = 0;
  std::map<std::string, int64_t> jobs;                            // state -> count (every state present)
  std::map<std::string, std::map<std::string, int64_t>> by_task;  // task -> state -> count
};

struct FailureRow {
  int64_t photo_id = 0;
  std::string path, task, error;
  int attempts = 0;
  JobState state = JobState::Failed;
};

struct DocumentHit {
  int64_t photo_id = 0;
  double score = 0;  // higher is better
  std::string kind, text;
};

// A photo where the objects task saw a label: the best score and largest box of it (absent for a result stored
// before they were kept), and the photo's area in displayed pixels.
struct LabelHit {
  int64_t photo_id = 0;
  std::optional<double> score, area;
  double photo_area = 0;
};

// A person: faces grouped by people clustering, named by the user.
struct PersonRow {
  int64_t id = 0;
  std::string name;
  int64_t faces = 0;
  int64_t photo_id = 0;  // the photo of its representative face (the biggest; 0 when it has none)
};

// One face's place after clustering: person 0 = none.
struct FaceAssignment {
  int64_t face_id = 0, person_id = 0;
};

// A page of the photo list, newest first by the date taken (else the file's date), then by id.
struct PhotoQuery {
  size_t limit = 100;
  // Start after this (date, id), the last row of the previous page (the cursor).
  std::optional<std::pair<std::string, int64_t>> after;
  std::string task, state;  // only photos with a job of this task (any task when empty) in this state
  bool has_faces = false, has_text = false;
  std::string label;     // only photos where the objects task saw this label
  int64_t person = 0;    // only photos with a face of this person
  std::string from, to;  // date range, inclusive, compared by prefix: "2019", "2019-07-04"
};

struct PhotoSummary {
  int64_t id = 0;
  std::string content_hash, path, date, format;  // date: taken_at, else the file's date
  int width = 0, height = 0;
  bool taken = false;  // the date is the EXIF date the photo was taken
};

// A job's state as of its last change, for an event stream.
struct JobChange {
  int64_t job_id = 0, photo_id = 0;
  std::string task;
  JobState state = JobState::Queued;
  int64_t updated_ms = 0;
};

// How many results one task has and when the newest was written: enough to tell whether something built from
// them (a duplicate index, a vector index) is still current.
struct TaskStamp {
  int64_t count = 0, updated_ms = 0;
  friend bool operator==(const TaskStamp&, const TaskStamp&) = default;
};

// An API token: only its sha256 is stored.
struct TokenRow {
  int64_t id = 0;
  std::string name, sha256;
  int64_t created_ms = 0;
};

struct ScanStats;

class Store {
 public:
  virtual ~Store() = default;
  // True when the catalog was opened without write access (a read-only library): every write throws StoreError.
  virtual bool read_only() const = 0;

  // ---- photos and paths ----
  virtual std::optional<PathRecord> find_path(const std::string& path) = 0;
  virtual std::optional<int64_t> find_photo_by_hash(const std::string& content_hash) = 0;
  virtual int64_t add_photo(const PhotoFacts& facts) = 0;
  // Records that `path` holds photo_id now (new path, moved file, or changed content); clears its missing mark
  // and stamps it with scan_id.
  virtual void put_path(const std::string& path, int64_t photo_id, uint64_t size, int64_t mtime_ns,
                        int64_t scan_id) = 0;
  // An unchanged path seen again by the scan `scan_id`.
  virtual void touch_path(const std::string& path, int64_t scan_id) = 0;
  // Paths at or under `root` that the scan `scan_id` did not see (candidates for missing).
  virtual std::vector<std::string> unseen_paths(const std::string& root, int64_t scan_id) = 0;
  virtual void mark_missing(const std::vector<std::string>& paths) = 0;
  virtual std::optional<Photo> photo(int64_t id) = 0;
  virtual std::vector<int64_t> photo_ids() = 0;
  // Photos with more than one current path (byte-identical copies).
  virtual std::vector<int64_t> photos_with_copies() = 0;
  // Photos with a current path, newest first, filtered (see PhotoQuery).
  virtual std::vector<PhotoSummary> list_photos(const PhotoQuery& q) = 0;
  // Runs fn in one write transaction (for batches of small writes, e.g. a scan). Nested calls join the outer one.
  virtual void batch(const std::function<void()>& fn) = 0;

  // ---- jobs: the queue's primitives ----
  // Each is one statement or one transaction on the backend and holds no policy: which jobs are leased first, the
  // fencing tokens, when an attempt counts, the backoff and the dead letter are jobs::Queue's, the one queue API
  // (jobs/queue.h). Every time here is in milliseconds by the catalog's clock (clock_ms()); a token is the fencing
  // token of one leased photo: only its holder may change its jobs' state.

  // The catalog's clock: the machine's for SQLite, the database server's for a shared catalog (so that leases
  // mean the same on every machine).
  virtual int64_t clock_ms() = 0;
  // Creates the missing (photo, task) jobs, queued and due at now_ms; returns how many were created.
  virtual int insert_jobs(int64_t photo_id, const std::vector<std::string>& tasks, int64_t now_ms) = 0;
  // Atomically leases the ready jobs of up to order.tokens.size() photos, one token per photo: with order.expired,
  // jobs still running whose lease ended by order.now_ms; else queued jobs due by then, earliest first. Leased jobs
  // are running until order.until_ms under their photo's token, and their attempts grow by order.attempt_delta.
  virtual std::vector<LeasedPhoto> lease_ready(const LeaseOrder& order) = 0;
  // Fenced: extends to until_ms the leases of these tokens that are still held; returns how many jobs they cover.
  virtual int extend_leases(const std::vector<int64_t>& tokens, int64_t until_ms) = 0;
  // Fenced, in ONE transaction: checks the lease is still current, marks the job done, replaces the (photo, task)
  // result and its derived rows. False (and nothing written) when the lease was lost.
  virtual bool complete(const Lease& lease, const nlohmann::json& result, const nlohmann::json& models,
                        int64_t now_ms) = 0;
  // Fenced: ends a leased job's run: `next` (Queued: due at run_after_ms), the error (nullopt: keep the last one),
  // attempts changed by attempt_delta (-1 gives an attempt back). False when the lease was lost.
  virtual bool finish(const Lease& lease, JobState next, int64_t run_after_ms, const std::optional<std::string>& error,
                      int attempt_delta, int64_t now_ms) = 0;
  // The owners of leases held now, and expiring one owner's leases at once (their jobs become ready);
  // `give_back_attempt`: the attempts their leases counted are given back.
  virtual std::vector<std::string> lease_owners() = 0;
  virtual int expire_leases(const std::string& owner, bool give_back_attempt) = 0;
  // Queues again, with attempts reset, the jobs in `states` (of these photos; all when empty).
  virtual int requeue(const std::vector<JobState>& states, const std::vector<int64_t>& photo_ids, int64_t now_ms) = 0;
  // Queues again the done jobs of `task` whose stored result was made by other models than `models`.
  virtual int requeue_stale(const std::string& task, const nlohmann::json& models, int64_t now_ms) = 0;
  // Photos with a current path, and jobs by (task, state) as stored (states without jobs are absent).
  virtual int64_t photo_count() = 0;
  virtual std::map<std::string, std::map<std::string, int64_t>> job_counts() = 0;
  // Jobs of the given tasks (all when empty) that are not finished: queued or running.
  virtual int64_t pending(const std::vector<std::string>& tasks) = 0;
  // Photos with a queued or running job.
  virtual int64_t pending_photos() = 0;
  // The earliest moment a queued job becomes due or a running lease ends (none: nothing pending).
  virtual std::optional<int64_t> next_due_ms(const std::vector<std::string>& tasks) = 0;
  // Calls `fn` (from another thread) soon after jobs were queued by any process, where the backend can tell
  // (PostgreSQL's LISTEN/NOTIFY); idle workers still poll, since a notification can be lost (a pooler in transaction
  // mode drops them). The default tells nothing.
  virtual void on_jobs_queued(std::function<void()> fn) { (void)fn; }
  virtual std::vector<FailureRow> failures(size_t limit) = 0;
  virtual std::vector<JobInfo> jobs_of(int64_t photo_id) = 0;
  // Jobs whose state changed after `since_ms` (by the clock of now_ms()), oldest change first.
  virtual std::vector<JobChange> job_changes(int64_t since_ms, size_t limit) = 0;

  // ---- copying a library (`darkroom migrate`) ----
  // A job as it was elsewhere: its state (running becomes queued), attempts, last error and due time.
  virtual void restore_job(int64_t photo_id, const JobInfo& job) = 0;
  // A result as it was elsewhere, with its derived rows, without a lease.
  virtual void restore_result(int64_t photo_id, const std::string& task, const StoredResult& r) = 0;

  // ---- results and what is derived from them ----
  virtual std::map<std::string, StoredResult> results(int64_t photo_id) = 0;
  // Every stored result of one task: (photo id, result).
  virtual std::vector<std::pair<int64_t, nlohmann::json>> results_of_task(const std::string& task) = 0;
  // One stored result, when there is one.
  virtual std::optional<StoredResult> result(int64_t photo_id, const std::string& task) = 0;
  virtual TaskStamp task_stamp(const std::string& task) = 0;
  // Full-text search over the derived documents (FTS5 MATCH syntax) but those of kind `skip_kind`; best first.
  virtual std::vector<DocumentHit> search_documents(const std::string& fts_query, size_t limit,
                                                    const std::string& skip_kind) = 0;
  // Documents of one kind holding every one of `substrings` (3 characters or more each; case-insensitive) anywhere,
  // inside words too, that `keep` accepts (asked of each candidate's text, in catalog order), up to `limit`;
  // unranked (score 0). For words that OCR glued together ("harbourwindow").
  virtual std::vector<DocumentHit> search_substrings(const std::vector<std::string>& substrings,
                                                     const std::string& kind,
                                                     const std::function<bool(const std::string&)>& keep,
                                                     size_t limit) = 0;
  // Photos taken (or, without EXIF date, modified) on a date starting with `prefix` ("2019", "2019-07").
  virtual std::vector<std::pair<int64_t, std::string>> photos_by_date(const std::string& prefix, size_t limit) = 0;
  // Every photo with an object label (exactly that label, as the objects task names it).
  virtual std::vector<LabelHit> photos_with_label(const std::string& label) = 0;
  virtual std::vector<FaceRow> faces_of(int64_t photo_id) = 0;
  virtual std::vector<EmbeddingRow> embeddings(const std::string& model) = 0;

  // ---- people ----
  // Every face with an embedding, with its quality, person and pinned flag (for clustering).
  virtual std::vector<FaceRow> all_faces() = 0;
  // The user's "not this person" decisions as (face id, person id) for the faces there are now. A rejection is
  // kept by photo and face box, so it holds when the photo is analysed again.
  virtual std::vector<std::pair<int64_t, int64_t>> rejections() = 0;
  // In ONE transaction: creates `new_persons`, moves every face of `assignments` that the user did not pin, and
  // drops the unnamed persons left without faces.
  virtual void write_assignments(const std::vector<FaceAssignment>& assignments,
                                 const std::vector<int64_t>& new_persons) = 0;
  // Persons with at least one face, by id.
  virtual std::vector<PersonRow> persons() = 0;
  virtual std::optional<PersonRow> person(int64_t id) = 0;
  virtual std::optional<FaceRow> face(int64_t id) = 0;
  // The largest person id ever used (new persons take the next ones).
  virtual int64_t max_person_id() = 0;
  virtual void name_person(int64_t id, const std::string& name) = 0;
  // Every face of `from` goes to `into`, and the faces of both are pinned (the user said they are one person);
  // `from` is removed (its name too when `into` has one).
  virtual void merge_persons(int64_t into, int64_t from) = 0;
  // Puts a face in a person (pinned), or takes it out of every person when person_id is 0 (pinned too).
  virtual void move_face(int64_t face_id, int64_t person_id) = 0;
  // "Not this person": takes the face out of the person and records it so clustering never puts it back.
  virtual void reject_face(int64_t face_id, int64_t person_id) = 0;
  // Photos with a face of a person whose name matches `name` (case-insensitive; every word must match a word of
  // the name, a word ending in * as a prefix): (photo id, person's name).
  virtual std::vector<std::pair<int64_t, std::string>> photos_of_people_named(const std::string& name) = 0;

  // ---- duplicates the user reviewed ----
  // "Not duplicates": every pair of these photos is kept apart by duplicate grouping from now on.
  virtual void dismiss_duplicates(const std::vector<int64_t>& photo_ids) = 0;
  // The pairs kept apart, (a, b) with a < b.
  virtual std::vector<std::pair<int64_t, int64_t>> dismissed_pairs() = 0;

  // ---- API tokens (`darkroom token`, `darkroom serve`) ----
  virtual int64_t add_token(const std::string& name, const std::string& sha256) = 0;
  virtual std::vector<TokenRow> tokens() = 0;
  virtual std::optional<TokenRow> token_by_sha256(const std::string& sha256) = 0;
  virtual bool revoke_token(int64_t id) = 0;
};

}  // namespace dr::catalog
