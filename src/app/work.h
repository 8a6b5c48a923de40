// The worker pool over a library's queue, set up as `work` and `serve` both need it: the tasks this process can
// run (those with jobs in the library, or asked for, whose models are installed), each made once and shared by
// every worker thread; results made by other models queued again; and the incremental people step after new
// faces arrive.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/task.h"
#include "app/session.h"
#include "jobs/analysis_runner.h"
#include "jobs/worker_pool.h"

namespace dr::app {

struct WorkOptions {
  bool until_idle = false;
  std::string tasks;  // comma-separated (empty: every task with jobs, and for a waiting worker those `add` queues)
  uint64_t max_pixels = image::Limits{}.max_pixels;
  int workers = 1;
  std::function<bool()> stop_requested;
  std::function<void(const std::string&)> say;  // notes for the user, one sentence each (may be empty)
  // FROM=TO: catalogued paths under FROM are read under TO on this machine (see jobs::AnalysisRunner::map_paths).
  std::vector<std::string> path_map;
};

// ONNX Runtime's threads per model run when `workers` threads each run models: the cores split between them.
int inference_threads(int workers);

class Worker {
 public:
  // Makes the tasks with the session's runtime (give it inference_threads(workers) threads). Error::BadInput for
  // an unknown task in o.tasks.
  Worker(Session& s, WorkOptions o);
  ~Worker();
  // The tasks that can run here; empty: nothing to do.
  const std::vector<std::string>& tasks() const { return names_; }
  // Runs until stopped (or idle with until_idle); see jobs::WorkerPool::run.
  jobs::PoolSummary run();
  const jobs::PoolStats& stats() const;

 private:
  void say(const std::string& m) const {
    if (o_.say) o_.say(m);
  }

  Session& s_;
  WorkOptions o_;
  std::vector<std::unique_ptr<analyzers::Task>> owned_;
  std::vector<std::string> names_;
  std::unique_ptr<jobs::AnalysisRunner> runner_;
  std::unique_ptr<jobs::WorkerPool> pool_;
};

}  // namespace dr::app
