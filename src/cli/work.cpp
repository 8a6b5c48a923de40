// darkroom work: the worker pool over the library's queue. Each photo is decoded once for all its leased tasks;
// results are stored with the job's completion. Ctrl-C stops leasing and lets the photos in hand finish.
#include "app/work.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/library.h"
#include "jobs/progress.h"
#include "jobs/signals.h"

namespace dr::cli {
namespace {

struct WorkArgs {
  bool until_idle = false;
  std::string tasks;
  uint64_t max_pixels = image::Limits{}.max_pixels;
  std::vector<std::string> path_map;
};

void run_work(Globals& g, const WorkArgs& a) {
  jobs::install_stop_handlers();
  int workers = threads(g);
  auto config = app_config(g);
  // Worker threads share the cores with ONNX Runtime's own threads: split them instead of oversubscribing.
  config.runtime.threads = app::inference_threads(workers);
  app::Session s(config, true);
  app::WorkOptions o;
  o.until_idle = a.until_idle;
  o.tasks = a.tasks;
  o.max_pixels = a.max_pixels;
  o.workers = workers;
  o.path_map = a.path_map;
  o.stop_requested = jobs::stop_requested;
  o.say = [](const std::string& m) { std::fprintf(stderr, "darkroom: %s\n", m.c_str()); };
  app::Worker worker(s, o);
  if (worker.tasks().empty()) {
    if (!g.quiet) std::fprintf(stderr, "darkroom: no task can run here; nothing to do\n");
    return;
  }

  auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<jobs::Progress> progress;
  if (!g.quiet) {
    progress = std::make_unique<jobs::Progress>(
        [&] {
          jobs::ProgressSample p;
          p.photos_done = worker.stats().photos;
          p.failures = worker.stats().failed;
          p.photos_remaining = s.store().pending_photos();
          return p;
        },
        ::isatty(STDERR_FILENO) != 0);
    progress->start();
  }
  jobs::PoolSummary summary;
  try {
    summary = worker.run();
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
  const auto& st = worker.stats();
  if (g.json) {
    print_json_line({{"photos", st.photos.load()},
                     {"done", st.done.load()},
                     {"failed", st.failed.load()},
                     {"retried", st.retried.load()},
                     {"released", st.released.load()},
                     {"deferred", st.deferred.load()},
                     {"timed_out", st.timed_out.load()},
                     {"seconds", secs},
                     {"stopped", summary.stopped}});
  } else if (!g.quiet) {
    std::fprintf(stderr, "work: %lld photos in %.1f s: %lld jobs done, %lld failed, %lld to retry later%s\n",
                 (long long)st.photos.load(), secs, (long long)st.done.load(), (long long)st.failed.load(),
                 (long long)st.retried.load(), st.failed ? "; `darkroom status` shows why" : "");
  }
  if (summary.stopped) g.exit_code = 128 + (jobs::stop_signal() ? jobs::stop_signal() : 15);
  if (!summary.halted.empty()) {
    std::fprintf(stderr, "darkroom: %s\n", summary.halted.c_str());
    g.exit_code = 1;
  }
  if (summary.must_exit()) {
    // Analyses abandoned at the time limit are still running on their threads: nothing they use may be destroyed.
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(g.exit_code);
  }
}

}  // namespace

void register_work(CLI::App& app, Globals& g) {
  auto a = std::make_shared<WorkArgs>();
  auto* cmd = app.add_subcommand("work", "analyse the queued photos with a pool of workers (--threads N)");
  cmd->add_flag("--until-idle", a->until_idle, "return when nothing is left to do (default: keep waiting for work)");
  cmd->add_option("--tasks", a->tasks, "only these tasks (default: every task with jobs whose models are installed)");
  cmd->add_option("--max-pixels", a->max_pixels, "refuse images with more pixels than this (checked before decoding)");
  cmd->add_option("--path-map", a->path_map,
                  "FROM=TO: read the photos catalogued under FROM at TO on this machine (a shared library whose "
                  "folders are mounted elsewhere here; repeatable)");
  cmd->callback([&g, a] { run_work(g, *a); });
}

}  // namespace dr::cli
