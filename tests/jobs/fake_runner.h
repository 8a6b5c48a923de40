// A Runner for queue tests: no images, no models. Its behaviour is chosen by the task's name:
//   "ok*": succeeds with {"job": id, "task": name}; "flaky": fails transiently on its first two attempts;
//   "bad": fails permanently; "always": fails transiently every time.
#pragma once
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "jobs/worker_pool.h"

namespace dr::test {

class FakeRunner : public jobs::Runner {
 public:
  explicit FakeRunner(int max_sleep_ms = 0, unsigned seed = 1) : max_sleep_ms_(max_sleep_ms), rng_(seed) {}
  std::atomic<int> runs{0};

  void run(const catalog::LeasedPhoto& photo, const std::function<void(size_t, jobs::Outcome)>& done,
           const std::function<bool()>&) override {
    for (size_t i = 0; i < photo.jobs.size(); ++i) {
      const auto& l = photo.jobs[i];
      ++runs;
      if (max_sleep_ms_ > 0) {
        int ms;
        {
          std::lock_guard lock(mu_);
          ms = std::uniform_int_distribution<int>(0, max_sleep_ms_)(rng_);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      }
      jobs::Outcome o;
      if (l.task == "bad" || (l.task == "flaky" && l.attempts <= 2) || l.task == "always") {
        o.kind = jobs::Outcome::Failed;
        o.permanent = l.task == "bad";
        o.error = l.task + " failed on attempt " + std::to_string(l.attempts);
      } else {
        o.result = {{"job", l.job_id}, {"task", l.task}};
        o.models = nlohmann::json::array({{{"id", "fake/" + l.task}, {"sha256", "00"}}});
      }
      done(i, std::move(o));
    }
  }

 private:
  int max_sleep_ms_;
  std::mutex mu_;
  std::mt19937 rng_;
};

}  // namespace dr::test
