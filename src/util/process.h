// Running a child process with a timeout, capturing its output: probes (a provider may kill the process that
// runs it), downloads (curl) and archive extraction (tar).
#pragma once
#include <string>
#include <vector>

namespace dr::util {

struct ProcessResult {
  bool started = false;    // false: the program could not be run at all (see error)
  int exit_code = -1;      // when it exited normally
  int signal = 0;          // when a signal killed it (SIGSEGV = 11 ...)
  bool timed_out = false;  // killed by us after the timeout
  std::string out, err;    // captured stdout and stderr (each cut at 1 MiB)
  std::string error;       // why it could not be started
  bool ok() const { return started && !timed_out && signal == 0 && exit_code == 0; }
  // "exit status 3", "killed by signal 11 (Segmentation fault)", "timed out after 5000 ms", ...
  std::string describe(int timeout_ms = 0) const;
};

// argv[0] is looked up in PATH when it has no slash. `env` entries ("NAME=value") are added to the environment,
// replacing inherited ones of the same name.
ProcessResult run_process(const std::vector<std::string>& argv, int timeout_ms,
                          const std::vector<std::string>& env = {});

// The path of the running executable (/proc/self/exe).
std::string self_exe();

}  // namespace dr::util
