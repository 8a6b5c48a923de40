#include "jobs/signals.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace dr::jobs {
namespace {

std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) {
    static const char msg[] = "\ndarkroom: second signal: exiting now; leases still held will expire\n";
    ssize_t r = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)r;
    ::_exit(128 + sig);
  }
  static const char msg[] =
      "\ndarkroom: stopping: no new photos are taken, those in hand finish (a second Ctrl-C exits at once)\n";
  ssize_t r = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)r;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_signal.load() != 0; }
int stop_signal() { return g_signal.load(); }

}  // namespace dr::jobs
