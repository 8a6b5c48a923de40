// darkroom work: the worker pool over the library's queue. Each photo is decoded once for all its leased tasks;
// results are stored with the job's completion. Ctrl-C stops leasing and lets the photos in hand finish.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "analyzers/task.h"
#include "cli/library.h"
#include "jobs/analysis_runner.h"
#include "jobs/progress.h"
#include "jobs/signals.h"
#include "jobs/worker_pool.h"

namespace dr::cli {
namespace {

struct WorkArgs {
  bool until_idle = false;
  std::string tasks;
  uint64_t max_pixels = image::Limits{}.max_pixels;
};

void run_work(Globals& g, const WorkArgs& a) {
  jobs::install_stop_handlers();
  auto lib = open_library(g);
  auto store = open_catalog(lib, true);
  const auto& settings = lib.settings();
  const auto& qs = settings["queue"];
  int64_t lease_ms = int64_t(qs.value("lease_seconds", 60.0) * 1000);
  jobs::Queue queue(*store, jobs::RetryPolicy::from_settings(settings), std::max<int64_t>(lease_ms, 100));

  // The tasks this process can run: those with jobs in the library (or --tasks), whose models are installed.
  std::vector<std::string> wanted;
  try {
    if (!a.tasks.empty()) wanted = analyzers::parse_task_list(a.tasks);
  } catch (const std::invalid_argument& e) {
    throw UserError(e.what());
  }
  if (wanted.empty()) {
    for (const auto& [task, states] : store->counts().by_task) wanted.push_back(task);
    // A worker that waits for work also takes the tasks `add` will queue: the library's, else every task whose
    // models are installed.
    if (!a.until_idle) {
      std::vector<std::string> more;
      const auto& s = lib.settings()["tasks"];
      if (s.is_array() && !s.empty()) {
        for (const auto& t : s)
          if (t.is_string()) more.push_back(t.get<std::string>());
      } else {
        more = analyzers::available_tasks(model_store(g));
      }
      for (const auto& t : more)
        if (std::find(wanted.begin(), wanted.end(), t) == wanted.end()) wanted.push_back(t);
    }
  }

  int workers = threads(g);
  auto ro = runtime_options(g);
  // Worker threads share the cores with ONNX Runtime's own threads: split them instead of oversubscribing.
  ro.threads = std::max(1, int(std::max(1u, std::thread::hardware_concurrency())) / workers);
  auto models = model_store(g);
  runtime::Runtime rt(ro);
  analyzers::TaskContext ctx{rt, models, settings.value("analyzers", nlohmann::json::object())};
  std::vector<std::unique_ptr<analyzers::Task>> owned;
  std::map<std::string, analyzers::Task*> tasks;
  std::vector<std::string> names;
  const auto& known = analyzers::known_tasks();
  for (const auto& name : wanted) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::fprintf(stderr, "darkroom: the library has %s jobs but this darkroom does not know that task; skipped\n",
                   name.c_str());
      continue;
    }
    try {
      owned.push_back(analyzers::make_task(name, ctx));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "darkroom: %s jobs wait: %s\n", name.c_str(), e.what());
      continue;
    }
    tasks[name] = owned.back().get();
    names.push_back(name);
    // A result made by other models than the installed ones is redone.
    if (int n = store->requeue_stale(name, jobs::AnalysisRunner::models_json(*owned.back())))
      std::fprintf(stderr, "darkroom: %d %s results were made by other models; queued again\n", n, name.c_str());
  }
  if (names.empty()) {
    if (!g.quiet) std::fprintf(stderr, "darkroom: no task can run here; nothing to do\n");
    return;
  }

  std::map<std::string, int> concurrency;
  if (qs.contains("task_concurrency") && qs["task_concurrency"].is_object())
    for (const auto& [k, v] : qs["task_concurrency"].items()) concurrency[k] = v.get<int>();
  image::Limits limits;
  limits.max_pixels = a.max_pixels;
  jobs::AnalysisRunner runner(tasks, limits, concurrency);

  jobs::PoolOptions po;
  po.threads = workers;
  po.until_idle = a.until_idle;
  po.tasks = names;
  po.stop_deadline_ms = int64_t(qs.value("stop_deadline_seconds", 30.0) * 1000);
  po.stop_requested = jobs::stop_requested;
  jobs::WorkerPool pool(queue, runner, po);

  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<jobs::Progress> progress;
  if (!g.quiet) {
    progress = std::make_unique<jobs::Progress>(
        [&] {
          jobs::ProgressSample s;
          s.photos_done = pool.stats().photos;
          s.failures = pool.stats().failed;
          s.photos_remaining = store->pending_photos();
          return s;
        },
        ::isatty(STDERR_FILENO) != 0);
    progress->start();
  }
  jobs::PoolSummary summary;
  try {
    summary = pool.run();
  } catch (...) {
    if (progress) progress->stop();
    throw;
  }
  if (summary.deadline_exceeded) {
    std::fprintf(stderr, "darkroom: work still running at the stop deadline was given back to the queue\n");
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(128 + (jobs::stop_signal() ? jobs::stop_signal() : 15));
  }
  if (progress) progress->stop();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto& st = pool.stats();
  if (g.json) {
    print_json_line({{"photos", st.photos.load()},
                     {"done", st.done.load()},
                     {"failed", st.failed.load()},
                     {"retried", st.retried.load()},
                     {"released", st.released.load()},
                     {"seconds", secs},
                     {"stopped", summary.stopped}});
  } else if (!g.quiet) {
    std::fprintf(stderr, "work: %lld photos in %.1f s: %lld jobs done, %lld failed, %lld to retry later%s\n",
                 (long long)st.photos.load(), secs, (long long)st.done.load(), (long long)st.failed.load(),
                 (long long)st.retried.load(), st.failed ? "; `darkroom status` shows why" : "");
  }
  if (summary.stopped) g.exit_code = 128 + (jobs::stop_signal() ? jobs::stop_signal() : 15);
}

}  // namespace

void register_work(CLI::App& app, Globals& g) {
  auto a = std::make_shared<WorkArgs>();
  auto* cmd = app.add_subcommand("work", "analyse the queued photos with a pool of workers (--threads N)");
  cmd->add_flag("--until-idle", a->until_idle, "return when nothing is left to do (default: keep waiting for work)");
  cmd->add_option("--tasks", a->tasks, "only these tasks (default: every task with jobs whose models are installed)");
  cmd->add_option("--max-pixels", a->max_pixels, "refuse images with more pixels than this (checked before decoding)");
  cmd->callback([&g, a] { run_work(g, *a); });
}

}  // namespace dr::cli
