// The HTTP transport of `darkroom serve`, on Boost.Beast: asynchronous connections on a few threads, HTTP/1.1 with
// keep-alive, limits on header and body sizes, a deadline for reading each request (a slow client is cut off) and
// for idle connections, a cap on open connections, files sent from disk, and event streams (server-sent events)
// that hold no thread while they wait. Nothing here knows the API: a Handler turns each Request into a Response.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dr::server {

struct Request {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // as sent: path and query
  std::string path;                            // percent-decoded, without the query
  std::map<std::string, std::string> query;    // percent-decoded names and values ('+' is a space)
  std::map<std::string, std::string> headers;  // names in lower case; a repeated header keeps its last value
  std::string body;
  std::string remote;  // the client's address
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// Where an event stream's data goes. send() is thread-safe and never blocks; it returns false once the client is
// gone (the stream's owner then drops the sink).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual bool send(const std::string& data) = 0;
  virtual bool open() const = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type among them
  std::string body;
  std::string file;  // when not empty: the body is this file, read from disk as it is sent
  // When set (and `file` empty): the body is these bytes, shared with a cache, sent without a copy.
  std::shared_ptr<const std::string> shared;
  // When set, the response is an event stream (text/event-stream): the headers are sent, then the connection stays
  // open and this is called once with its sink.
  std::function<void(std::shared_ptr<EventSink>)> stream;

  Response& header(const std::string& name, const std::string& value) {
    headers.emplace_back(name, value);
    return *this;
  }
};

using Handler = std::function<Response(const Request&)>;

class Conn;  // http.cpp

struct HttpOptions {
  std::string address = "127.0.0.1";
  int port = 8080;  // 0: any free port (port() tells which)
  int threads = 4;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1 << 20;
  int read_timeout_ms = 10'000;  // a whole request, from its first byte
  int idle_timeout_ms = 30'000;  // a kept-alive connection waiting for its next request
  int max_connections = 1000;    // more are answered 503 and closed
  // Extra headers sent with every response (security headers).
  std::vector<std::pair<std::string, std::string>> always;
};

class HttpServer {
 public:
  HttpServer(HttpOptions opts, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving; throws std::runtime_error with a sentence when it cannot bind.
  void start();
  int port() const;
  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void stop();
  size_t connections() const;

 private:
  friend class Conn;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What a connection answers to these bytes, read as it reads a socket (the same Beast parser, limits and buffer;
// at most `chunk` bytes arrive per read, 0: all at once) and answered by `handler`: one response per request while
// the connection would stay open (keep-alive), a 4xx for bytes it refuses (a request cut short among them), nothing
// once the bytes end between requests (a connection closes then). An event stream's response ends the list; its stream
// is not started. For tests and the fuzz target (fuzz/http_fuzz.cpp): no socket, no threads.
std::vector<Response> answer_bytes(std::string_view bytes, const HttpOptions& opts, const Handler& handler,
                                   size_t chunk = 0);

// "%41b" -> "Ab"; nullopt-like: returns false on a malformed escape or a NUL byte.
bool percent_decode(const std::string& in, std::string& out, bool plus_is_space);
// The reason phrase of a status code ("Not Found").
const char* reason_phrase(int status);

}  // namespace dr::server
