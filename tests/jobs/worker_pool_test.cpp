#include "jobs/worker_pool.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <set>

#include "catalog/sqlite_store.h"
#include "jobs/fake_runner.h"
#include "jobs/queue.h"
#include "support/cli.h"

namespace dr::jobs {
namespace {

using catalog::JobState;
using catalog::SqliteOptions;
using catalog::SqliteStore;

// A catalog with `photos` photos, each with the given tasks queued, and an audit table that records every
// transition of a job to done (in the same transaction as the transition itself).
std::string make_catalog(const test::TempDir& dir, int photos, const std::vector<std::string>& tasks) {
  std::string path = dir / "catalog.db";
  SqliteOptions o;
  o.create = true;
  SqliteStore s(path, o);
  s.batch([&] {
    for (int i = 0; i < photos; ++i) {
      catalog::PhotoFacts f;
      f.content_hash = "h" + std::to_string(i);
      int64_t id = s.add_photo(f);
      s.put_path(dir / ("p" + std::to_string(i) + ".jpg"), id, 1, 1, 1);
      Queue(s).enqueue(id, tasks);
    }
  });
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_busy_timeout(db, 10000);
  sqlite3_exec(db,
               "CREATE TABLE audit(job_id INTEGER NOT NULL);"
               "CREATE TRIGGER audit_done AFTER UPDATE OF state ON jobs WHEN new.state='done' AND old.state<>'done' "
               "BEGIN INSERT INTO audit(job_id) VALUES (new.id); END;",
               nullptr, nullptr, nullptr);
  sqlite3_close(db);
  return path;
}

// Every job is done exactly once, with its own result.
void expect_all_done_exactly_once(const std::string& path, int jobs) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  auto count = [&](const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sql;
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
  };
  EXPECT_EQ(count("SELECT count(*) FROM jobs"), jobs);
  EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE state='done'"), jobs);
  EXPECT_EQ(count("SELECT count(*) FROM audit"), jobs) << "a job was completed more than once";
  EXPECT_EQ(count("SELECT count(DISTINCT job_id) FROM audit"), jobs);
  EXPECT_EQ(count("SELECT count(*) FROM results"), jobs);
  EXPECT_EQ(count("SELECT count(*) FROM results r JOIN jobs j ON j.photo_id=r.photo_id AND j.task=r.task "
                  "WHERE json_extract(r.value, '$.job')=j.id"),
            jobs);
  sqlite3_close(db);
}

PoolOptions opts(int threads, bool until_idle = true) {
  PoolOptions o;
  o.threads = threads;
  o.until_idle = until_idle;
  o.poll_ms = 20;
  return o;
}

TEST(RetryPolicy, BacksOffExponentiallyWithJitterThenGivesUp) {
  RetryPolicy p;
  p.max_attempts = 4;
  p.backoff_ms = 1000;
  p.backoff_max_ms = 5000;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 50; ++i) {
    auto d1 = p.delay_ms(1, rng), d2 = p.delay_ms(2, rng), d9 = p.delay_ms(9, rng);
    EXPECT_GE(d1, 500);
    EXPECT_LE(d1, 1000);
    EXPECT_GE(d2, 1000);
    EXPECT_LE(d2, 2000);
    EXPECT_GE(d9, 2500);
    EXPECT_LE(d9, 5000);  // capped
  }
  EXPECT_EQ(p.next_state(1, true), JobState::Failed);
  EXPECT_EQ(p.next_state(3, false), JobState::Queued);
  EXPECT_EQ(p.next_state(4, false), JobState::Dead);
  auto s = RetryPolicy::from_settings({{"queue", {{"max_attempts", 2}, {"backoff_ms", 10}}}});
  EXPECT_EQ(s.max_attempts, 2);
  EXPECT_EQ(s.backoff_ms, 10);
}

TEST(WorkerPool, RunsEveryJobOnceAndStopsWhenIdle) {
  test::TempDir dir;
  auto path = make_catalog(dir, 60, {"ok", "ok2"});
  SqliteStore store(path);
  Queue q(store, RetryPolicy{}, 60'000);
  test::FakeRunner runner;
  WorkerPool pool(q, runner, opts(3));
  auto summary = pool.run();
  EXPECT_FALSE(summary.stopped);
  EXPECT_EQ(pool.stats().photos, 60);
  EXPECT_EQ(pool.stats().done, 120);
  EXPECT_EQ(runner.runs, 120);
  expect_all_done_exactly_once(path, 120);
}

TEST(WorkerPool, TransientFailuresRetryPermanentOnesFailAtOnceAndTheRestGoDead) {
  test::TempDir dir;
  auto path = make_catalog(dir, 4, {"ok", "flaky", "bad", "always"});
  SqliteStore store(path);
  RetryPolicy p;
  p.max_attempts = 3;
  p.backoff_ms = 10;
  p.backoff_max_ms = 20;
  Queue q(store, p, 60'000);
  test::FakeRunner runner;
  WorkerPool pool(q, runner, opts(2));
  pool.run();
  auto c = Queue(store).counts();
  EXPECT_EQ(c.by_task["ok"]["done"], 4);
  EXPECT_EQ(c.by_task["flaky"]["done"], 4);  // third attempt succeeds
  EXPECT_EQ(c.by_task["bad"]["failed"], 4);
  EXPECT_EQ(c.by_task["always"]["dead"], 4);
  for (const auto& f : store.failures(100)) {
    if (f.task == "bad") {
      EXPECT_EQ(f.attempts, 1);  // no retry for a permanent failure
      EXPECT_EQ(f.error, "bad failed on attempt 1");
    } else {
      EXPECT_EQ(f.attempts, 3);
      EXPECT_NE(f.error.find("gave up after 3 attempts"), std::string::npos) << f.error;
    }
  }
  // retry --dead brings them back with fresh attempts.
  EXPECT_EQ(Queue(store).retry({JobState::Dead}, {}), 4);
  EXPECT_EQ(Queue(store).counts().by_task["always"]["queued"], 4);
}

TEST(WorkerPool, AStopRequestFinishesThePhotosInHandAndLeavesNothingLeased) {
  test::TempDir dir;
  auto path = make_catalog(dir, 200, {"ok"});
  SqliteStore store(path);
  Queue q(store, RetryPolicy{}, 60'000);
  test::FakeRunner runner(2);
  auto o = opts(2, false);
  WorkerPool* self = nullptr;
  o.stop_requested = [&] { return self && self->stats().done >= 10; };
  WorkerPool pool(q, runner, o);
  self = &pool;
  auto summary = pool.run();
  EXPECT_TRUE(summary.stopped);
  EXPECT_FALSE(summary.deadline_exceeded);
  auto c = Queue(store).counts();
  EXPECT_EQ(c.jobs["running"], 0);
  EXPECT_GE(c.jobs["done"], 10);
  EXPECT_LT(c.jobs["done"], 200);
  EXPECT_EQ(c.jobs["done"] + c.jobs["queued"], 200);
}

// A runner stuck in a task: at the deadline the pool gives the job back and returns.
class StuckRunner : public Runner {
 public:
  std::atomic<bool> returned{false};
  void run(const catalog::LeasedPhoto& photo, const std::function<void(size_t, Outcome)>& done,
           const std::function<bool()>& cancelled) override {
    while (!cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (size_t i = 0; i < photo.jobs.size(); ++i) done(i, Outcome{Outcome::Released});
    returned = true;
  }
};

TEST(WorkerPool, WorkStillRunningAtTheDeadlineIsReleased) {
  test::TempDir dir;
  auto path = make_catalog(dir, 3, {"ok"});
  SqliteStore store(path);
  Queue q(store, RetryPolicy{}, 60'000);
  StuckRunner runner;
  auto o = opts(1, false);
  auto t0 = std::chrono::steady_clock::now();
  o.stop_requested = [&] { return std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(100); };
  o.stop_deadline_ms = 100;
  WorkerPool pool(q, runner, o);
  auto summary = pool.run();
  EXPECT_TRUE(summary.deadline_exceeded);
  while (!runner.returned) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the detached worker finishes its bookkeeping
  auto c = Queue(store).counts();
  EXPECT_EQ(c.jobs["queued"], 3);
  EXPECT_EQ(c.jobs["running"], 0);
  auto jobs = store.jobs_of(1);
  EXPECT_EQ(jobs[0].attempts, 0);  // a released attempt does not count
}

// A runner whose photos in `hang` never finish until released; the others succeed.
class HangingRunner : public Runner {
 public:
  explicit HangingRunner(std::set<int64_t> hang) : hang_(std::move(hang)) {}
  std::atomic<bool> release{false};
  std::atomic<int> returned{0};
  void run(const catalog::LeasedPhoto& photo, const std::function<void(size_t, Outcome)>& done,
           const std::function<bool()>&) override {
    if (hang_.count(photo.photo_id)) {
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ++returned;
    }
    for (size_t i = 0; i < photo.jobs.size(); ++i) {
      Outcome o;
      o.result = {{"job", photo.jobs[i].job_id}};
      done(i, std::move(o));
    }
  }

 private:
  std::set<int64_t> hang_;
};

TEST(WorkerPool, AJobPastTheTimeLimitIsAbandonedRetriedThenDeadAndTheOthersGoOn) {
  test::TempDir dir;
  auto path = make_catalog(dir, 5, {"ok"});
  SqliteStore store(path);
  RetryPolicy p;
  p.max_attempts = 2;
  p.backoff_ms = 10;
  Queue q(store, p, 60'000);
  HangingRunner runner({2});
  auto o = opts(1);
  o.job_time_limit_ms = 200;
  WorkerPool pool(q, runner, o);
  auto summary = pool.run();
  EXPECT_EQ(summary.abandoned, 2);  // one stuck thread per attempt
  EXPECT_TRUE(summary.must_exit());
  EXPECT_TRUE(summary.halted.empty()) << summary.halted;
  EXPECT_EQ(pool.stats().timed_out, 2);
  EXPECT_EQ(pool.stats().done, 4);
  auto c = Queue(store).counts();
  EXPECT_EQ(c.jobs["done"], 4);
  EXPECT_EQ(c.jobs["dead"], 1);
  EXPECT_EQ(c.jobs["running"], 0);
  auto job = store.jobs_of(2).at(0);
  EXPECT_EQ(job.attempts, 2);
  EXPECT_NE(job.error.find("ran past the time limit (0.2 s a job"), std::string::npos) << job.error;
  // The abandoned analyses return late: their outcomes are not recorded, the job stays dead.
  runner.release = true;
  while (runner.returned < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(Queue(store).counts().jobs["dead"], 1);
  EXPECT_EQ(pool.stats().done, 4);
}

TEST(WorkerPool, TooManyStuckAnalysesStopThePoolWithAReason) {
  test::TempDir dir;
  auto path = make_catalog(dir, 4, {"ok"});
  SqliteStore store(path);
  RetryPolicy p;
  p.backoff_ms = 10;
  Queue q(store, p, 60'000);
  HangingRunner runner({1, 2, 3, 4});
  auto o = opts(1);
  o.job_time_limit_ms = 100;
  o.max_abandoned = 2;
  WorkerPool pool(q, runner, o);
  auto summary = pool.run();
  EXPECT_EQ(summary.abandoned, 3);
  EXPECT_FALSE(summary.stopped);
  EXPECT_NE(summary.halted.find("3 analyses are stuck past the time limit"), std::string::npos) << summary.halted;
  auto c = Queue(store).counts();
  EXPECT_EQ(c.jobs["running"], 0);  // every abandoned job was recorded, none left leased
  EXPECT_EQ(c.jobs["queued"], 4);   // three to retry after their time-out, one never started
  runner.release = true;
  while (runner.returned < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// Runs a pool in a child process (its own catalog connection, its own pid as lease owner) until idle.
pid_t spawn_worker(const std::string& path, int threads, int max_sleep_ms, unsigned seed) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int code = 0;
  try {
    SqliteStore store(path);
    RetryPolicy p;
    p.max_attempts = 3;  // kills give their attempts back: none of them ends a job dead
    Queue q(store, p, 60'000);
    test::FakeRunner runner(max_sleep_ms, seed);
    WorkerPool pool(q, runner, opts(threads));
    pool.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "worker: %s\n", e.what());
    code = 3;
  }
  ::_exit(code);
}

TEST(WorkerPool, SigkillAtRandomMomentsLosesAndDuplicatesNothing) {
  test::TempDir dir;
  const int photos = 300;
  auto path = make_catalog(dir, photos, {"ok", "ok2"});
  // Every lease of a job, recorded: a job leased again after a kill shows twice.
  auto sql = [&](const char* q) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, q, -1, &st, nullptr);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
  };
  sql("CREATE TABLE leases_seen(job_id INTEGER NOT NULL)");
  sql("CREATE TRIGGER lease_seen AFTER UPDATE OF lease_id ON jobs WHEN new.lease_id IS NOT NULL "
      "BEGIN INSERT INTO leases_seen(job_id) VALUES (new.id); END");
  std::mt19937 rng(20261127);
  int kills = 0;
  for (int round = 0; round < 60; ++round) {
    pid_t pid = spawn_worker(path, 2, 3, rng());
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(2, 40)(rng)));
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ++kills;
    } else {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      break;  // the queue ran dry before the kill
    }
  }
  EXPECT_GT(kills, 20);
  // A last worker that is left alone finishes everything, taking over the killed workers' leases.
  pid_t pid = spawn_worker(path, 2, 0, 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  expect_all_done_exactly_once(path, photos * 2);
  // Some jobs really were taken from a killed worker (leased again after the kill), and the kills were not
  // counted as attempts (a worker killed from outside says nothing about its photos).
  EXPECT_GT(sql("SELECT count(*) FROM (SELECT job_id FROM leases_seen GROUP BY job_id HAVING count(*) > 1)"), 0);
  EXPECT_EQ(sql("SELECT max(attempts) FROM jobs"), 1);
}

TEST(WorkerPool, TwoWorkerProcessesNeverRunTheSameJob) {
  test::TempDir dir;
  auto path = make_catalog(dir, 150, {"ok", "ok2"});
  pid_t a = spawn_worker(path, 2, 1, 1), b = spawn_worker(path, 2, 1, 2);
  int sa = 0, sb = 0;
  ::waitpid(a, &sa, 0);
  ::waitpid(b, &sb, 0);
  ASSERT_TRUE(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
  ASSERT_TRUE(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
  expect_all_done_exactly_once(path, 300);
  // Each job was leased exactly once: no attempt was wasted on a job the other process held.
  SqliteStore store(path);
  for (int64_t id : store.photo_ids())
    for (const auto& j : store.jobs_of(id)) EXPECT_EQ(j.attempts, 1);
}

}  // namespace
}  // namespace dr::jobs
