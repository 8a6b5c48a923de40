#include "jobs/progress.h"

#include <algorithm>
#include <cmath>

namespace dr::jobs {

Progress::Progress(std::function<ProgressSample()> sample, bool tty, std::FILE* out, int64_t plain_every_ms)
    : sample_(std::move(sample)), tty_(tty), out_(out), every_ms_(tty ? 200 : plain_every_ms) {}

Progress::~Progress() { stop(); }

void Progress::start() {
  start_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { loop(); });
}

void Progress::stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_ || !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  print(true);
}

static std::string duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  long t = long(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

std::string Progress::line(const ProgressSample& s, double elapsed, bool bar, int width) {
  double rate = elapsed > 0 ? double(s.photos_done) / elapsed : 0;
  double eta = rate > 0 ? double(s.photos_remaining) / rate : NAN;
  int64_t total = s.photos_done + s.photos_remaining;
  char buf[256];
  std::string out;
  if (bar) {
    int filled = total > 0 ? int(double(width) * double(s.photos_done) / double(total)) : width;
    filled = std::clamp(filled, 0, width);
    out = "[" + std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.') + "] ";
    std::snprintf(buf, sizeof buf, "%lld/%lld photos  %.1f photos/s  ETA %s  %lld failed", (long long)s.photos_done,
                  (long long)total, rate, s.photos_remaining ? duration(eta).c_str() : "0:00", (long long)s.failures);
  } else {
    std::snprintf(buf, sizeof buf, "work: %lld photos done, %lld to go, %.1f photos/s, ETA %s, %lld failed",
                  (long long)s.photos_done, (long long)s.photos_remaining, rate,
                  s.photos_remaining ? duration(eta).c_str() : "0:00", (long long)s.failures);
  }
  return out + buf;
}

void Progress::print(bool final) {
  ProgressSample s;
  try {
    s = sample_();
  } catch (...) {
    return;  // a busy catalog: skip this update
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  auto text = line(s, elapsed, tty_);
  if (tty_)
    std::fprintf(out_, "\r\033[K%s%s", text.c_str(), final ? "\n" : "");
  else
    std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

void Progress::loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(every_ms_), [&] { return stop_; });
    if (stop_) break;
    lock.unlock();
    print(false);
    lock.lock();
  }
}

}  // namespace dr::jobs
