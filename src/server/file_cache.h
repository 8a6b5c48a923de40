// Small files that never change under their name (thumbnails, face crops: named by content hash) kept in memory,
// least recently used out first, so that a busy grid is served without opening a file per request.
#pragma once
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dr::server {

class FileCache {
 public:
  explicit FileCache(size_t max_bytes = 64 << 20, size_t max_file = 1 << 20)
      : max_bytes_(max_bytes), max_file_(max_file) {}
  // The file's bytes, read on first use; null when it cannot be read (absent) or is larger than max_file (then the
  // caller sends it from disk).
  std::shared_ptr<const std::string> get(const std::string& path);
  size_t bytes() const;

 private:
  struct Entry {
    std::shared_ptr<const std::string> data;
    std::list<std::string>::iterator pos;
  };
  size_t max_bytes_, max_file_;
  mutable std::mutex mu_;
  size_t bytes_ = 0;
  std::list<std::string> order_;  // most recently used first
  std::unordered_map<std::string, Entry> map_;
};

}  // namespace dr::server
