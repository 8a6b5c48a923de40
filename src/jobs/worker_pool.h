// The worker pool: threads that lease the jobs of one photo at a time, hand them to a Runner (which decodes the
// photo once and runs its tasks) and record each outcome through the queue. A heartbeat keeps the leases of work
// in progress alive. On a stop request the pool stops leasing, lets the photos in hand finish, and releases what
// is left when the deadline passes. The pool knows nothing about models: the Runner does the work.
#pragma once
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/store.h"
#include "jobs/queue.h"

namespace dr::jobs {

struct Outcome {
  // Deferred: this worker cannot run it (it cannot see the photo's folder), another may; queued again a little
  // later, the attempt not counted. Halted: this machine cannot go on (its disk is full or read-only): the job is
  // given back, the attempt not counted, and the pool stops with `error`.
  enum Kind { Done, Failed, Released, Deferred, Halted } kind = Done;
  nlohmann::json result;                            // Done
  nlohmann::json models = nlohmann::json::array();  // Done: [{"id","sha256"}]
  std::string error;                                // Failed, Deferred, Halted: a sentence
  bool permanent = false;                           // Failed: retrying cannot help
};

class Runner {
 public:
  virtual ~Runner() = default;
  // Runs the leased jobs of one photo and calls done(i, outcome) once for each job i of photo.jobs, as each
  // finishes (so that a result is stored as soon as it exists). `cancelled()` turns true when the pool must give
  // its work back now; jobs not started by then should be reported Released.
  virtual void run(const catalog::LeasedPhoto& photo, const std::function<void(size_t, Outcome)>& done,
                   const std::function<bool()>& cancelled) = 0;
};

struct PoolOptions {
  int threads = 1;
  bool until_idle = false;               // return when no job of `tasks` is queued or running any more
  std::vector<std::string> tasks;        // the tasks this pool can run (empty: any)
  int64_t poll_ms = 250;                 // how often an idle worker looks for work
  int64_t stop_deadline_ms = 30000;      // after a stop request, how long photos in hand may take
  std::string owner;                     // lease owner prefix ("host/pid"); a thread index is appended
  std::function<bool()> stop_requested;  // polled; may be empty
  int64_t defer_pause_ms = 10'000;       // a worker that left a photo to others leases nothing this long
  // A job running longer than this (a decoder or model that hangs) is abandoned: its photo's unfinished jobs fail
  // with the reason (retried by the policy, dead after max_attempts), the thread is left to itself and a new one
  // takes its place. 0: no limit. Decoding counts towards the photo's first job.
  int64_t job_time_limit_ms = 0;
  int max_abandoned = 0;  // stuck threads the process tolerates before the pool stops (0: 4 per thread)
};

struct PoolStats {
  std::atomic<int64_t> photos{0};     // photos whose jobs all ended (done or failed)
  std::atomic<int64_t> done{0};       // jobs completed
  std::atomic<int64_t> failed{0};     // jobs failed for good (failed or dead)
  std::atomic<int64_t> retried{0};    // transient failures re-queued
  std::atomic<int64_t> lost{0};       // outcomes dropped because the lease was lost
  std::atomic<int64_t> released{0};   // jobs given back on stop
  std::atomic<int64_t> deferred{0};   // jobs left for other workers (this one cannot see their photo)
  std::atomic<int64_t> timed_out{0};  // jobs abandoned at the time limit (also counted in failed or retried)
};

struct PoolSummary {
  bool stopped = false;  // a stop request ended the run
  // Some work was still running at the deadline: its leases were released and its threads detached; the caller
  // must end the process (std::_Exit) without destroying the runner or the store.
  bool deadline_exceeded = false;
  // Analyses abandoned at the time limit that had not returned when the pool ended: as with deadline_exceeded,
  // their threads are detached and the caller must end the process with std::_Exit.
  int abandoned = 0;
  std::string halted;  // set when the pool stopped by itself with threads left behind: why, as a sentence
  bool must_exit() const { return deadline_exceeded || abandoned > 0; }
};

class WorkerPool {
 public:
  WorkerPool(Queue& queue, Runner& runner, PoolOptions opts);
  ~WorkerPool();
  // Runs until stopped (or idle with until_idle). Throws the first fatal store error a worker met.
  PoolSummary run();
  const PoolStats& stats() const { return stats_; }

 private:
  struct Impl;
  Queue& queue_;
  Runner& runner_;
  PoolOptions opts_;
  PoolStats stats_;
};

// "host/pid": the owner prefix of this process's leases.
std::string process_owner();
// For Store::reclaim: true when the owner is a process of this host that no longer exists.
bool owner_is_dead_local(const std::string& owner);

}  // namespace dr::jobs
