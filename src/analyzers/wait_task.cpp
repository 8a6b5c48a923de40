#include "analyzers/wait_task.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace dr::analyzers {
namespace {

int64_t ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class WaitTask : public Task {
 public:
  std::string name() const override { return "wait"; }
  int wanted_side() const override { return 64; }
  nlohmann::json run(const image::Decoded&, const RunOptions& opts) override {
    const char* ms = std::getenv("DARKROOM_TEST_WAIT_MS");
    int wait = ms ? std::atoi(ms) : 200;
    int64_t start = ms_now();
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    int64_t end = ms_now();
    if (const char* log = std::getenv("DARKROOM_TEST_WAIT_LOG"); log && *log) {
      std::string line = opts.content_hash + " " + std::to_string(start) + " " + std::to_string(end) + " " +
                         std::to_string(::getpid()) + "\n";
      int fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ssize_t n = ::write(fd, line.data(), line.size());
        (void)n;
        ::close(fd);
      }
    }
    return {{"waited_ms", end - start}};
  }
};

}  // namespace

std::unique_ptr<Task> make_wait_task(TaskContext&) { return std::make_unique<WaitTask>(); }

}  // namespace dr::analyzers
