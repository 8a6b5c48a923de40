#include "server/api.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analyzers/task.h"
#include "analyzers/thumbs/thumbs_task.h"
#include "app/dupes.h"
#include "app/library_ops.h"
#include "app/people.h"
#include "app/photos.h"
#include "app/search.h"
#include "image/thumbnail.h"
#include "server/assets.h"
#include "util/sha256.h"

namespace dr::server {
namespace fs = std::filesystem;
using nlohmann::json;

const char* mime_type(const std::string& path) {
  auto ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".webp") return "image/webp";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".woff2") return "font/woff2";
  return "application/octet-stream";
}

namespace {

// A request's problem, as a status and a sentence; thrown inside handlers, answered by handle().
struct HttpError {
  int status;
  std::string sentence;
};

[[noreturn]] void fail(int status, const std::string& sentence) { throw HttpError{status, sentence}; }

std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/'))
    if (!part.empty()) out.push_back(part);
  return out;
}

// An id in a path: anything but a positive number names nothing (404).
int64_t path_id(const std::string& what, const std::string& text) {
  try {
    return app::parse_id(what, text);
  } catch (const app::Error&) {
    fail(404, "there is no " + what + " \"" + text.substr(0, 40) + "\"");
  }
}

json body_of(const Request& r) {
  if (r.body.empty()) return json::object();
  auto type = r.header("content-type");
  if (!type.empty() && type.find("application/json") == std::string::npos)
    fail(415, "send the request's body as JSON (Content-Type: application/json)");
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) fail(400, "the request's body is not a JSON object");
  return j;
}

int64_t body_id(const json& b, const char* key) {
  if (!b.contains(key)) fail(400, std::string("give \"") + key + "\": an id");
  const auto& v = b[key];
  if (v.is_number_integer() && v.get<int64_t>() > 0) return v.get<int64_t>();
  if (v.is_string()) {
    try {
      return app::parse_id(key, v.get<std::string>());
    } catch (const app::Error& e) {
      fail(400, e.what());
    }
  }
  fail(400, std::string("\"") + key + "\" must be a positive id");
}

size_t query_size(const Request& r, const char* key, size_t fallback, size_t most) {
  auto it = r.query.find(key);
  if (it == r.query.end() || it->second.empty()) return fallback;
  const auto& v = it->second;
  if (v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos || std::stoul(v) == 0)
    fail(400, std::string(key) + " must be a whole number from 1 to " + std::to_string(most));
  return std::min<size_t>(std::stoul(v), most);
}

std::string query(const Request& r, const char* key) {
  auto it = r.query.find(key);
  return it == r.query.end() ? std::string() : it->second;
}

void need(const Request& r, std::initializer_list<const char*> methods) {
  for (auto* m : methods)
    if (r.method == m) return;
  std::string list;
  for (auto* m : methods) list += (list.empty() ? "" : ", ") + std::string(m);
  fail(405, "use " + list + " here");
}

// A file that never changes under its name: cached for a year, revalidated by its ETag; sent from memory when the
// cache holds it (`data`), else from disk.
Response immutable_file(const Request& r, const std::string& path, const std::string& etag, const char* type,
                        std::shared_ptr<const std::string> data = nullptr) {
  if (r.header("if-none-match").find(etag) != std::string::npos) {
    Response nm;
    nm.status = 304;
    nm.header("ETag", etag).header("Cache-Control", "private, max-age=31536000, immutable");
    return nm;
  }
  Response f;
  if (data)
    f.shared = std::move(data);
  else
    f.file = path;
  f.header("Content-Type", type).header("ETag", etag).header("Cache-Control", "private, max-age=31536000, immutable");
  return f;
}

const char* photo_type(const std::string& format) {
  if (format == "jpeg") return "image/jpeg";
  if (format == "png") return "image/png";
  if (format == "webp") return "image/webp";
  if (format == "heif") return "image/heif";
  if (format == "tiff") return "image/tiff";
  if (format == "gif") return "image/gif";
  return "application/octet-stream";
}

bool date_like(const std::string& s) {
  return !s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789-T:") == std::string::npos;
}

}  // namespace

Api::Api(app::Session& s, Access& access, EventHub& events, ApiOptions o)
    : s_(s), access_(access), events_(events), o_(std::move(o)) {}

Response Api::handle(const Request& r) {
  if (auto refused = access_.check(r)) return *refused;
  try {
    return route(r);
  } catch (const HttpError& e) {
    return error_response(e.status, e.sentence);
  } catch (const app::Error& e) {
    static const int status[] = {400, 404, 409, 503};
    return error_response(status[e.kind()], e.what());
  } catch (const catalog::StoreError& e) {
    return error_response(e.busy() ? 503 : e.read_only() ? 409 : 500, e.what());
  } catch (const runtime::ModelError& e) {
    return error_response(503, e.what());
  }
}

Response Api::route(const Request& r) {
  if (r.path.rfind("/api/", 0) != 0 && r.path != "/api") return page(r);
  auto seg = segments(r.path);
  if (seg.size() < 2) fail(404, "no such API call; docs/API.md lists them");
  const std::string& what = seg[1];
  size_t n = seg.size();
  if (what == "session" && n == 2) return access_.session(r);
  if (what == "status" && n == 2) {
    need(r, {"GET", "HEAD"});
    return json_response(200, app::status(s_).to_json());
  }
  if (what == "retry" && n == 2) {
    need(r, {"POST"});
    auto b = body_of(r);
    std::vector<int64_t> ids;
    if (b.contains("photos")) {
      if (!b["photos"].is_array()) fail(400, "\"photos\" must be a list of photo ids");
      for (const auto& v : b["photos"]) {
        if (!v.is_number_integer() || v.get<int64_t>() <= 0) fail(400, "\"photos\" must be a list of photo ids");
        ids.push_back(v.get<int64_t>());
      }
    }
    bool failed = b.value("failed", false), dead = b.value("dead", false);
    return json_response(200, {{"queued", app::retry(s_, failed, dead, ids)}});
  }
  if (what == "photos") return photos(r, seg);
  if (what == "roots" && n == 2) {
    need(r, {"GET", "HEAD"});
    return json_response(200, {{"roots", o_.roots}});
  }
  if (what == "thumbs" && n == 4) {
    need(r, {"GET", "HEAD"});
    return thumb(r, seg[2], seg[3]);
  }
  if (what == "search" && n == 2) {
    need(r, {"GET", "HEAD"});
    auto q = query(r, "q");
    if (q.find_first_not_of(" \t") == std::string::npos) fail(400, "give the words to search for: /api/search?q=...");
    if (q.size() > 1000) fail(400, "the query is longer than 1000 bytes");
    return json_response(200, s_.search().search(q, query_size(r, "limit", 50, 500)).to_json());
  }
  if (what == "dupes") {
    if (n == 2) {
      need(r, {"GET", "HEAD"});
      int d = 31;
      if (auto v = query(r, "distance"); !v.empty()) {
        if (v.size() > 3 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) > 256)
          fail(400, "distance must be a whole number from 0 to 256");
        d = std::stoi(v);
      }
      return json_response(200, s_.dupes().find(s_.store(), d).to_json());
    }
    if (n == 3 && seg[2] == "dismiss") {
      need(r, {"POST"});
      auto b = body_of(r);
      std::vector<int64_t> ids;
      if (b.contains("key") && b["key"].is_string()) {
        try {
          ids = app::parse_group_key(b["key"].get<std::string>());
        } catch (const app::Error& e) {
          fail(400, e.what());
        }
      } else if (b.contains("photos") && b["photos"].is_array()) {
        for (const auto& v : b["photos"]) {
          if (!v.is_number_integer() || v.get<int64_t>() <= 0) fail(400, "\"photos\" must be a list of photo ids");
          ids.push_back(v.get<int64_t>());
        }
      } else {
        fail(400, "give the group's \"key\" or its \"photos\" (ids)");
      }
      app::dismiss_duplicates(s_.store(), ids);
      return json_response(200, {{"dismissed", ids}});
    }
  }
  if (what == "people") return people(r, seg);
  if (what == "faces") return faces(r, seg);
  if (what == "events" && n == 2) {
    need(r, {"GET"});
    Response res;
    res.header("Content-Type", "text/event-stream").header("Cache-Control", "no-store");
    res.stream = [this](std::shared_ptr<EventSink> sink) { events_.subscribe(std::move(sink)); };
    return res;
  }
  if (what == "version" && n == 2) {
    need(r, {"GET", "HEAD"});
    return json_response(200, {{"version", DARKROOM_VERSION}, {"auth", access_.auth()}});
  }
  fail(404, "no such API call: " + r.path.substr(0, 100) + " (docs/API.md lists them)");
}

Response Api::photos(const Request& r, const std::vector<std::string>& seg) {
  size_t n = seg.size();
  if (n == 2) {
    if (r.method == "POST") return add(r);
    need(r, {"GET", "HEAD", "POST"});
    catalog::PhotoQuery q;
    q.limit = query_size(r, "limit", 100, 1000);
    if (auto c = query(r, "cursor"); !c.empty()) q.after = app::decode_cursor(c);
    q.task = query(r, "task");
    if (!q.task.empty()) {
      const auto& known = analyzers::known_tasks();
      if (std::find(known.begin(), known.end(), q.task) == known.end())
        fail(400, "task must be one of pdq, faces, objects, text, clip, thumbs");
    }
    q.state = query(r, "state");
    if (!q.state.empty() && !catalog::parse_job_state(q.state))
      fail(400, "state must be one of queued, running, done, failed, dead");
    std::stringstream has(query(r, "has"));
    for (std::string h; std::getline(has, h, ',');) {
      if (h == "faces")
        q.has_faces = true;
      else if (h == "text")
        q.has_text = true;
      else if (!h.empty())
        fail(400, "has must list faces and/or text");
    }
    q.label = query(r, "label");
    if (q.label.size() > 100) fail(400, "the label is longer than 100 bytes");
    if (auto p = query(r, "person"); !p.empty()) {
      try {
        q.person = app::parse_id("the person", p);
      } catch (const app::Error& e) {
        fail(400, e.what());
      }
    }
    q.from = query(r, "from");
    q.to = query(r, "to");
    if ((!q.from.empty() && !date_like(q.from)) || (!q.to.empty() && !date_like(q.to)))
      fail(400, "from and to are dates: 2019, 2019-07, 2019-07-04");
    return json_response(200, app::list_photos(s_.store(), q).to_json());
  }
  int64_t id = path_id("photo", seg[2]);
  if (n == 3) {
    need(r, {"GET", "HEAD"});
    return json_response(200, app::photo_json(s_.store(), id, false));
  }
  if (n == 4 && seg[3] == "original") {
    need(r, {"GET", "HEAD"});
    return original(r, id);
  }
  if (n == 4 && seg[3] == "similar") {
    need(r, {"GET", "HEAD"});
    return json_response(200, s_.search().similar(id, query_size(r, "limit", 20, 500)).to_json());
  }
  fail(404, "no such API call: " + r.path.substr(0, 100));
}

Response Api::add(const Request& r) {
  auto b = body_of(r);
  if (!b.contains("path") || !b["path"].is_string() || b["path"].get<std::string>().empty())
    fail(400, "give \"path\": a file or folder on the server, under the library's folders");
  if (o_.roots.empty())
    fail(403,
         "this server adds no photos: no library folders are set (give `darkroom serve --root DIR`, or \"roots\" in "
         "the library's settings.json)");
  std::string path = b["path"].get<std::string>();
  if (path.size() > 4096 || path[0] != '/') fail(400, "\"path\" must be an absolute path on the server");
  app::AddOptions o;
  o.paths = {path};
  o.confine_to = o_.roots;
  if (b.contains("tasks") && b["tasks"].is_string()) o.tasks = b["tasks"].get<std::string>();
  // The path itself must lie under a root (symlinks resolved) before anything is read.
  std::error_code ec;
  auto real = fs::canonical(path, ec);
  bool inside = false;
  if (!ec)
    for (const auto& root : o_.roots) {
      auto rs = real.string();
      if (rs == root || (rs.rfind(root + "/", 0) == 0)) inside = true;
    }
  if (!inside)
    fail(
        403, "photos can only be added from the library's folders: " + [&] {
          std::string l;
          for (const auto& root : o_.roots) l += (l.empty() ? "" : ", ") + root;
          return l;
        }());
  return json_response(200, app::add(s_, o).to_json());
}

Response Api::thumb(const Request& r, const std::string& hash, const std::string& size) {
  auto path = analyzers::thumbnail_path(s_.thumbs_dir(), hash, size);
  if (!path) fail(404, "no such thumbnail (a thumbnail is named by the photo's content_hash, then grid or preview)");
  auto data = files_.get(*path);
  if (!data) fail(404, "this photo has no " + size + " thumbnail yet; the thumbs task makes it (darkroom work)");
  return immutable_file(r, *path, "\"" + hash + "-" + size + "\"", "image/webp", std::move(data));
}

Response Api::original(const Request& r, int64_t id) {
  auto p = s_.store().photo(id);
  if (!p) fail(404, "photo " + std::to_string(id) + " is not in the library");
  for (const auto& path : p->paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    auto rec = s_.store().find_path(path);
    int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    if (!rec || rec->size != uint64_t(st.st_size) || rec->mtime_ns != mtime)
      fail(409, "the file " + path + " changed since it was catalogued; `darkroom add` it again");
    return immutable_file(r, path, "\"" + p->facts.content_hash + "\"", photo_type(p->facts.format));
  }
  fail(404, "the file of photo " + std::to_string(id) + " is missing (none of its paths exist any more)");
}

Response Api::face_thumb(const Request& r, int64_t face_id) {
  auto f = s_.store().face(face_id);
  if (!f) fail(404, "there is no face " + std::to_string(face_id) + " in the library");
  auto p = s_.store().photo(f->photo_id);
  if (!p) fail(404, "the photo of face " + std::to_string(face_id) + " is not in the library");
  const auto& hash = p->facts.content_hash;
  auto preview = analyzers::thumbnail_path(s_.thumbs_dir(), hash, "preview");
  struct stat st {};
  if (!preview || ::stat(preview->c_str(), &st) != 0)
    fail(404, "the photo of this face has no preview yet; the thumbs task makes it (darkroom work)");
  // Named by the photo and the box: a face found again at the same place has the same crop.
  char name[160];
  std::snprintf(name, sizeof name, "%s-%d-%d-%d-%d.webp", hash.c_str(), int(f->box[0]), int(f->box[1]), int(f->box[2]),
                int(f->box[3]));
  auto crop_path = fs::path(s_.thumbs_dir()) / "faces" / hash.substr(0, 2) / name;
  std::string etag = "\"" + std::string(name, std::strlen(name) - 5) + "\"";
  if (!fs::exists(crop_path)) {
    std::ifstream in(*preview, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The preview is the photo as displayed, reduced: face boxes are in displayed pixels.
    int longer = std::max(p->facts.width, p->facts.height);
    double scale = longer > analyzers::kPreviewSide ? double(longer) / analyzers::kPreviewSide : 1.0;
    auto crop =
        image::webp_crop(bytes, f->box[0] / scale, f->box[1] / scale, f->box[2] / scale, f->box[3] / scale, 160);
    std::error_code ec;
    fs::create_directories(crop_path.parent_path(), ec);
    auto tmp = crop_path.string() + ".tmp" + std::to_string(face_id);
    {
      std::ofstream out(tmp, std::ios::binary);
      out.write(crop.bytes.data(), std::streamsize(crop.bytes.size()));
    }
    fs::rename(tmp, crop_path, ec);
    if (ec) fail(500, "cannot write the face crop " + crop_path.string() + ": " + ec.message());
  }
  return immutable_file(r, crop_path.string(), etag, "image/webp", files_.get(crop_path.string()));
}

Response Api::people(const Request& r, const std::vector<std::string>& seg) {
  size_t n = seg.size();
  if (n == 2) {
    need(r, {"GET", "HEAD"});
    return json_response(200, app::list_people(s_.store()).to_json());
  }
  if (n == 3 && seg[2] == "recluster") {
    need(r, {"POST"});
    app::cluster_faces(s_.store(), true);
    return json_response(200, app::list_people(s_.store()).to_json());
  }
  int64_t id = path_id("person", seg[2]);
  if (n == 3) {
    need(r, {"GET", "HEAD"});
    return json_response(200, app::person_detail(s_.store(), id).to_json());
  }
  if (n == 4 && seg[3] == "name") {
    need(r, {"POST", "PUT"});
    auto b = body_of(r);
    if (!b.contains("name") || !b["name"].is_string()) fail(400, "give \"name\": the person's name");
    return json_response(200, app::name_person(s_.store(), id, b["name"].get<std::string>()));
  }
  if (n == 4 && seg[3] == "merge") {
    need(r, {"POST"});
    return json_response(200, app::merge_people(s_.store(), id, body_id(body_of(r), "from")));
  }
  fail(404, "no such API call: " + r.path.substr(0, 100));
}

Response Api::faces(const Request& r, const std::vector<std::string>& seg) {
  size_t n = seg.size();
  if (n < 3) fail(404, "no such API call: " + r.path.substr(0, 100));
  int64_t id = path_id("face", seg[2]);
  if (n == 4 && seg[3] == "thumb") {
    need(r, {"GET", "HEAD"});
    return face_thumb(r, id);
  }
  if (n == 4 && seg[3] == "move") {
    need(r, {"POST"});
    return json_response(200, app::move_face(s_.store(), id, body_id(body_of(r), "to")));
  }
  if (n == 4 && seg[3] == "reject") {
    need(r, {"POST"});
    return json_response(200, app::reject_face(s_.store(), id, body_id(body_of(r), "from")));
  }
  fail(404, "no such API call: " + r.path.substr(0, 100));
}

Response Api::page(const Request& r) {
  need(r, {"GET", "HEAD"});
  std::string path = r.path == "/" ? "/index.html" : r.path;
  const Asset* a = find_asset(path);
  // The page routes its own views (/people, /dupes, ...): any other path without a file extension gets it too.
  if (!a && fs::path(path).extension().empty()) a = find_asset("/index.html");
  if (!a) fail(404, "no such file: " + r.path.substr(0, 100));
  std::string etag =
      "\"" + util::sha256_hex(std::string_view(reinterpret_cast<const char*>(a->data), a->size)).substr(0, 32) + "\"";
  Response res;
  if (r.header("if-none-match").find(etag) != std::string::npos) {
    res.status = 304;
  } else {
    res.body.assign(reinterpret_cast<const char*>(a->data), a->size);
    res.header("Content-Type", mime_type(a->path));
  }
  res.header("ETag", etag).header("Cache-Control", "no-cache");
  return res;
}

}  // namespace dr::server
