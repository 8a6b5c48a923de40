// Helpers for tests that drive the built darkroom binary.
#pragma once
#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "util/process.h"

namespace dr::test {

// Runs DARKROOM_BIN with args; env entries ("NAME=value") are added. 10-minute timeout.
util::ProcessResult darkroom(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

// Starts DARKROOM_BIN with args in the background (env entries added): its stdout and stderr appended to `log`, or
// thrown away when it is empty. Returns its pid, for wait_exit or a signal.
pid_t spawn_darkroom(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                     const std::string& log = {});
// Waits for a child: its exit status, or 128 + the signal that killed it (-1: no such child).
int wait_exit(pid_t pid);
// A spawned child that a failed assertion must not leave running: killed and waited for when this dies, unless
// wait() took it first.
struct Child {
  pid_t pid = -1;
  explicit Child(pid_t p) : pid(p) {}
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  int wait() {
    int r = wait_exit(pid);
    pid = -1;
    return r;
  }
};

// `darkroom --library LIB --models <the tests' models> ARGS...`, as darkroom() runs it.
util::ProcessResult dr_lib(const std::string& lib, std::vector<std::string> args,
                           const std::vector<std::string>& env = {});

// dr_lib with --json: the one JSON line it printed (a failed command or other output fails the calling test).
nlohmann::json cli_json(const std::string& lib, std::vector<std::string> args);

// Each non-empty stdout line parsed as JSON (a line that is not JSON fails the calling test).
std::vector<nlohmann::json> json_lines(const std::string& out);

// A fresh empty folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& bytes);
std::string shared_dir();       // ../shared
std::string test_models_dir();  // the models installed by `make models`
// An input that once made a fuzz target fail, kept for good in fuzz/regressions/<target>/<name> (fuzz/README.md).
std::string fuzz_regression(const std::string& target, const std::string& name);
// Debian's sample photos.
std::string opencv_sample(const std::string& name);   // /usr/share/doc/opencv-doc/examples/data/<name>
std::string skimage_sample(const std::string& name);  // .../skimage/data/<name>

// The input shapes of every node run, from the ONNX Runtime profiles (DARKROOM_ORT_PROFILE) in `dir`: what a model
// was fed.
std::set<std::vector<int64_t>> profiled_input_shapes(const std::string& dir);

}  // namespace dr::test
