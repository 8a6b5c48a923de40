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

// Fencing tokens: random, positive, 62 bits. A token only has to differ from the one a job held before, on any
// machine; no backend needs a shared counter for it.
std::vector<int64_t> Queue::tokens(size_t n) {
  std::lock_guard lock(rng_mu_);
  std::vector<int64_t> out(n);
  for (auto& t : out) t = int64_t(rng_() >> 2) | 1;
  return out;
}

int Queue::enqueue(int64_t photo_id, const std::vector<std::string>& tasks) {
  return store_.insert_jobs(photo_id, tasks, now());
}

std::vector<catalog::LeasedPhoto> Queue::lease(const std::string& owner, int max_photos,
                                               const std::vector<std::string>& tasks) {
  std::vector<catalog::LeasedPhoto> out;
  catalog::LeaseOrder o;
  o.owner = owner;
  o.tasks = tasks;
  // Leases that ended without an answer first: they are the oldest work.
  o.expired = true;
  o.now_ms = now();
  o.until_ms = o.now_ms + lease_ms_;
  o.tokens = tokens(size_t(std::max(1, max_photos)));
  for (auto& photo : store_.lease_ready(o)) {
    std::vector<catalog::Lease> kept;
    for (const auto& l : photo.jobs) {
      // Its worker ran it `attempts - 1` times and never answered: a photo that kills or hangs its worker ends
      // dead here rather than take down worker after worker.
      int died = l.attempts - 1;
      if (died >= policy_.max_attempts) {
        store_.finish(l, JobState::Dead, o.now_ms,
                      "the worker analysing this photo stopped without an answer (it hung, or its machine went away) " +
                          std::to_string(died) + " times; `darkroom retry --dead` tries again",
                      -1, o.now_ms);
        continue;
      }
      kept.push_back(l);
    }
    photo.jobs = std::move(kept);
    if (!photo.jobs.empty()) out.push_back(std::move(photo));
  }
  if (int(out.size()) < max_photos) {
    o.expired = false;
    o.tokens = tokens(size_t(max_photos) - out.size());
    for (auto& photo : store_.lease_ready(o)) out.push_back(std::move(photo));
  }
  return out;
}

int Queue::heartbeat(const std::vector<int64_t>& tokens) { return store_.extend_leases(tokens, now() + lease_ms_); }

bool Queue::complete(const catalog::Lease& lease, const nlohmann::json& result, const nlohmann::json& models) {
  return store_.complete(lease, result, models, now());
}

JobState Queue::fail(const catalog::Lease& lease, const std::string& error, bool permanent) {
  JobState next = policy_.next_state(lease.attempts, permanent);
  int64_t t = now(), after = t;
  if (next == JobState::Queued) {
    std::lock_guard lock(rng_mu_);
    after += policy_.delay_ms(lease.attempts, rng_);
  }
  std::string message = error;
  if (next == JobState::Dead)
    message += " (gave up after " + std::to_string(lease.attempts) + " attempts; `darkroom retry --dead` tries again)";
  return store_.finish(lease, next, after, message, 0, t) ? next : JobState::Running;
}

JobState Queue::crashed(const catalog::Lease& lease) {
  int64_t t = now();
  bool dead = lease.attempts >= policy_.max_attempts;
  std::string message = "the worker process crashed while analysing this photo (" + std::to_string(lease.attempts) +
                        (lease.attempts == 1 ? " time)" : " times)");
  if (dead) message += "; `darkroom retry --dead` tries again";
  if (!store_.finish(lease, dead ? JobState::Dead : JobState::Queued, t, message, 0, t)) return JobState::Running;
  return dead ? JobState::Dead : JobState::Queued;
}

void Queue::release(const std::vector<catalog::Lease>& leases) {
  if (leases.empty()) return;
  int64_t t = now();
  store_.batch([&] {
    for (const auto& l : leases) store_.finish(l, JobState::Queued, t, std::nullopt, -1, t);
  });
}

void Queue::defer(const catalog::Lease& lease, int64_t delay_ms) {
  int64_t t = now();
  store_.finish(lease, JobState::Queued, t + delay_ms, std::nullopt, -1, t);
}

int Queue::reclaim(const std::function<bool(const std::string&)>& is_dead) {
  int n = 0;
  for (const auto& o : store_.lease_owners())
    if (is_dead(o)) n += store_.expire_leases(o, true);
  return n;
}

int Queue::retry(const std::vector<JobState>& states, const std::vector<int64_t>& photo_ids) {
  return store_.requeue(states, photo_ids, now());
}

int Queue::requeue_stale(const std::string& task, const nlohmann::json& models) {
  return store_.requeue_stale(task, models, now());
}

catalog::QueueCounts Queue::counts() {
  catalog::QueueCounts c;
  static const JobState kStates[] = {JobState::Queued, JobState::Running, JobState::Done, JobState::Failed,
                                     JobState::Dead};
  for (auto st : kStates) c.jobs[catalog::to_string(st)] = 0;
  c.photos = store_.photo_count();
  for (const auto& [task, states] : store_.job_counts()) {
    auto& t = c.by_task[task];
    for (auto st : kStates) t[catalog::to_string(st)] = 0;
    for (const auto& [state, n] : states) {
      t[state] += n;
      c.jobs[state] += n;
    }
  }
  return c;
}

}  // namespace dr::jobs
