// The job queue with analysis switched off: how many jobs per second the SQLite catalog can enqueue, lease and
// complete. Goal (issue 4): >= 2,000 jobs/s. The catalog lives in a temp folder on the machine's disk (WAL,
// synchronous=NORMAL, as a library does).
//   build/bench/queue_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "catalog/sqlite_store.h"
#include "jobs/queue.h"
#include "jobs/worker_pool.h"

namespace {

using dr::catalog::SqliteOptions;
using dr::catalog::SqliteStore;

struct Scratch {
  std::string dir;
  Scratch() {
    std::string t = (std::filesystem::temp_directory_path() / "darkroom-qbench-XXXXXX").string();
    dir = ::mkdtemp(t.data());
  }
  ~Scratch() { std::filesystem::remove_all(dir); }
};

std::unique_ptr<SqliteStore> fresh(const Scratch& s, const std::string& name) {
  SqliteOptions o;
  o.create = true;
  std::filesystem::remove(s.dir + "/" + name);
  return std::make_unique<SqliteStore>(s.dir + "/" + name, o);
}

// Photos with `tasks` jobs each, as `add` creates them (one transaction per photo).
void fill(SqliteStore& store, int photos, const std::vector<std::string>& tasks, int64_t first = 0) {
  for (int i = 0; i < photos; ++i) {
    dr::catalog::PhotoFacts f;
    f.content_hash = "h" + std::to_string(first + i);
    store.batch([&] {
      int64_t id = store.add_photo(f);
      store.put_path("/p/" + std::to_string(first + i) + ".jpg", id, 1, 1, 1);
      dr::jobs::Queue(store).enqueue(id, tasks);
    });
  }
}

// Enqueue: a new photo with its path and 2 jobs per transaction (what `add` does for a new file).
void BM_Enqueue(benchmark::State& state) {
  Scratch s;
  auto store = fresh(s, "c.db");
  int64_t n = 0;
  for (auto _ : state) {
    fill(*store, 100, {"pdq", "faces"}, n);
    n += 100;
  }
  state.counters["jobs/s"] = benchmark::Counter(double(n) * 2, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Enqueue)->Unit(benchmark::kMillisecond)->UseRealTime();

// Lease one photo's jobs, then complete each with a small result: the loop a worker runs, without analysis.
void BM_LeaseComplete(benchmark::State& state) {
  const int tasks_per_photo = int(state.range(0));
  std::vector<std::string> tasks = {"pdq", "faces", "objects", "text"};
  tasks.resize(size_t(tasks_per_photo));
  Scratch s;
  auto store = fresh(s, "c.db");
  const int photos = 2000;
  fill(*store, photos, tasks);
  dr::jobs::Queue q(*store, dr::jobs::RetryPolicy{}, 60'000);
  nlohmann::json result = {{"hash", std::string(64, 'a')}, {"quality", 100}};
  nlohmann::json models = nlohmann::json::array();
  int64_t jobs = 0;
  for (auto _ : state) {
    auto got = q.lease("bench/1/0", 1, {});
    if (got.empty()) {
      state.PauseTiming();
      q.retry({dr::catalog::JobState::Done}, {});
      state.ResumeTiming();
      continue;
    }
    for (const auto& l : got[0].jobs) {
      q.complete(l, result, models);
      ++jobs;
    }
  }
  state.counters["jobs/s"] = benchmark::Counter(double(jobs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LeaseComplete)->Arg(1)->Arg(4)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The worker pool's whole loop (threads, heartbeat, lease, complete) with a runner that does nothing: 1000
// photos of 2 jobs queued (not timed), then the pool runs until idle.
class NoopRunner : public dr::jobs::Runner {
 public:
  void run(const dr::catalog::LeasedPhoto& p, const std::function<void(size_t, dr::jobs::Outcome)>& done,
           const std::function<bool()>&) override {
    for (size_t i = 0; i < p.jobs.size(); ++i) {
      dr::jobs::Outcome o;
      o.result = {{"job", p.jobs[i].job_id}};
      done(i, std::move(o));
    }
  }
};

void BM_PoolLeaseComplete(benchmark::State& state) {
  const int threads = int(state.range(0));
  const int photos = 1000;
  Scratch s;
  int64_t jobs = 0;
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = fresh(s, "pool" + std::to_string(round++) + ".db");
    fill(*store, photos, {"pdq", "faces"});
    state.ResumeTiming();
    dr::jobs::Queue q(*store, dr::jobs::RetryPolicy{}, 60'000);
    NoopRunner runner;
    dr::jobs::PoolOptions o;
    o.threads = threads;
    o.until_idle = true;
    dr::jobs::WorkerPool pool(q, runner, o);
    pool.run();
    jobs += pool.stats().done;
  }
  state.counters["jobs/s"] = benchmark::Counter(double(jobs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PoolLeaseComplete)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
