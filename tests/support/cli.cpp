#include "support/cli.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace dr::test {

util::ProcessResult darkroom(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> argv = {DARKROOM_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return util::run_process(argv, 600000, env);
}

util::ProcessResult dr_lib(const std::string& lib, std::vector<std::string> args, const std::vector<std::string>& env) {
  args.insert(args.begin(), {"--library", lib, "--models", test_models_dir()});
  return darkroom(args, env);
}

nlohmann::json cli_json(const std::string& lib, std::vector<std::string> args) {
  args.insert(args.begin(), "--json");
  auto r = dr_lib(lib, args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = json_lines(r.out);
  EXPECT_EQ(lines.size(), 1u) << r.out << r.err;
  return lines.empty() ? nlohmann::json() : lines[0];
}

pid_t spawn_darkroom(const std::vector<std::string>& args, const std::vector<std::string>& env,
                     const std::string& log) {
  // Everything the child needs is made before the fork: after it, only system calls.
  std::vector<std::string> argv = {DARKROOM_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> a;
  for (auto& s : argv) a.push_back(s.data());
  a.push_back(nullptr);
  std::vector<std::string> envs = env;
  int out = log.empty() ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                        : ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0) throw std::runtime_error("spawn_darkroom: cannot open " + (log.empty() ? "/dev/null" : log));
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out);
    throw std::runtime_error("spawn_darkroom: fork failed");
  }
  if (pid == 0) {
    for (auto& e : envs) ::putenv(e.data());
    ::dup2(out, 1);  // dup2's copies do not keep O_CLOEXEC
    ::dup2(out, 2);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  ::close(out);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);
  if (r != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Child::~Child() {
  if (pid > 0 && ::kill(pid, SIGKILL) == 0) wait_exit(pid);
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      v.push_back(nlohmann::json::parse(line));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not a JSON line: " << line;
    }
  }
  return v;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ =
      (fs::temp_directory_path() / ("darkroom-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()))).string();
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string shared_dir() { return DARKROOM_SHARED_DIR; }
std::string test_models_dir() { return DARKROOM_TEST_MODELS_DIR; }
std::string fuzz_regression(const std::string& target, const std::string& name) {
  const std::string path = std::string(DARKROOM_SOURCE_DIR) + "/fuzz/regressions/" + target + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
std::string opencv_sample(const std::string& name) { return "/usr/share/doc/opencv-doc/examples/data/" + name; }
std::string skimage_sample(const std::string& name) { return "/usr/lib/python3/dist-packages/skimage/data/" + name; }

std::set<std::vector<int64_t>> profiled_input_shapes(const std::string& dir) {
  std::set<std::vector<int64_t>> shapes;
  for (const auto& f : fs::directory_iterator(dir)) {
    std::ifstream in(f.path());
    for (const auto& e : nlohmann::json::parse(in))
      if (e.value("cat", "") == "Node" && e.contains("args") && e["args"].contains("input_type_shape"))
        for (const auto& t : e["args"]["input_type_shape"])
          for (const auto& [type, dims] : t.items()) shapes.insert(dims.get<std::vector<int64_t>>());
  }
  return shapes;
}

}  // namespace dr::test
