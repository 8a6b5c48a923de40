// The JSON API of `darkroom serve` (docs/API.md): routes each request under /api/ to the app layer and turns its
// structs (to_json(), the keys of the CLI's --json) and errors into responses; serves thumbnails, originals and
// face crops as files, and the page's own files (web/, built into the binary). It holds no logic of its own that
// the CLI lacks: what it answers, `darkroom` answers too.
#pragma once
#include <string>
#include <vector>

#include "app/session.h"
#include "server/access.h"
#include "server/events.h"
#include "server/file_cache.h"
#include "server/http.h"

namespace dr::server {

struct ApiOptions {
  std::vector<std::string> roots;  // folders POST /api/photos may add from (absolute, resolved)
};

class Api {
 public:
  Api(app::Session& s, Access& access, EventHub& events, ApiOptions o);
  // The Handler of the HTTP server: every request goes through here.
  Response handle(const Request& r);

 private:
  Response route(const Request& r);
  Response photos(const Request& r, const std::vector<std::string>& seg);
  Response thumb(const Request& r, const std::string& hash, const std::string& size);
  Response original(const Request& r, int64_t id);
  Response face_thumb(const Request& r, int64_t face);
  Response people(const Request& r, const std::vector<std::string>& seg);
  Response faces(const Request& r, const std::vector<std::string>& seg);
  Response add(const Request& r);
  Response page(const Request& r);

  app::Session& s_;
  Access& access_;
  EventHub& events_;
  ApiOptions o_;
  FileCache files_;
};

}  // namespace dr::server
