// The durable job queue, the one way to the catalog's jobs: enqueueing, leasing with an expiry, heartbeats,
// completion, and the retry policy (exponential backoff with jitter up to a maximum number of attempts, then a dead
// letter with the last error; permanent failures fail at once). Its rules are written here once, over the small
// set of fenced primitives every catalog backend implements (catalog::Store's "jobs" section): the order in which
// ready jobs are leased (leases whose holder died or hung first, then queued jobs by due time), one fencing token
// per leased photo, when an attempt counts, the clock (the catalog's, so that every machine agrees), and the
// counts of every state. It knows nothing about models or images: jobs are (photo, task) pairs.
#pragma once
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "catalog/store.h"

namespace dr::jobs {

struct RetryPolicy {
  int max_attempts = 5;
  int64_t backoff_ms = 2000;        // the delay after the first failure; doubled after each further one
  int64_t backoff_max_ms = 600000;  // never longer than this
  // From a library's settings ({"queue": {"max_attempts", "backoff_ms", "backoff_max_ms"}}).
  static RetryPolicy from_settings(const nlohmann::json& settings);

  // Where a job goes after its attempt number `attempts` failed: Failed when permanent, Dead when out of attempts,
  // else Queued after a delay drawn uniformly in [d/2, d] with d = min(max, base * 2^(attempts-1)).
  catalog::JobState next_state(int attempts, bool permanent) const;
  int64_t delay_ms(int attempts, std::mt19937_64& rng) const;
};

class Queue {
 public:
  explicit Queue(catalog::Store& store, RetryPolicy policy = {}, int64_t lease_ms = 60'000);

  catalog::Store& store() { return store_; }
  const RetryPolicy& policy() const { return policy_; }
  int64_t lease_ms() const { return lease_ms_; }
  // The catalog's clock (ms since the Unix epoch).
  int64_t now() { return store_.clock_ms(); }

  // Creates the missing (photo, task) jobs, queued; returns how many.
  int enqueue(int64_t photo_id, const std::vector<std::string>& tasks);
  // The ready jobs of up to max_photos photos, each photo's jobs together under one new token, leased for
  // lease_ms: first jobs whose lease ended without an answer (their worker died, was killed or hung: that attempt
  // counted; one that ran out of attempts that way ends dead, saying so, instead of being leased), then queued jobs
  // by due time. Each lease counts as an attempt.
  std::vector<catalog::LeasedPhoto> lease(const std::string& owner, int max_photos,
                                          const std::vector<std::string>& tasks);
  // Extends the leases still held (by token); returns how many jobs they cover.
  int heartbeat(const std::vector<int64_t>& tokens);
  // Stores the result with the job's completion; false when the lease was lost (nothing written).
  bool complete(const catalog::Lease& lease, const nlohmann::json& result, const nlohmann::json& models);
  // Records a failure by the policy; returns the state the job went to (Running when the lease was lost).
  catalog::JobState fail(const catalog::Lease& lease, const std::string& error, bool permanent);
  // The worker process that held this lease crashed while analysing the photo (its own crash record says so):
  // the attempt counts, and after max_attempts crashes the job ends dead, saying so. Returns the state it went to.
  catalog::JobState crashed(const catalog::Lease& lease);
  // Gives leased jobs back untouched: queued, due now, the attempt not counted.
  void release(const std::vector<catalog::Lease>& leases);
  // Leaves a leased job for another worker: queued again, due in delay_ms, the attempt not counted.
  void defer(const catalog::Lease& lease, int64_t delay_ms);
  // Ends at once the leases of owners that `is_dead` (killed processes of this host); returns the jobs freed. Their
  // attempts are given back: a process killed from outside (Ctrl-C twice, SIGKILL, the OOM killer) says nothing
  // about its photos, and counting it would end innocent photos dead after a few kills. A process that crashed
  // records its photos first (WorkerPool), and those count through crashed(). Leases that end by their time (a
  // worker that hung, or a machine that went away) count too, and a photo whose workers stop that way
  // max_attempts times ends dead.
  int reclaim(const std::function<bool(const std::string& owner)>& is_dead);
  // Failed and/or dead jobs (of these photos; all when empty) queued again with attempts reset.
  int retry(const std::vector<catalog::JobState>& states, const std::vector<int64_t>& photo_ids);
  // Done jobs of `task` whose result other models made, queued again.
  int requeue_stale(const std::string& task, const nlohmann::json& models);

  // Photos, and jobs by state and by task, every state present (0 when none).
  catalog::QueueCounts counts();
  int64_t pending(const std::vector<std::string>& tasks) { return store_.pending(tasks); }
  int64_t pending_photos() { return store_.pending_photos(); }
  std::optional<int64_t> next_due_ms(const std::vector<std::string>& tasks) { return store_.next_due_ms(tasks); }

 private:
  std::vector<int64_t> tokens(size_t n);

  catalog::Store& store_;
  RetryPolicy policy_;
  int64_t lease_ms_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace dr::jobs
