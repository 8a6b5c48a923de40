// The job queue on PostgreSQL with analysis switched off: how many jobs per second can be leased and completed with
// durable commits. Goal (issue 19): at least 1,000 jobs/s on the 2-core machine, batched. Needs a server:
//   DARKROOM_BENCH_PG=postgresql://postgres@/postgres?host=/tmp/scratch/pg-bench/sock build/bench/postgres_queue_bench
// (bench/postgres_bench.sh starts one with fsync on and runs this). Each benchmark gets a database of its own.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "catalog/postgres.h"
#include "catalog/postgres_store.h"
#include "jobs/queue.h"
#include "jobs/worker_pool.h"

namespace {

using dr::catalog::PostgresStore;

std::unique_ptr<PostgresStore> fresh(benchmark::State& state) {
  const char* server = std::getenv("DARKROOM_BENCH_PG");
  if (!server || !*server) {
    state.SkipWithError("set DARKROOM_BENCH_PG to a PostgreSQL server's URL (bench/postgres_bench.sh does)");
    return nullptr;
  }
  static std::atomic<int> seq{0};
  std::string name = "qbench" + std::to_string(::getpid()) + "_" + std::to_string(seq++);
  std::string url = server;
  dr::catalog::pg::Conn c(url);
  c.exec("DROP DATABASE IF EXISTS " + name);
  c.exec("CREATE DATABASE " + name);
  auto at = url.find("@/");
  url = url.substr(0, at + 2) + name + url.substr(url.find('?'));
  dr::catalog::PostgresOptions o;
  o.create = true;
  return std::make_unique<PostgresStore>(url, o);
}

// Photos with `tasks` jobs each, a batch of them per transaction (not timed).
void fill(PostgresStore& store, int photos, const std::vector<std::string>& tasks) {
  dr::jobs::Queue q(store);
  for (int first = 0; first < photos; first += 500)
    store.batch([&] {
      for (int i = first; i < std::min(photos, first + 500); ++i) {
        dr::catalog::PhotoFacts f;
        f.content_hash = "h" + std::to_string(i);
        int64_t id = store.add_photo(f);
        store.put_path("/p/" + std::to_string(i) + ".jpg", id, 1, 1, 1);
        q.enqueue(id, tasks);
      }
    });
}

// Lease `batch` photos of one job each in one transaction, complete them in one transaction: two durable commits
// per batch. batch=1 is one lease and one completion per job.
void BM_PgLeaseComplete(benchmark::State& state) {
  const int batch = int(state.range(0));
  auto store = fresh(state);
  if (!store) return;
  fill(*store, 4000, {"pdq"});
  dr::jobs::Queue q(*store);
  nlohmann::json result = {{"hash", std::string(64, 'a')}, {"quality", 100}};
  nlohmann::json models = nlohmann::json::array();
  int64_t jobs = 0;
  for (auto _ : state) {
    auto got = q.lease("bench/1/0", batch, {});
    if (got.empty()) {
      state.PauseTiming();
      q.retry({dr::catalog::JobState::Done}, {});
      state.ResumeTiming();
      continue;
    }
    store->batch([&] {
      for (const auto& p : got)
        for (const auto& l : p.jobs) jobs += q.complete(l, result, models);
    });
  }
  state.counters["jobs/s"] = benchmark::Counter(double(jobs), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PgLeaseComplete)->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

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

// The worker pool's own loop (a photo's jobs leased together, each completion its own commit) with a runner that
// does nothing: 1000 photos of 2 jobs.
void BM_PgPool(benchmark::State& state) {
  const int threads = int(state.range(0));
  int64_t jobs = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto store = fresh(state);
    if (!store) return;
    fill(*store, 1000, {"pdq", "faces"});
    state.ResumeTiming();
    dr::jobs::Queue q(*store);
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
BENCHMARK(BM_PgPool)->Arg(2)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace
