// libFuzzer over `darkroom serve`'s request handling: any bytes, read as a connection reads them (Beast's parser with
// the server's limits, keep-alive, the bytes arriving in pieces of a size the input chooses), then routed through
// server::Api::handle as the server routes them, on a small library made once per process (three photos with
// hashes, thumbnails, faces, a person, labels, words and CLIP embeddings; a token for the signed-in variant). Every
// request is answered twice: by a server on loopback (no authentication) and by one that requires a token.
//
// Findings: a crash or a sanitizer report, a 500, an answer that is not JSON where the API promises JSON, or an
// error whose body is not {"error": "<sentence>"}.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vips/vips8>

#include "app/library_ops.h"
#include "app/people.h"
#include "app/session.h"
#include "app/work.h"
#include "catalog/library.h"
#include "image/decode.h"
#include "jobs/queue.h"
#include "server/api.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Server {
  std::string dir;
  std::unique_ptr<dr::app::Session> session;
  std::unique_ptr<dr::server::EventHub> hub;
  std::unique_ptr<dr::server::Access> open, token;
  std::unique_ptr<dr::server::Api> open_api, token_api;
  dr::server::HttpOptions http;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "http_fuzz: %s\n", why.c_str());
  std::abort();
}

std::vector<float> unit(int dim, int seed) {
  std::vector<float> v(static_cast<size_t>(dim));
  double norm = 0;
  for (int i = 0; i < dim; ++i) norm += (v[size_t(i)] = float(((i * 7 + seed * 13) % 17) - 8) + 0.5f) * v[size_t(i)];
  for (auto& x : v) x = float(x / std::sqrt(norm));
  return v;
}

// Completes the job of `task` for `photo` with `result`, as a worker would (through the queue).
void complete(dr::jobs::Queue& queue, int64_t photo, const std::string& task, const json& result,
              const json& models = json::array()) {
  queue.enqueue(photo, {task});
  for (auto& leased : queue.lease("http_fuzz", 1, {task}))
    for (auto& job : leased.jobs)
      if (!queue.complete(job, result, models)) die("a job could not be completed");
}

Server& server() {
  static Server* s = [] {
    auto* srv = new Server;
    char tmpl[] = "/tmp/darkroom-http-fuzz-XXXXXX";
    if (!mkdtemp(tmpl)) die("mkdtemp failed");
    srv->dir = tmpl;
    const std::string photos = srv->dir + "/photos";
    fs::create_directories(photos + "/sub");
    // Three small photos: two near-duplicates (one file re-encoded) and one other.
    dr::image::start_vips();
    auto xy = vips::VImage::xyz(96, 64);  // a fixed pattern: the same content hashes in every run
    auto grey = ((xy[0] * 7 + xy[1] * 13) % 256).cast(VIPS_FORMAT_UCHAR);
    auto rgb = vips::VImage::bandjoin({grey, grey.flip(VIPS_DIRECTION_HORIZONTAL), grey});
    rgb.write_to_file((photos + "/a.jpg").c_str());
    rgb.write_to_file((photos + "/sub/b.png").c_str());
    (rgb.invert()).write_to_file((photos + "/c.webp").c_str());

    dr::catalog::Library::create(srv->dir + "/library");
    dr::app::Config config;
    config.library = srv->dir + "/library";
    config.models_dir = srv->dir + "/models";  // none installed: a model-less library
    config.runtime.device = dr::runtime::DeviceRequest::parse("cpu");
    srv->session = std::make_unique<dr::app::Session>(config, true);
    auto& s = *srv->session;
    dr::app::AddOptions add;
    add.paths = {photos};
    add.tasks = "pdq,thumbs";
    dr::app::add(s, add);
    {
      dr::app::WorkOptions w;
      w.until_idle = true;
      w.tasks = "pdq,thumbs";
      dr::app::Worker worker(s, w);
      worker.run();
    }
    auto& store = s.store();
    auto ids = store.photo_ids();
    if (ids.size() != 3) die("the library has " + std::to_string(ids.size()) + " photos, not 3");
    for (size_t k = 0; k < ids.size(); ++k) {
      json faces = json::array();
      for (int f = 0; f < 2; ++f)
        faces.push_back({{"box", {10 + 20 * f, 8, 24, 30}},
                         {"score", 0.9},
                         {"landmarks", {{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}}},
                         {"quality", {{"score", 0.8}, {"size", 30}, {"blur", 0.1}}},
                         {"embedding", unit(128, f + (k == 2 ? 5 : 0))}});
      complete(s.queue(), ids[k], "faces", faces);
      complete(s.queue(), ids[k], "objects",
               json::array({{{"label", k ? "cat" : "dog"}, {"score", 0.8}, {"box", {1, 2, 30, 40}}}}));
      complete(s.queue(), ids[k], "text",
               {{"lines", {{{"text", k ? "Café Crème" : "open daily"}, {"score", 0.9}}}}, {"full", "x"}});
      complete(s.queue(), ids[k], "clip", {{"dim", 512}, {"embedding", unit(512, int(k))}},
               json::array({{{"id", "clip/vit-b-32"}, {"sha256", "0"}}}));
    }
    dr::app::cluster_faces(store, true);
    store.add_token("fuzz", dr::server::Access::hash_token("drt_fuzz"));

    srv->hub = std::make_unique<dr::server::EventHub>(store);
    dr::server::AccessOptions open;
    open.hosts = {"127.0.0.1:8080", "localhost:8080"};
    dr::server::AccessOptions token = open;
    token.auth = true;
    srv->open = std::make_unique<dr::server::Access>(store, open);
    srv->token = std::make_unique<dr::server::Access>(store, token);
    dr::server::ApiOptions api{{fs::canonical(photos).string()}};
    srv->open_api = std::make_unique<dr::server::Api>(s, *srv->open, *srv->hub, api);
    srv->token_api = std::make_unique<dr::server::Api>(s, *srv->token, *srv->hub, api);
    return srv;
  }();
  return *s;
}

bool json_type(const dr::server::Response& r) {
  for (const auto& [k, v] : r.headers)
    if (k == "Content-Type") return v.rfind("application/json", 0) == 0;
  return false;
}

void check(const dr::server::Response& r, std::string_view input) {
  auto fail = [&](const std::string& why) {
    std::fprintf(stderr, "http_fuzz: %s\nstatus %d, body: %.500s\nrequest: %.500s\n", why.c_str(), r.status,
                 r.body.c_str(), std::string(input).c_str());
    std::abort();
  };
  if (r.status >= 500 && r.status != 503) fail("a server error");
  if (r.status < 200 || (r.status >= 300 && r.status != 304 && r.status < 400) || r.status > 599)
    fail("a status the API never answers");
  if (r.stream || r.status == 304 || !r.file.empty() || r.shared) return;
  if (!json_type(r)) return;  // the page's own files
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) fail("a JSON answer that does not parse");
  if (r.status >= 400) {
    if (!j.is_object() || !j.contains("error") || !j["error"].is_string() || j["error"].get<std::string>().empty())
      fail("an error without a sentence");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  dr::image::prepare_decoder();
  server();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Server& s = server();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The pieces the bytes arrive in: from the input's length, so that one input always arrives the same way.
  const size_t chunk = size % 7 == 0 ? 1 + size % 13 : 0;
  for (auto* api : {s.open_api.get(), s.token_api.get()}) {
    auto answers = dr::server::answer_bytes(
        bytes, s.http, [api](const dr::server::Request& r) { return api->handle(r); }, chunk);
    for (const auto& r : answers) check(r, bytes);
  }
  return 0;
}
