#include "jobs/worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace dr::jobs {

using catalog::JobState;
using catalog::Lease;
using catalog::StoreError;

namespace {
std::string hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}
}  // namespace

std::string process_owner() { return hostname() + "/" + std::to_string(::getpid()); }

// ---- The crash record ----
// A worker process that dies of a crash (a decoder's SIGSEGV, an abort) writes the jobs it was analysing to
// <tmp>/darkroom-crash-<pid> from its signal handler; the next pool on this host that reclaims its leases counts
// those as crashes (Queue::crashed), and gives the attempts of every other reclaimed lease back (a kill from
// outside says nothing about the photos in hand). Only async-signal-safe calls run in the handler.
namespace {

constexpr int kCrashSlots = 64;  // worker threads recorded (a pool with more records the first 64)
constexpr int kCrashJobs = 8;    // jobs per photo recorded
struct CrashSlot {
  std::atomic<int> n{0};
  std::atomic<int64_t> job[kCrashJobs], lease[kCrashJobs];
  std::atomic<int> attempts[kCrashJobs];
};
CrashSlot g_crash_slots[kCrashSlots];
// The slot of the worker thread this is (-1: not a worker). A crash is a signal to the thread that faulted (a
// SIGSEGV, or the SIGABRT of its own abort()), so only that thread's photo is recorded: the photos other threads
// had in hand were not the cause, and come back with their attempts given back like a kill's.
thread_local int t_crash_slot = -1;
char g_crash_path[512];
const int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
struct sigaction g_crash_old[sizeof kCrashSignals / sizeof kCrashSignals[0]];

std::string crash_path(pid_t pid) {
  return (std::filesystem::temp_directory_path() / ("darkroom-crash-" + std::to_string(pid))).string();
}

void put_number(int fd, int64_t v) {
  char buf[24];
  int i = sizeof buf;
  buf[--i] = ' ';
  if (v == 0) buf[--i] = '0';
  for (bool neg = v < 0; v != 0; v /= 10) buf[--i] = char('0' + (neg ? -(v % 10) : v % 10));
  (void)!::write(fd, buf + i, sizeof buf - size_t(i));
}

void on_crash(int sig) {
  int fd = ::open(g_crash_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    const int mine = t_crash_slot;
    for (int i = 0; i < kCrashSlots; ++i) {
      if (mine >= 0 && i != mine) continue;
      const auto& slot = g_crash_slots[i];
      int n = slot.n.load();
      for (int j = 0; j < n && j < kCrashJobs; ++j) {
        put_number(fd, slot.job[j].load());
        put_number(fd, slot.lease[j].load());
        put_number(fd, slot.attempts[j].load());
        (void)!::write(fd, "\n", 1);
      }
    }
    ::close(fd);
  }
  // The handler that was there before (the default, or a sanitizer's report) runs next.
  for (size_t i = 0; i < sizeof kCrashSignals / sizeof kCrashSignals[0]; ++i)
    if (kCrashSignals[i] == sig) ::sigaction(sig, &g_crash_old[i], nullptr);
  ::raise(sig);
}

void install_crash_record() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::string path = crash_path(::getpid());
    if (path.size() >= sizeof g_crash_path) return;
    std::copy(path.begin(), path.end(), g_crash_path);
    g_crash_path[path.size()] = 0;
    for (size_t i = 0; i < sizeof kCrashSignals / sizeof kCrashSignals[0]; ++i) {
      struct sigaction sa {};
      sa.sa_handler = on_crash;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = SA_NODEFER;
      ::sigaction(kCrashSignals[i], &sa, &g_crash_old[i]);
    }
  });
}

void record_in_hand(int index, const std::vector<Lease>& jobs) {
  if (index < 0 || index >= kCrashSlots) return;
  auto& slot = g_crash_slots[index];
  slot.n = 0;
  int n = 0;
  for (const auto& l : jobs) {
    if (n == kCrashJobs) break;
    slot.job[n] = l.job_id;
    slot.lease[n] = l.lease_id;
    slot.attempts[n] = l.attempts;
    ++n;
  }
  slot.n = n;
}

pid_t owner_pid(const std::string& owner) {
  auto slash = owner.find('/');
  if (slash == std::string::npos) return 0;
  try {
    return pid_t(std::stol(owner.substr(slash + 1)));
  } catch (...) {
    return 0;
  }
}

}  // namespace

bool owner_is_dead_local(const std::string& owner) {
  auto slash = owner.find('/');
  if (slash == std::string::npos || owner.substr(0, slash) != hostname()) return false;
  auto rest = owner.substr(slash + 1);
  auto slash2 = rest.find('/');
  pid_t pid = 0;
  try {
    pid = pid_t(std::stol(rest.substr(0, slash2)));
  } catch (...) {
    return false;
  }
  if (pid <= 0 || pid == ::getpid()) return false;
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

struct WorkerPool::Impl {
  // One worker thread and its photo in hand, shared with the watchdog, which may abandon it.
  struct Slot {
    int index = 0;  // its owner suffix and crash-record slot
    std::mutex mu;
    std::vector<Lease> jobs;                      // the photo in hand
    std::vector<bool> reported;                   // per job: its outcome was recorded (by the worker or the watchdog)
    std::chrono::steady_clock::time_point since;  // when the job now running started
    bool busy = false, abandoned = false, exited = false;
  };

  WorkerPool& pool;
  std::mutex mu;
  std::condition_variable cv;
  std::map<int64_t, std::vector<Lease>> held;  // lease id -> jobs not yet finished
  std::atomic<bool> stopping{false}, cancelled{false}, idle{false};
  std::exception_ptr fatal;
  std::string halted;  // why the pool stopped by itself with threads it cannot take back
  int running = 0;     // worker threads not abandoned and not returned
  int stuck = 0;       // abandoned threads not returned
  int next_index = 0;
  std::vector<std::shared_ptr<Slot>> slots;  // with threads, one per worker thread ever started
  std::vector<std::thread> threads;

  explicit Impl(WorkerPool& p) : pool(p) {}

  bool stop_now() {
    if (!stopping && pool.opts_.stop_requested && pool.opts_.stop_requested()) stopping = true;
    return stopping || idle;
  }

  void hold(const catalog::LeasedPhoto& p) {
    std::lock_guard lock(mu);
    held[p.jobs.front().lease_id] = p.jobs;
  }
  void drop(const Lease& l) {
    std::lock_guard lock(mu);
    auto it = held.find(l.lease_id);
    if (it == held.end()) return;
    auto& v = it->second;
    v.erase(std::remove_if(v.begin(), v.end(), [&](const Lease& x) { return x.job_id == l.job_id; }), v.end());
    if (v.empty()) held.erase(it);
  }

  void set_fatal(std::exception_ptr e) {
    std::lock_guard lock(mu);
    if (!fatal) fatal = e;
    stopping = true;
    cv.notify_all();
  }

  // Starts a worker thread (mu held).
  void start_worker() {
    auto slot = std::make_shared<Slot>();
    slot->index = next_index++;
    slots.push_back(slot);
    ++running;
    threads.emplace_back([this, slot] {
      worker(*slot);
      std::lock_guard lock(mu);
      std::lock_guard sl(slot->mu);
      slot->exited = true;
      if (slot->abandoned)
        --stuck;
      else
        --running;
      cv.notify_all();
    });
  }

  // Records one outcome, retrying a busy catalog a few times (the lease stays ours meanwhile).
  void record(const Lease& l, Outcome o) {
    auto& q = pool.queue_;
    auto& st = pool.stats_;
    for (int attempt = 0;; ++attempt) {
      try {
        if (o.kind == Outcome::Released) {
          q.release({l});
          ++st.released;
        } else if (o.kind == Outcome::Halted) {
          // First the stop (giving the job back writes to the catalog, which may be on the same full disk).
          // The other workers' photos give back the jobs they have not started (cancelled); a job already
          // running is recorded when it ends, or comes back when its lease does.
          cancelled = true;
          set_fatal(
              std::make_exception_ptr(std::runtime_error(
                  o.error + "; work stopped: the jobs in hand went back to the queue and none failed, so `darkroom "
                            "work` goes on from there once the disk is fixed")));
          q.release({l});
          ++st.released;
        } else if (o.kind == Outcome::Deferred) {
          if (st.deferred++ == 0) spdlog::warn("{}", o.error);
          q.defer(l, 1000);
        } else if (o.kind == Outcome::Done) {
          if (q.complete(l, o.result, o.models))
            ++st.done;
          else
            ++st.lost;
        } else {
          switch (q.fail(l, o.error, o.permanent)) {
            case JobState::Queued:
              ++st.retried;
              break;
            case JobState::Running:
              ++st.lost;
              break;
            default:
              ++st.failed;
              break;
          }
        }
        break;
      } catch (const StoreError& e) {
        if (e.full() || e.read_only()) {
          // The catalog cannot be written: nothing more can be recorded, so the pool stops; the lease expires
          // and the job is queued again.
          set_fatal(std::current_exception());
          ++st.lost;
          break;
        }
        if (!e.busy() || attempt >= 3) {
          spdlog::warn("could not record the {} job of photo {}: {}", l.task, l.photo_id, e.what());
          ++st.lost;  // the lease will expire and the job run again
          break;
        }
      }
    }
    drop(l);
  }

  void worker(Slot& slot) {
    t_crash_slot = slot.index < kCrashSlots ? slot.index : -1;
    std::string owner = pool.opts_.owner + "/" + std::to_string(slot.index);
    auto abandoned = [&] {
      std::lock_guard lock(slot.mu);
      return slot.abandoned;
    };
    while (!stop_now()) {
      std::vector<catalog::LeasedPhoto> got;
      try {
        got = pool.queue_.lease(owner, 1, pool.opts_.tasks);
      } catch (const StoreError& e) {
        if (!e.busy()) {
          set_fatal(std::current_exception());
          return;
        }
        continue;  // busy: try again
      }
      if (got.empty()) {
        if (wait_for_work()) continue;
        return;
      }
      for (auto& photo : got) {
        hold(photo);
        record_in_hand(slot.index, photo.jobs);
        size_t total = photo.jobs.size();
        {
          std::lock_guard lock(slot.mu);
          slot.jobs = photo.jobs;
          slot.reported.assign(total, false);
          slot.since = std::chrono::steady_clock::now();
          slot.busy = true;
        }
        // Claims job i's outcome for this thread: false when it was recorded already (or the watchdog took it).
        auto claim = [&](size_t i) {
          std::lock_guard lock(slot.mu);
          if (i >= total || slot.reported[i]) return false;
          slot.reported[i] = true;
          slot.since = std::chrono::steady_clock::now();  // the next job starts now
          return true;
        };
        bool deferred = false;
        try {
          pool.runner_.run(
              photo,
              [&](size_t i, Outcome o) {
                if (!claim(i)) return;
                if (o.kind == Outcome::Deferred) deferred = true;
                record(photo.jobs[i], std::move(o));
              },
              [&] { return cancelled.load() || abandoned(); });
        } catch (const std::exception& e) {
          for (size_t i = 0; i < total; ++i)
            if (claim(i)) {
              Outcome o;
              o.kind = Outcome::Failed;
              o.error = e.what();
              record(photo.jobs[i], std::move(o));
            }
        }
        // Abandoned at the time limit: the watchdog recorded the photo's jobs and another thread took this one's
        // place.
        if (abandoned()) return;
        // This worker cannot run that photo, others may: it leases nothing for a while, so that they take it.
        if (deferred) {
          std::unique_lock lock(mu);
          cv.wait_for(lock, std::chrono::milliseconds(pool.opts_.defer_pause_ms), [&] { return stopping.load(); });
        }
        // A runner that forgot a job: give it back rather than leave it leased.
        for (size_t i = 0; i < total; ++i)
          if (claim(i)) record(photo.jobs[i], Outcome{Outcome::Released});
        {
          std::lock_guard lock(slot.mu);
          slot.busy = false;
        }
        record_in_hand(slot.index, {});
        ++pool.stats_.photos;
      }
    }
  }

  // Sleeps until work may be due. Returns false when the worker should end (idle with until_idle, or stopping).
  bool wait_for_work() {
    auto& opts = pool.opts_;
    int64_t wait = opts.poll_ms;
    try {
      if (opts.until_idle && pool.queue_.pending(opts.tasks) == 0) {
        idle = true;
        cv.notify_all();
        return false;
      }
      if (auto due = pool.queue_.next_due_ms(opts.tasks))
        wait = std::clamp<int64_t>(*due - pool.queue_.now() + 5, 5, opts.poll_ms);
    } catch (const StoreError& e) {
      if (!e.busy()) {
        set_fatal(std::current_exception());
        return false;
      }
    }
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stopping || idle; });
    return !stop_now();
  }

  // The watchdog: a job past the time limit cannot be interrupted (a decoder looping in C code), so its photo's
  // unfinished jobs fail with the reason (the policy retries them; a photo that hangs every time ends dead), its
  // thread is left to itself, and a new thread takes its place. Too many stuck threads stop the pool.
  void abandon_overdue() {
    const int64_t limit = pool.opts_.job_time_limit_ms;
    if (limit <= 0) return;
    auto now = std::chrono::steady_clock::now();
    std::vector<Lease> overdue;
    {
      std::lock_guard lock(mu);
      int abandoned = 0;
      for (auto& s : slots) {
        std::lock_guard sl(s->mu);
        if (!s->busy || s->abandoned || s->exited || now - s->since < std::chrono::milliseconds(limit)) continue;
        s->abandoned = true;
        for (size_t i = 0; i < s->jobs.size(); ++i)
          if (!s->reported[i]) {
            s->reported[i] = true;
            overdue.push_back(s->jobs[i]);
          }
        --running;
        ++stuck;
        ++abandoned;
      }
      if (abandoned == 0) return;
      int max_stuck = pool.opts_.max_abandoned > 0 ? pool.opts_.max_abandoned : 4 * pool.opts_.threads;
      if (stuck > max_stuck) {
        halted = std::to_string(stuck) +
                 " analyses are stuck past the time limit in this process; their jobs were recorded as timed out. "
                 "Start `darkroom work` again to go on";
        stopping = true;
      } else if (!stopping) {
        for (int i = 0; i < abandoned; ++i) start_worker();
      }
      cv.notify_all();
    }
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", double(limit) / 1000.0);
    const std::string why = std::string("the analysis of this photo ran past the time limit (") + secs +
                            " s a job, settings \"queue\".\"job_time_limit_seconds\") and was abandoned";
    std::set<int64_t> photos;
    for (const auto& l : overdue) {
      spdlog::warn("job {} ({} of photo {}) ran past the time limit and was abandoned", l.job_id, l.task, l.photo_id);
      Outcome o;
      o.kind = Outcome::Failed;
      o.error = why;
      ++pool.stats_.timed_out;
      record(l, std::move(o));
      photos.insert(l.photo_id);
    }
    pool.stats_.photos += int64_t(photos.size());
  }

  // Renews the leases in hand every third of the lease; checks the time limit four times within it.
  void heartbeat_loop() {
    const int64_t every = std::max<int64_t>(50, pool.queue_.lease_ms() / 3);
    const int64_t limit = pool.opts_.job_time_limit_ms;
    const int64_t tick = limit > 0 ? std::clamp<int64_t>(limit / 4, 20, every) : every;
    auto last = std::chrono::steady_clock::now();
    std::unique_lock lock(mu);
    while (running > 0) {
      cv.wait_for(lock, std::chrono::milliseconds(tick));
      if (running == 0) break;
      lock.unlock();
      abandon_overdue();
      if (std::chrono::steady_clock::now() - last >= std::chrono::milliseconds(every)) {
        last = std::chrono::steady_clock::now();
        std::vector<int64_t> ids;
        {
          std::lock_guard g(mu);
          for (const auto& [id, jobs] : held) ids.push_back(id);
        }
        try {
          pool.queue_.heartbeat(ids);
        } catch (const StoreError& e) {
          spdlog::warn("could not renew leases: {}", e.what());
        }
      }
      lock.lock();
    }
  }
};

WorkerPool::WorkerPool(Queue& queue, Runner& runner, PoolOptions opts)
    : queue_(queue), runner_(runner), opts_(std::move(opts)) {
  if (opts_.threads < 1) opts_.threads = 1;
  if (opts_.owner.empty()) opts_.owner = process_owner();
}

WorkerPool::~WorkerPool() = default;

namespace {
// The catalog's "jobs were queued" callback outlives a run; it reaches the run's workers only while they exist.
struct Wake {
  std::mutex mu;
  std::condition_variable* cv = nullptr;
};
}  // namespace

PoolSummary WorkerPool::run() {
  // On the heap: when the stop deadline passes, the threads still running are detached and keep using it until
  // the process ends.
  auto owned = std::make_unique<Impl>(*this);
  Impl& impl = *owned;
  auto wake = std::make_shared<Wake>();
  wake->cv = &impl.cv;
  queue_.store().on_jobs_queued([wake] {
    std::lock_guard lock(wake->mu);
    if (wake->cv) wake->cv->notify_all();
  });
  struct Unhook {
    std::shared_ptr<Wake> w;
    ~Unhook() {
      std::lock_guard lock(w->mu);
      w->cv = nullptr;
    }
  } unhook{wake};
  install_crash_record();
  // Leases left by killed processes of this host come back at once instead of at their expiry; the jobs a
  // crashed one recorded count the crash.
  try {
    std::set<pid_t> seen;
    for (const auto& owner : queue_.store().lease_owners()) {
      pid_t pid = owner_pid(owner);
      if (!owner_is_dead_local(owner) || !seen.insert(pid).second) continue;
      const std::string path = crash_path(pid);
      std::ifstream in(path);
      Lease l;
      while (in >> l.job_id >> l.lease_id >> l.attempts)
        if (queue_.crashed(l) == JobState::Dead)
          spdlog::warn("job {} ended dead: its worker process crashed on it {} times", l.job_id, l.attempts);
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
    queue_.reclaim(owner_is_dead_local);
  } catch (const StoreError& e) {
    if (!e.busy()) throw;
  }
  {
    std::lock_guard lock(impl.mu);
    for (int i = 0; i < opts_.threads; ++i) impl.start_worker();
  }
  std::thread hb([&impl] { impl.heartbeat_loop(); });
  // Detached threads (out of time at a stop, or abandoned at the time limit) keep using the Impl until the
  // process ends: it is kept reachable, never destroyed (they may outlive static destructors).
  auto bury = [&owned] {
    static std::mutex graveyard_mu;
    static auto* graveyard = new std::vector<Impl*>;
    std::lock_guard g(graveyard_mu);
    graveyard->push_back(owned.release());
  };

  PoolSummary summary;
  {
    std::unique_lock lock(impl.mu);
    // Wait for the workers; once a stop is requested, for at most the deadline.
    while (impl.running > 0) {
      impl.cv.wait_for(lock, std::chrono::milliseconds(50));
      if (!impl.stopping && opts_.stop_requested && opts_.stop_requested()) impl.stopping = true;
      if (impl.stopping) break;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(opts_.stop_deadline_ms);
    while (impl.running > 0 && std::chrono::steady_clock::now() < deadline) {
      impl.cv.notify_all();
      impl.cv.wait_for(lock, std::chrono::milliseconds(50));
    }
    summary.stopped = impl.stopping && !impl.idle && !impl.fatal && impl.halted.empty();
    if (impl.running > 0) {
      // Out of time: give back every job still held; late outcomes will find their lease gone.
      summary.deadline_exceeded = true;
      impl.cancelled = true;
      std::vector<Lease> left;
      for (const auto& [id, jobs] : impl.held) left.insert(left.end(), jobs.begin(), jobs.end());
      lock.unlock();
      try {
        queue_.release(left);
        stats_.released += int64_t(left.size());
      } catch (const StoreError& e) {
        spdlog::warn("could not release leases (they will expire): {}", e.what());
      }
      lock.lock();
      for (auto& t : impl.threads) t.detach();
      lock.unlock();
      hb.detach();
      bury();
      return summary;
    }
  }
  {
    std::lock_guard lock(impl.mu);
    impl.cv.notify_all();
  }
  hb.join();  // it ends with the last worker; the watchdog starts no thread after that
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(impl.mu);
    for (size_t i = 0; i < impl.threads.size(); ++i) {
      std::lock_guard sl(impl.slots[i]->mu);
      if (impl.slots[i]->abandoned && !impl.slots[i]->exited) {
        impl.threads[i].detach();
        ++summary.abandoned;
      } else {
        finished.push_back(std::move(impl.threads[i]));
      }
    }
  }
  for (auto& t : finished) t.join();
  summary.halted = impl.halted;
  if (summary.abandoned > 0) bury();
  if (impl.fatal) {
    // With threads left behind the caller must not unwind (it would destroy what they use): it gets the reason.
    if (summary.abandoned == 0) std::rethrow_exception(impl.fatal);
    try {
      std::rethrow_exception(impl.fatal);
    } catch (const std::exception& e) {
      if (summary.halted.empty()) summary.halted = e.what();
    }
  }
  return summary;
}

}  // namespace dr::jobs
