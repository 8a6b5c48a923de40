// The durable job queue on top of a catalog store: leasing with an expiry, heartbeats, and the retry policy
// (exponential backoff with jitter up to a maximum number of attempts, then a dead letter with the last error;
// permanent failures fail at once). It knows nothing about models or images: jobs are (photo, task) pairs.
#pragma once
#include <mutex>
#include <nlohmann/json.hpp>
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
  Queue(catalog::Store& store, RetryPolicy policy, int64_t lease_ms);

  catalog::Store& store() { return store_; }
  const RetryPolicy& policy() const { return policy_; }
  int64_t lease_ms() const { return lease_ms_; }

  std::vector<catalog::LeasedPhoto> lease(const std::string& owner, int max_photos,
                                          const std::vector<std::string>& tasks);
  int heartbeat(const std::vector<int64_t>& lease_ids);
  // Stores the result with the job's completion; false when the lease was lost (nothing written).
  bool complete(const catalog::Lease& lease, const nlohmann::json& result, const nlohmann::json& models);
  // Records a failure by the policy; returns the state the job went to (Running when the lease was lost).
  catalog::JobState fail(const catalog::Lease& lease, const std::string& error, bool permanent);
  void release(const std::vector<catalog::Lease>& leases);

 private:
  catalog::Store& store_;
  RetryPolicy policy_;
  int64_t lease_ms_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace dr::jobs
