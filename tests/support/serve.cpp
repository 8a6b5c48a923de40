#include "support/serve.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>

#include "support/cli.h"

namespace dr::test {
namespace {

int connect_local(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

nlohmann::json HttpReply::json() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "not JSON (status " << status << "): " << body.substr(0, 300);
  return j;
}

std::string raw_exchange(int port, const std::string& bytes, int timeout_ms,
                         const std::function<bool(const std::string&)>& enough) {
  int fd = connect_local(port);
  if (fd < 0) return {};
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += size_t(n);
  }
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[65536];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, int(left.count())) <= 0) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, size_t(n));
    if (enough && enough(out)) break;
  }
  ::close(fd);
  return out;
}

HttpReply parse_reply(const std::string& raw) {
  HttpReply r;
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::atoi(raw.c_str() + 9);
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(' '));
    r.headers[lower(line.substr(0, colon))] = v;
  }
  r.body = raw.substr(end + 4);
  if (auto cl = r.headers.find("content-length"); cl != r.headers.end()) {
    size_t n = std::stoul(cl->second);
    if (r.body.size() > n) r.body.resize(n);
  }
  return r;
}

HttpReply http(int port, const std::string& method, const std::string& target,
               std::map<std::string, std::string> headers, const std::string& body) {
  if (!headers.count("Host")) headers["Host"] = "127.0.0.1:" + std::to_string(port);
  if (method != "GET" && method != "HEAD" && !headers.count("X-Darkroom")) headers["X-Darkroom"] = "1";
  if (!body.empty() && !headers.count("Content-Type")) headers["Content-Type"] = "application/json";
  std::string req = method + " " + target + " HTTP/1.1\r\n";
  for (const auto& [k, v] : headers)
    if (!v.empty()) req += k + ": " + v + "\r\n";
  req += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return parse_reply(raw_exchange(port, req, 30000));
}

HttpReply http_get(int port, const std::string& target, std::map<std::string, std::string> headers) {
  return http(port, "GET", target, std::move(headers));
}

HttpReply http_post(int port, const std::string& target, const nlohmann::json& body,
                    std::map<std::string, std::string> headers) {
  return http(port, "POST", target, std::move(headers), body.dump());
}

ServeProcess::ServeProcess(const std::string& library, const std::vector<std::string>& args,
                           const std::vector<std::string>& env) {
  int out[2];
  if (::pipe(out) != 0) return;
  char tmpl[] = "/tmp/darkroom-serve-err-XXXXXX";
  int errfd = ::mkstemp(tmpl);
  err_path_ = tmpl;
  std::vector<std::string> argv = {DARKROOM_BIN, "--library", library,    "--models",   test_models_dir(),
                                   "--json",     "serve",     "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(out[1], 1);
    ::dup2(errfd, 2);
    ::close(out[0]);
    ::close(out[1]);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(errfd);
  // The first line says where it listens.
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  char c;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    if (::read(out[0], &c, 1) != 1) break;
    if (c == '\n') break;
    line += c;
  }
  ::close(out[0]);
  first_ = nlohmann::json::parse(line, nullptr, false);
  if (first_.is_discarded() || !first_.contains("url")) {
    ADD_FAILURE() << "darkroom serve did not start: " << line << "\n" << err();
    return;
  }
  auto url = first_["url"].get<std::string>();
  port_ = std::atoi(url.c_str() + url.rfind(':') + 1);
}

int ServeProcess::stop(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    ::usleep(20000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

ServeProcess::~ServeProcess() {
  stop();
  if (!err_path_.empty()) ::unlink(err_path_.c_str());
}

std::string ServeProcess::err() const {
  std::ifstream in(err_path_);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace dr::test
