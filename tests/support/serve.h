// Helpers for tests that drive a real `darkroom serve` on a loopback port: the server as a child process, and a
// small HTTP client on plain sockets (so that tests can also send what no HTTP library would).
#pragma once
#include <sys/types.h>

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace dr::test {

struct HttpReply {
  int status = 0;                              // 0: no answer (connection refused, closed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const;  // the body parsed (a test failure when it is not JSON)
  std::string header(const std::string& lower) const {
    auto it = headers.find(lower);
    return it == headers.end() ? "" : it->second;
  }
};

// One request on its own connection (Connection: close). Changing calls get "X-Darkroom: 1" unless `headers`
// gives that header (empty value: leave it out).
HttpReply http(int port, const std::string& method, const std::string& target,
               std::map<std::string, std::string> headers = {}, const std::string& body = {});
HttpReply http_get(int port, const std::string& target, std::map<std::string, std::string> headers = {});
HttpReply http_post(int port, const std::string& target, const nlohmann::json& body,
                    std::map<std::string, std::string> headers = {});
// Sends bytes as they are and returns what comes back until the server closes, `timeout_ms` passes or `enough` (when
// given) says so of what came.
std::string raw_exchange(int port, const std::string& bytes, int timeout_ms = 5000,
                         const std::function<bool(const std::string&)>& enough = {});
// Parses a raw HTTP response.
HttpReply parse_reply(const std::string& raw);

// `darkroom --library LIB --models MODELS serve --listen 127.0.0.1:0 --json ARGS...`, started at construction
// (waits for its first line, the URL) and stopped with SIGTERM at destruction.
class ServeProcess {
 public:
  ServeProcess(const std::string& library, const std::vector<std::string>& args = {},
               const std::vector<std::string>& env = {});
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  bool started() const { return port_ > 0; }
  int port() const { return port_; }
  const nlohmann::json& first_line() const { return first_; }
  pid_t pid() const { return pid_; }
  // SIGTERM and wait; returns the exit status (128 + signal when killed), -1 on timeout (then SIGKILL).
  int stop(int timeout_ms = 20000);
  std::string err() const;  // what it wrote to stderr so far

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  nlohmann::json first_;
  std::string err_path_;
};

}  // namespace dr::test
