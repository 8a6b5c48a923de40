#include "server/http.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/span_body.hpp>
#include <cctype>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>

namespace dr::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 421:
      return "Misdirected Request";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "";
  }
}

bool percent_decode(const std::string& in, std::string& out, bool plus_is_space) {
  out.clear();
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int h = hex(in[i + 1]), l = hex(in[i + 2]);
      if (h < 0 || l < 0) return false;
      c = char(h * 16 + l);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return false;
    out += c;
  }
  return true;
}

namespace {

std::string json_error(const std::string& sentence) {
  std::string s = "{\"error\":\"";
  for (char c : sentence) {
    if (c == '"' || c == '\\') s += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    s += c;
  }
  return s + "\"}";
}

bool parse_target(const std::string& target, Request& r) {
  auto q = target.find('?');
  std::string raw_path = target.substr(0, q);
  if (raw_path.empty() || raw_path[0] != '/') return false;
  if (!percent_decode(raw_path, r.path, false)) return false;
  if (q == std::string::npos) return true;
  std::string qs = target.substr(q + 1);
  size_t start = 0;
  while (start <= qs.size()) {
    auto amp = qs.find('&', start);
    std::string part = qs.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      std::string name, value;
      if (!percent_decode(part.substr(0, eq), name, true)) return false;
      if (eq != std::string::npos && !percent_decode(part.substr(eq + 1), value, true)) return false;
      r.query[name] = value;
    }
    if (amp == std::string::npos) break;
    start = amp + 1;
  }
  return true;
}

void limit(http::request_parser<http::string_body>& parser, const HttpOptions& o) {
  parser.header_limit(std::uint32_t(o.max_header_bytes));
  parser.body_limit(o.max_body_bytes);
}

// A read that ended this way closes the connection without an answer: the client left, went quiet, or the server
// is stopping.
bool ends_quietly(beast::error_code ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
         ec == net::error::connection_reset;
}

// The answer to a request Beast refused while reading it (its headers or body too large, or not HTTP).
Response refusal(beast::error_code ec, const HttpOptions& o) {
  int status = 400;
  std::string why = "the request could not be read (" + ec.message() + ")";
  if (ec == http::error::header_limit) {
    status = 431;
    why = "the request's headers are larger than " + std::to_string(o.max_header_bytes) + " bytes";
  } else if (ec == http::error::body_limit) {
    status = 413;
    why = "the request's body is larger than " + std::to_string(o.max_body_bytes) + " bytes";
  } else if (ec == http::error::buffer_overflow) {
    status = 431;
    why = "the request's headers are too large";
  }
  Response r;
  r.status = status;
  r.body = json_error(why);
  r.header("Content-Type", "application/json");
  return r;
}

// The handler's answer to a request read whole; `keep` says whether the connection may stay open after it.
Response answer(http::request<http::string_body>&& msg, const std::string& remote, const Handler& handler, bool& keep) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.remote = remote;
  req.body = std::move(msg.body());
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(f.value());
  }
  keep = msg.keep_alive();
  Response res;
  if (!parse_target(req.target, req)) {
    res.status = 400;
    res.body = json_error("the request's path is not a valid URL path");
    res.header("Content-Type", "application/json");
    keep = false;
    return res;
  }
  try {
    return handler(req);
  } catch (const std::exception& e) {
    res = Response{};
    res.status = 500;
    res.body = json_error(std::string("internal error: ") + e.what());
    res.header("Content-Type", "application/json");
    return res;
  }
}

// Bytes as a socket would give them, `chunk` bytes per read at most (0: all at once), then the end of the stream.
class BytesStream {
 public:
  BytesStream(std::string_view bytes, size_t chunk) : bytes_(bytes), chunk_(chunk ? chunk : bytes.size()) {}
  template <class Buffers>
  size_t read_some(const Buffers& buffers, beast::error_code& ec) {
    if (bytes_.empty()) {
      ec = net::error::eof;
      return 0;
    }
    ec = {};
    size_t n = net::buffer_copy(buffers, net::buffer(bytes_.data(), std::min(chunk_, bytes_.size())));
    bytes_.remove_prefix(n);
    return n;
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    beast::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

 private:
  std::string_view bytes_;
  size_t chunk_;
};

}  // namespace

std::vector<Response> answer_bytes(std::string_view bytes, const HttpOptions& opts, const Handler& handler,
                                   size_t chunk) {
  std::vector<Response> out;
  BytesStream stream(bytes, chunk);
  beast::flat_buffer buffer(opts.max_header_bytes);  // as a connection's
  for (;;) {
    http::request_parser<http::string_body> parser;
    limit(parser, opts);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ends_quietly(ec)) break;
    if (ec) {
      out.push_back(refusal(ec, opts));
      break;
    }
    bool keep = false;
    out.push_back(answer(parser.release(), "127.0.0.1", handler, keep));
    if (!keep || out.back().stream) break;
  }
  return out;
}

class Conn;

struct HttpServer::Impl {
  HttpOptions opts;
  Handler handler;
  std::atomic<size_t> open{0};
  std::atomic<bool> stopping{false};
  int bound_port = 0;
  std::mutex mu;
  std::vector<std::weak_ptr<Conn>> conns;  // for stop()
  // Declared last: destroyed first, with the connections its handlers still hold (they count themselves in `open`).
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;

  Impl(HttpOptions o, Handler h) : opts(std::move(o)), handler(std::move(h)), ioc(std::max(1, opts.threads)) {}
  void accept();
};

// One connection: reads requests one at a time, hands each to the handler on this thread, writes the response.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(tcp::socket&& s, HttpServer::Impl& srv) : stream_(std::move(s)), srv_(srv), buffer_(srv.opts.max_header_bytes) {
    ++srv_.open;
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) remote_ = ep.address().to_string();
  }
  ~Conn() { --srv_.open; }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }
  void close() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      self->stream_.close();
      self->closed_ = true;
    });
  }
  // Refuses the connection at once (too many open).
  void refuse() {
    auto self = shared_from_this();
    auto msg = std::make_shared<std::string>(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
        std::to_string(json_error("too many connections; try again shortly").size()) + "\r\n\r\n" +
        json_error("too many connections; try again shortly"));
    stream_.expires_after(std::chrono::seconds(2));
    net::async_write(stream_, net::buffer(*msg), [self, msg](beast::error_code, size_t) { self->shutdown(); });
  }

  // ---- event streams ----
  class Sink : public EventSink {
   public:
    explicit Sink(std::weak_ptr<Conn> c) : c_(std::move(c)) {}
    bool send(const std::string& data) override {
      auto c = c_.lock();
      if (!c || c->closed_) return false;
      net::post(c->stream_.get_executor(), [c, data] { c->queue(data); });
      return true;
    }
    bool open() const override {
      auto c = c_.lock();
      return c && !c->closed_;
    }

   private:
    std::weak_ptr<Conn> c_;
  };

 private:
  void read() {
    parser_.emplace();
    limit(*parser_, srv_.opts);
    stream_.expires_after(std::chrono::milliseconds(first_ ? srv_.opts.read_timeout_ms : srv_.opts.idle_timeout_ms));
    first_ = false;
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ends_quietly(ec) || srv_.stopping) {
      shutdown();
      return;
    }
    if (ec) {
      write(refusal(ec, srv_.opts), false, false);
      return;
    }
    // The read deadline covered the request; the handler and the write get their own.
    stream_.expires_never();
    bool head = parser_->get().method() == http::verb::head;
    bool keep = false;
    Response res = answer(parser_->release(), remote_, srv_.handler, keep);
    if (res.stream) {
      begin_stream(std::move(res));
      return;
    }
    write(std::move(res), keep, head);
  }

  template <class Body>
  void fill(http::response<Body>& m, const Response& r, bool keep) {
    m.result(unsigned(r.status));
    m.version(11);
    for (const auto& [k, v] : srv_.opts.always) m.set(k, v);
    for (const auto& [k, v] : r.headers) m.set(k, v);
    m.keep_alive(keep);
  }

  void write(Response r, bool keep, bool head) {
    auto self = shared_from_this();
    stream_.expires_after(std::chrono::seconds(60));
    if (r.shared && r.file.empty()) {
      auto m = std::make_shared<http::response<http::span_body<const char>>>();
      fill(*m, r, keep);
      if (!head) m->body() = http::span_body<const char>::value_type(r.shared->data(), r.shared->size());
      m->content_length(r.shared->size());
      auto hold = r.shared;
      http::async_write(stream_, *m,
                        [self, m, hold, keep](beast::error_code ec, size_t) { self->after_write(ec, keep); });
      return;
    }
    if (!r.file.empty() && r.status == 200) {
      beast::error_code ec;
      http::file_body::value_type body;
      body.open(r.file.c_str(), beast::file_mode::scan, ec);
      if (ec) {
        Response nf;
        nf.status = 404;
        nf.body = json_error("the file is not there any more");
        nf.header("Content-Type", "application/json");
        write(std::move(nf), keep, head);
        return;
      }
      auto m = std::make_shared<http::response<http::file_body>>();
      fill(*m, r, keep);
      auto size = body.size();
      m->body() = std::move(body);
      m->content_length(size);
      if (head) {
        auto h = std::make_shared<http::response<http::empty_body>>();
        fill(*h, r, keep);
        h->content_length(size);
        http::async_write(stream_, *h, [self, h, keep](beast::error_code ec, size_t) { self->after_write(ec, keep); });
        return;
      }
      http::async_write(stream_, *m, [self, m, keep](beast::error_code ec, size_t) { self->after_write(ec, keep); });
      return;
    }
    auto m = std::make_shared<http::response<http::string_body>>();
    fill(*m, r, keep);
    size_t size = r.body.size();
    if (!head) m->body() = std::move(r.body);
    m->content_length(size);
    http::async_write(stream_, *m, [self, m, keep](beast::error_code ec, size_t) { self->after_write(ec, keep); });
  }

  void after_write(beast::error_code ec, bool keep) {
    if (ec || !keep || srv_.stopping) {
      shutdown();
      return;
    }
    read();
  }

  void shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
    closed_ = true;
  }

  void begin_stream(Response r) {
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) + "\r\n";
    for (const auto& [k, v] : srv_.opts.always) head += k + ": " + v + "\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    head += "Connection: close\r\n\r\n";  // the stream ends when the connection does
    stream_.expires_never();
    queue(std::move(head));
    // A read that only ends when the client goes away tells us so.
    auto self = shared_from_this();
    stream_.async_read_some(net::buffer(sink_buf_), [self](beast::error_code, size_t) { self->shutdown(); });
    r.stream(std::make_shared<Sink>(weak_from_this()));
  }

  void queue(std::string data) {
    if (closed_) return;
    out_.push_back(std::move(data));
    if (out_.size() > 1000) {  // a client that stopped reading
      shutdown();
      return;
    }
    if (out_.size() == 1) write_next();
  }

  void write_next() {
    auto self = shared_from_this();
    net::async_write(stream_, net::buffer(out_.front()), [self](beast::error_code ec, size_t) {
      if (ec) {
        self->shutdown();
        return;
      }
      self->out_.pop_front();
      if (!self->out_.empty()) self->write_next();
    });
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& srv_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_;
  bool first_ = true;
  std::atomic<bool> closed_{false};
  std::deque<std::string> out_;
  char sink_buf_[64];
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (!ec) {
      // A response's header and a file body go out in separate writes: without this, Nagle's algorithm holds the
      // body back until the client acknowledges the header (up to 40 ms per request with delayed ACKs).
      beast::error_code nd;
      socket.set_option(tcp::no_delay(true), nd);
      auto c = std::make_shared<Conn>(std::move(socket), *this);
      if (open > size_t(opts.max_connections)) {
        c->refuse();
      } else {
        {
          std::lock_guard lock(mu);
          std::erase_if(conns, [](const std::weak_ptr<Conn>& w) { return w.expired(); });
          conns.push_back(c);
        }
        c->start();
      }
    }
    accept();
  });
}

HttpServer::HttpServer(HttpOptions opts, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(handler))) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  auto& i = *impl_;
  beast::error_code ec;
  auto addr = net::ip::make_address(i.opts.address, ec);
  if (ec) throw std::runtime_error("cannot listen on \"" + i.opts.address + "\": not an IP address");
  tcp::endpoint ep(addr, static_cast<unsigned short>(i.opts.port));
  i.acceptor.open(ep.protocol(), ec);
  if (!ec) i.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) i.acceptor.bind(ep, ec);
  if (!ec) i.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + i.opts.address + ":" + std::to_string(i.opts.port) + ": " +
                             ec.message() +
                             (ec == net::error::address_in_use ? " (choose another --listen port)" : ""));
  i.bound_port = i.acceptor.local_endpoint().port();
  i.accept();
  for (int t = 0; t < std::max(1, i.opts.threads); ++t) i.threads.emplace_back([&i] { i.ioc.run(); });
}

int HttpServer::port() const { return impl_->bound_port; }
size_t HttpServer::connections() const { return impl_->open; }

void HttpServer::stop() {
  auto& i = *impl_;
  if (i.stopping.exchange(true)) return;
  net::post(i.ioc, [&i] {
    beast::error_code ec;
    i.acceptor.close(ec);
  });
  {
    std::lock_guard lock(i.mu);
    for (auto& w : i.conns)
      if (auto c = w.lock()) c->close();
  }
  // Give the closes a moment to run, then stop the loop.
  for (int n = 0; n < 50 && i.open > 0; ++n) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  i.ioc.stop();
  for (auto& t : i.threads)
    if (t.joinable()) t.join();
}

}  // namespace dr::server
