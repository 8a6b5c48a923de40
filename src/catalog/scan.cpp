#include "catalog/scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>

#include "image/metadata.h"
#include "util/sha256.h"

namespace dr::catalog {
namespace fs = std::filesystem;

bool is_photo_name(const std::string& path) {
  auto ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  static const std::set<std::string> known = {".jpg",  ".jpeg", ".jpe",  ".png", ".webp",
                                              ".heic", ".heif", ".avif", ".tif", ".tiff"};
  return known.count(ext) > 0;
}

namespace {

struct FileStat {
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

std::string local_date(int64_t mtime_ns) {
  time_t t = time_t(mtime_ns / 1'000'000'000);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// Whether a path's real location (every symlink resolved) lies inside one of the folders of `roots`.
bool inside(const std::string& path, const std::vector<std::string>& roots) {
  std::error_code ec;
  auto real = fs::canonical(path, ec);
  if (ec) return false;
  auto r = real.string();
  for (const auto& root : roots) {
    if (r == root) return true;
    if (r.size() > root.size() && r.compare(0, root.size(), root) == 0 && (root.back() == '/' || r[root.size()] == '/'))
      return true;
  }
  return false;
}

class Walker {
 public:
  Walker(ScanReport& r, const std::vector<std::string>& confine_to) : report_(r), confine_to_(confine_to) {}

  void walk_root(const std::string& root, std::vector<std::pair<std::string, FileStat>>& files) {
    if (!allowed(root)) return;
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) {
      report_.problems.push_back("cannot read " + root + ": " + std::strerror(errno));
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      walk_dir(root, st, files);
    } else if (S_ISREG(st.st_mode)) {
      files.emplace_back(root, FileStat{uint64_t(st.st_size), mtime_ns(st)});
    } else {
      report_.problems.push_back(root + " is neither a file nor a folder; skipped");
    }
  }

 private:
  static int64_t mtime_ns(const struct stat& st) {
    return int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }

  void walk_dir(const std::string& dir, const struct stat& st, std::vector<std::pair<std::string, FileStat>>& files) {
    auto key = std::make_pair(uint64_t(st.st_dev), uint64_t(st.st_ino));
    if (!on_path_.insert(key).second) {
      report_.problems.push_back("symlink loop at " + dir + "; not followed");
      return;
    }
    if (!done_.insert(key).second) {  // the same folder reached twice through links: walk it once
      on_path_.erase(key);
      return;
    }
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::none, ec), end;
    if (ec) {
      report_.problems.push_back("cannot read the folder " + dir + ": " + ec.message());
      on_path_.erase(key);
      return;
    }
    std::vector<std::string> entries;
    for (; it != end; it.increment(ec)) {
      if (ec) {
        report_.problems.push_back("cannot list " + dir + ": " + ec.message());
        break;
      }
      entries.push_back(it->path().string());
    }
    std::sort(entries.begin(), entries.end());
    for (const auto& p : entries) {
      struct stat s {};
      if (::stat(p.c_str(), &s) != 0) {
        struct stat l {};
        if (::lstat(p.c_str(), &l) == 0 && S_ISLNK(l.st_mode))
          report_.problems.push_back("broken symlink " + p + "; skipped");
        else
          report_.problems.push_back("cannot read " + p + ": " + std::strerror(errno));
        continue;
      }
      if (S_ISDIR(s.st_mode)) {
        if (fs::path(p).filename().string().rfind('.', 0) == 0) continue;  // hidden folders (.git, .thumbnails)
        if (allowed(p)) walk_dir(p, s, files);
      } else if (S_ISREG(s.st_mode) && is_photo_name(p)) {
        if (allowed(p)) files.emplace_back(p, FileStat{uint64_t(s.st_size), mtime_ns(s)});
      }
    }
    on_path_.erase(key);
  }

  bool allowed(const std::string& p) {
    if (confine_to_.empty() || inside(p, confine_to_)) return true;
    report_.problems.push_back(p + " leads outside the library's folders; skipped");
    return false;
  }

  ScanReport& report_;
  const std::vector<std::string>& confine_to_;
  std::set<std::pair<uint64_t, uint64_t>> on_path_, done_;
};

PhotoFacts facts_of(const std::string& path, const std::string& hash, const FileStat& st) {
  PhotoFacts f;
  f.content_hash = hash;
  f.size = st.size;
  f.file_date = local_date(st.mtime_ns);
  auto m = image::read_metadata(path);
  f.format = m.format;
  f.width = m.width;
  f.height = m.height;
  f.orientation = m.orientation;
  f.taken_at = m.taken_at;
  f.camera_make = m.camera_make;
  f.camera_model = m.camera_model;
  if (m.gps) {
    f.gps_lat = m.gps->lat;
    f.gps_lon = m.gps->lon;
    f.gps_alt = m.gps->alt;
  }
  return f;
}

}  // namespace

ScanReport scan(Store& store, const std::vector<std::string>& roots, const ScanOptions& opts) {
  ScanReport report;
  int64_t scan_id = now_ms();
  std::vector<std::string> abs_roots;
  for (const auto& r : roots) {
    auto a = fs::absolute(r).lexically_normal().string();
    if (a.size() > 1 && a.back() == '/') a.pop_back();
    abs_roots.push_back(a);
  }
  std::vector<std::pair<std::string, FileStat>> files;
  Walker walker(report, opts.confine_to);
  for (const auto& r : abs_roots) walker.walk_root(r, files);
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  files.erase(std::unique(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
              files.end());
  report.found = files.size();

  // Unchanged files are recorded in batches; new ones one transaction each, after hashing outside any lock.
  std::vector<std::pair<std::string, int64_t>> unchanged;
  auto flush_unchanged = [&] {
    if (unchanged.empty()) return;
    store.batch([&] {
      for (const auto& [path, photo] : unchanged) {
        store.touch_path(path, scan_id);
        if (opts.enqueue) report.queued += size_t(opts.enqueue(photo, opts.tasks));
      }
    });
    unchanged.clear();
  };

  size_t done = 0;
  for (const auto& [path, st] : files) {
    auto rec = store.find_path(path);
    if (rec && !rec->missing && rec->size == st.size && rec->mtime_ns == st.mtime_ns) {
      ++report.unchanged;
      unchanged.emplace_back(path, rec->photo_id);
      if (unchanged.size() >= 256) flush_unchanged();
    } else {
      std::string hash;
      try {
        hash = util::sha256_file(path);
      } catch (const std::exception& e) {
        report.problems.push_back(std::string(e.what()) + "; skipped");
        continue;
      }
      auto known = store.find_photo_by_hash(hash);
      std::optional<PhotoFacts> facts;
      if (!known) facts = facts_of(path, hash, st);
      store.batch([&] {
        int64_t photo;
        if (auto again = store.find_photo_by_hash(hash)) {  // another process may have added it meanwhile
          photo = *again;
          if (rec && rec->photo_id == photo)
            ++report.unchanged;  // touched but same content
          else if (rec)
            ++report.changed;
          else
            ++report.known;
        } else {
          if (!facts) facts = facts_of(path, hash, st);
          photo = store.add_photo(*facts);
          if (rec)
            ++report.changed;
          else
            ++report.added;
        }
        store.put_path(path, photo, st.size, st.mtime_ns, scan_id);
        if (opts.enqueue) report.queued += size_t(opts.enqueue(photo, opts.tasks));
      });
    }
    ++done;
    if (opts.progress) opts.progress(done);
  }
  flush_unchanged();

  // Files that were catalogued under a scanned root and are gone now.
  std::vector<std::string> gone;
  for (const auto& r : abs_roots)
    for (const auto& p : store.unseen_paths(r, scan_id))
      if (std::error_code ec; !fs::exists(p, ec)) gone.push_back(p);
  std::sort(gone.begin(), gone.end());
  gone.erase(std::unique(gone.begin(), gone.end()), gone.end());
  store.mark_missing(gone);
  report.missing = gone.size();
  return report;
}

}  // namespace dr::catalog
