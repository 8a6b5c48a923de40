#include "jobs/queue.h"

#include <algorithm>

namespace dr::jobs {

using catalog::JobState;

RetryPolicy RetryPolicy::from_settings(const nlohmann::json& s) {
  RetryPolicy p;
  if (!s.is_object() || !s.contains("queue") || !s["queue"].is_object()) return p;
  const auto& q = s["queue"];
  p.max_attempts = std::max(1, q.value("max_attempts", p.max_attempts));
  p.backoff_ms = std::max<int64_t>(0, q.value("backoff_ms", p.backoff_ms));
  p.backoff_max_ms = std::max<int64_t>(p.backoff_ms, q.value("backoff_max_ms", p.backoff_max_ms));
  return p;
}

JobState RetryPolicy::next_state(int attempts, bool permanent) const {
  if (permanent) return JobState::Failed;
  if (attempts >= max_attempts) return JobState::Dead;
  return JobState::Queued;
}

int64_t RetryPolicy::delay_ms(int attempts, std::mt19937_64& rng) const {
  int shift = std::clamp(attempts - 1, 0, 40);
  double d = std::min(double(backoff_max_ms), double(backoff_ms) * double(int64_t(1) << shift));
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return int64_t(d * jitter(rng));
}

Queue::Queue(catalog::Store& store, RetryPolicy policy, int64_t lease_ms)
    : store_(store), policy_(policy), lease_ms_(lease_ms), rng_(std::random_device{}()) {}

std::vector<catalog::LeasedPhoto> Queue::lease(const std::string& owner, int max_photos,
                                               const std::vector<std::string>& tasks) {
  catalog::LeaseRequest r;
  r.owner = owner;
  r.max_photos = max_photos;
  r.lease_ms = lease_ms_;
  r.tasks = tasks;
  return store_.lease(r);
}

int Queue::heartbeat(const std::vector<int64_t>& lease_ids) { return store_.heartbeat(lease_ids, lease_ms_); }

bool Queue::complete(const catalog::Lease& lease, const nlohmann::json& result, const nlohmann::json& models) {
  return store_.complete(lease, result, models);
}

JobState Queue::fail(const catalog::Lease& lease, const std::string& error, bool permanent) {
  JobState next = policy_.next_state(lease.attempts, permanent);
  int64_t after = catalog::now_ms();
  if (next == JobState::Queued) {
    std::lock_guard lock(rng_mu_);
    after += policy_.delay_ms(lease.attempts, rng_);
  }
  std::string message = error;
  if (next == JobState::Dead)
    message += " (gave up after " + std::to_string(lease.attempts) + " attempts; `darkroom retry --dead` tries again)";
  return store_.fail(lease, message, next, after) ? next : JobState::Running;
}

void Queue::release(const std::vector<catalog::Lease>& leases) { store_.release(leases); }

}  // namespace dr::jobs
