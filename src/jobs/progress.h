// Progress of a long run: on a terminal, a bar redrawn in place (photos per second, ETA, failures so far); when
// not a terminal, a plain line every few seconds, so that logs stay readable.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace dr::jobs {

struct ProgressSample {
  int64_t photos_done = 0;       // in this run
  int64_t photos_remaining = 0;  // still to do (queued or running)
  int64_t failures = 0;          // in this run
};

class Progress {
 public:
  // tty: redraw a bar every 200 ms; else print a line every `plain_every_ms`.
  Progress(std::function<ProgressSample()> sample, bool tty, std::FILE* out = stderr, int64_t plain_every_ms = 5000);
  ~Progress();
  void start();
  void stop();  // prints the final line

  // The text of one update, for a given sample and elapsed time (public for tests).
  static std::string line(const ProgressSample& s, double elapsed_s, bool bar, int width = 30);

 private:
  void loop();
  void print(bool final);

  std::function<ProgressSample()> sample_;
  bool tty_;
  std::FILE* out_;
  int64_t every_ms_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace dr::jobs
