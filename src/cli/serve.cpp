// darkroom serve: the library over HTTP (the JSON API of docs/API.md and the page), with the worker pool in the
// same process unless --no-work. Listens on loopback by default; any other address needs tokens. SIGINT/SIGTERM
// stop it cleanly: no new requests, workers finish or give back what they hold.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "app/library_ops.h"
#include "app/work.h"
#include "cli/library.h"
#include "jobs/signals.h"
#include "server/access.h"
#include "server/api.h"
#include "server/events.h"
#include "server/http.h"

namespace dr::cli {
namespace {

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  bool no_work = false;
  bool auth = false;
  int http_threads = 4;
  std::vector<std::string> roots, hosts;
};

struct Listen {
  std::string address;
  int port = 0;
  bool loopback = false, wildcard = false;
};

Listen parse_listen(const std::string& s) {
  Listen l;
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    throw UserError("--listen takes ADDRESS:PORT (for example 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080), not " + s);
  l.address = s.substr(0, colon);
  if (l.address.front() == '[' && l.address.back() == ']') l.address = l.address.substr(1, l.address.size() - 2);
  if (l.address == "localhost") l.address = "127.0.0.1";
  auto port = s.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535)
    throw UserError("the port in --listen " + s + " is not a number from 0 to 65535");
  l.port = std::stoi(port);
  l.loopback = l.address.rfind("127.", 0) == 0 || l.address == "::1";
  l.wildcard = l.address == "0.0.0.0" || l.address == "::";
  return l;
}

void run_serve(Globals& g, const ServeArgs& a) {
  jobs::install_stop_handlers();
  Listen l = parse_listen(a.listen);
  int workers = threads(g);
  auto config = app_config(g);
  config.runtime.threads = app::inference_threads(workers);
  app::Session s(config, false);
  bool auth = a.auth || !l.loopback;
  if (auth && s.store().tokens().empty())
    throw UserError(std::string(l.loopback ? "--auth" : "listening on " + l.address) +
                    " needs a token for the API, and the library has none: make one with `darkroom token create`");

  // Photos catalogued before the thumbs task existed get their thumbnails queued once.
  bool work = !a.no_work && !s.store().read_only();
  auto tasks = app::tasks_for(s);
  if (!s.store().read_only() && std::find(tasks.begin(), tasks.end(), "thumbs") != tasks.end()) {
    auto c = s.queue().counts();
    int64_t thumbs = 0;
    if (auto it = c.by_task.find("thumbs"); it != c.by_task.end())
      for (const auto& [state, k] : it->second) thumbs += k;
    auto ids = s.store().photo_ids();
    if (thumbs < int64_t(ids.size()))
      s.store().batch([&] {
        for (auto id : ids) s.queue().enqueue(id, {"thumbs"});
      });
  }

  server::AccessOptions ao;
  ao.auth = auth;
  auto port_of = [&](int p) { return std::to_string(p); };
  server::HttpOptions ho;
  ho.address = l.address;
  ho.port = l.port;
  ho.threads = std::max(2, a.http_threads);
  ho.always = {{"X-Content-Type-Options", "nosniff"},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"},
               {"Content-Security-Policy",
                "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"}};

  server::EventHub hub(s.store());
  std::unique_ptr<server::Access> access;
  std::unique_ptr<server::Api> api;
  std::atomic<server::Api*> ready{nullptr};  // set once the port is known and the API made
  server::HttpServer http(ho, [&](const server::Request& r) {
    auto* a = ready.load();
    return a ? a->handle(r) : server::error_response(503, "the server is starting; try again in a moment");
  });
  http.start();
  int port = http.port();
  if (!l.wildcard) {
    std::string host = l.address.find(':') != std::string::npos ? "[" + l.address + "]" : l.address;
    ao.hosts.push_back(host + ":" + port_of(port));
    if (l.loopback)
      for (const char* h : {"localhost", "127.0.0.1", "[::1]"})
        ao.hosts.push_back(std::string(h) + ":" + port_of(port));
  }
  for (const auto& h : a.hosts) ao.hosts.push_back(h);
  access = std::make_unique<server::Access>(s.store(), ao);
  api = std::make_unique<server::Api>(s, *access, hub, server::ApiOptions{app::library_roots(s, a.roots)});
  ready = api.get();

  std::string shown =
      l.wildcard ? "127.0.0.1" : (l.address.find(':') != std::string::npos ? "[" + l.address + "]" : l.address);
  std::string url = "http://" + shown + ":" + port_of(port) + "/";
  if (g.json)
    print_json_line({{"url", url}, {"library", s.library().dir()}, {"auth", auth}, {"work", work}});
  else
    std::printf("darkroom serve: %s (library %s%s%s); Ctrl-C stops it\n", url.c_str(), s.library().dir().c_str(),
                auth ? ", tokens required" : "", work ? ", analysing new photos" : "");
  std::fflush(stdout);

  jobs::PoolSummary summary;
  std::thread worker_thread;
  if (work)
    worker_thread = std::thread([&] {
      try {
        app::WorkOptions o;
        o.workers = workers;
        o.stop_requested = jobs::stop_requested;
        o.say = [](const std::string& m) { std::fprintf(stderr, "darkroom: %s\n", m.c_str()); };
        auto w = std::make_unique<app::Worker>(s, o);
        if (w->tasks().empty()) return;
        summary = w->run();
        // Analyses abandoned at the time limit still use the worker: it lives until the process ends.
        if (summary.abandoned > 0) (void)w.release();
        if (!summary.halted.empty())
          std::fprintf(stderr, "darkroom: the workers stopped: %s; the server goes on without them\n",
                       summary.halted.c_str());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "darkroom: the workers stopped: %s; the server goes on without them\n", e.what());
      }
    });
  while (!jobs::stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!g.quiet) std::fprintf(stderr, "darkroom: stopping\n");
  http.stop();
  if (worker_thread.joinable()) worker_thread.join();
  if (summary.must_exit()) {
    std::fflush(stdout);
    std::_Exit(128 + (jobs::stop_signal() ? jobs::stop_signal() : 15));
  }
  g.exit_code = 0;
}

}  // namespace

void register_serve(CLI::App& app, Globals& g) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "the library in a browser and over a JSON API (docs/API.md)");
  cmd->add_option("--listen", a->listen,
                  "ADDRESS:PORT (default 127.0.0.1:8080; port 0 picks a free one; any address but loopback needs "
                  "tokens: darkroom token create)");
  cmd->add_flag("--no-work", a->no_work, "serve only; analysis runs elsewhere (darkroom work)");
  cmd->add_flag("--auth", a->auth, "require a token on loopback too");
  cmd->add_option("--root", a->roots, "a folder the page and the API may add photos from (repeatable)");
  cmd->add_option("--allow-host", a->hosts,
                  "a name this server answers to in the Host header, NAME or NAME:PORT (repeatable; for a "
                  "reverse proxy or a DNS name)");
  cmd->add_option("--http-threads", a->http_threads, "threads answering requests (default 4)")
      ->check(CLI::Range(1, 64));
  cmd->callback([&g, a] { run_serve(g, *a); });
}

}  // namespace dr::cli
