#include "server/file_cache.h"

#include <sys/stat.h>

#include <fstream>

namespace dr::server {

size_t FileCache::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

std::shared_ptr<const std::string> FileCache::get(const std::string& path) {
  {
    std::lock_guard lock(mu_);
    auto it = map_.find(path);
    if (it != map_.end()) {
      order_.splice(order_.begin(), order_, it->second.pos);
      return it->second.data;
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || size_t(st.st_size) > max_file_) return nullptr;
  std::ifstream in(path, std::ios::binary);
  auto data = std::make_shared<std::string>(size_t(st.st_size), '\0');
  if (!in.read(data->data(), std::streamsize(data->size()))) return nullptr;
  std::lock_guard lock(mu_);
  if (map_.count(path)) return map_[path].data;
  order_.push_front(path);
  map_[path] = {data, order_.begin()};
  bytes_ += data->size();
  while (bytes_ > max_bytes_ && order_.size() > 1) {
    auto& victim = order_.back();
    bytes_ -= map_[victim].data->size();
    map_.erase(victim);
    order_.pop_back();
  }
  return data;
}

}  // namespace dr::server
