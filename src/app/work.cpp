#include "app/work.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "app/library_ops.h"
#include "app/people.h"

namespace dr::app {

int inference_threads(int workers) {
  return std::max(1, int(std::max(1u, std::thread::hardware_concurrency())) / std::max(1, workers));
}

Worker::Worker(Session& s, WorkOptions o) : s_(s), o_(std::move(o)) {
  auto& store = s_.store();
  const auto& settings = s_.library().settings();
  const auto& qs = settings["queue"];

  // The tasks this process can run: those with jobs in the library (or asked for), whose models are installed.
  std::vector<std::string> wanted;
  try {
    if (!o_.tasks.empty()) wanted = analyzers::parse_task_list(o_.tasks);
  } catch (const std::invalid_argument& e) {
    throw Error(Error::BadInput, e.what());
  }
  if (wanted.empty()) {
    for (const auto& [task, states] : store.job_counts()) wanted.push_back(task);
    // A worker that waits for work also takes the tasks `add` will queue.
    if (!o_.until_idle)
      for (const auto& t : tasks_for(s_))
        if (std::find(wanted.begin(), wanted.end(), t) == wanted.end()) wanted.push_back(t);
  }

  nlohmann::json analyzer_settings = settings.value("analyzers", nlohmann::json::object());
  // The thumbs task writes into the library.
  analyzer_settings["thumbs"]["dir"] = s_.thumbs_dir();
  analyzers::TaskContext ctx{s_.runtime(), s_.models(), analyzer_settings};
  std::map<std::string, analyzers::Task*> tasks;
  const auto& known = analyzers::known_tasks();
  for (const auto& name : wanted) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      say("the library has " + name + " jobs but this darkroom does not know that task; skipped");
      continue;
    }
    try {
      owned_.push_back(analyzers::make_task(name, ctx));
    } catch (const std::exception& e) {
      say(name + " jobs wait: " + e.what());
      continue;
    }
    tasks[name] = owned_.back().get();
    names_.push_back(name);
    // A result made by other models than the installed ones is redone.
    if (int n = s_.queue().requeue_stale(name, jobs::AnalysisRunner::models_json(*owned_.back())))
      say(std::to_string(n) + " " + name + " results were made by other models; queued again");
  }

  std::map<std::string, int> concurrency;
  if (qs.contains("task_concurrency") && qs["task_concurrency"].is_object())
    for (const auto& [k, v] : qs["task_concurrency"].items())
      if (v.is_number_integer()) concurrency[k] = v.get<int>();
  image::Limits limits;
  limits.max_pixels = o_.max_pixels;
  runner_ = std::make_unique<jobs::AnalysisRunner>(tasks, limits, concurrency);
  std::vector<std::pair<std::string, std::string>> map;
  for (const auto& m : o_.path_map) {
    auto eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size() || m[0] != '/' || m[eq + 1] != '/')
      throw Error(Error::BadInput,
                  "--path-map takes FROM=TO, two absolute folders (/photos=/mnt/nas/photos), not " + m);
    map.emplace_back(m.substr(0, eq), m.substr(eq + 1));
  }
  runner_->map_paths(std::move(map));
  runner_->leave_unseen_to_others(s_.library().shared());

  jobs::PoolOptions po;
  po.threads = std::max(1, o_.workers);
  po.until_idle = o_.until_idle;
  po.tasks = names_;
  po.stop_deadline_ms = int64_t(qs.value("stop_deadline_seconds", 30.0) * 1000);
  po.job_time_limit_ms = int64_t(qs.value("job_time_limit_seconds", 600.0) * 1000);
  po.stop_requested = o_.stop_requested;
  // A shared catalog tells idle workers when jobs are queued (LISTEN/NOTIFY): they poll less often.
  if (s_.library().shared()) po.poll_ms = 1000;
  pool_ = std::make_unique<jobs::WorkerPool>(s_.queue(), *runner_, po);
}

Worker::~Worker() = default;

const jobs::PoolStats& Worker::stats() const { return pool_->stats(); }

jobs::PoolSummary Worker::run() {
  bool faces = std::find(names_.begin(), names_.end(), "faces") != names_.end();
  // New faces are placed in persons while the pool runs (every few seconds, when the faces results changed) and
  // once more at the end.
  std::mutex mu;
  std::condition_variable cv;
  bool over = false;
  auto people_step = [&] {
    try {
      cluster_faces(s_.store(), false);
    } catch (const std::exception& e) {
      say(std::string("placing new faces in persons failed: ") + e.what());
    }
  };
  std::thread people;
  if (faces && !s_.store().read_only())
    people = std::thread([&] {
      auto stamp = s_.store().task_stamp("faces");
      std::unique_lock lock(mu);
      while (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return over; })) {
        lock.unlock();
        auto now = s_.store().task_stamp("faces");
        if (!(now == stamp)) {
          stamp = now;
          people_step();
        }
        lock.lock();
      }
    });
  auto finish = [&] {
    if (!people.joinable()) return;
    {
      std::lock_guard lock(mu);
      over = true;
    }
    cv.notify_all();
    people.join();
  };
  jobs::PoolSummary summary;
  try {
    summary = pool_->run();
  } catch (...) {
    finish();
    throw;
  }
  finish();
  if (faces && !summary.deadline_exceeded && !s_.store().read_only()) people_step();
  return summary;
}

}  // namespace dr::app
