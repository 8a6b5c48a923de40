#include "analyzers/thumbs/thumbs_task.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "image/thumbnail.h"

namespace dr::analyzers {
namespace fs = std::filesystem;

std::optional<std::string> thumbnail_path(const std::string& dir, const std::string& content_hash,
                                          const std::string& size) {
  if (content_hash.size() != 64 || content_hash.find_first_not_of("0123456789abcdef") != std::string::npos)
    return std::nullopt;
  if (size != "grid" && size != "preview") return std::nullopt;
  return (fs::path(dir) / content_hash.substr(0, 2) / (content_hash + "-" + size + ".webp")).string();
}

namespace {

// Writes a file whole or not at all: a reader never sees half a thumbnail. A full or read-only disk is the
// machine's problem, not the photo's: HostError.
void write_atomically(const std::string& path, const std::string& bytes) {
  static std::atomic<uint64_t> seq{0};
  auto fail = [&](const std::string& what, int err) {
    std::string why = std::generic_category().message(err);
    if (is_host_errno(err))
      throw HostError("cannot write the thumbnail " + path + ": " + why +
                      (err == EROFS ? " (the thumbnails' disk is read-only)" : " (the thumbnails' disk is full)"));
    throw std::runtime_error("cannot " + what + " " + path + ": " + why);
  };
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) fail("create the thumbnail folder for", ec.value());
  std::string tmp = path + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(seq++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("write the thumbnail", errno);
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(tmp.c_str());
      fail("write the thumbnail", err);
    }
    off += size_t(n);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("write the thumbnail", err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail("write the thumbnail", err);
  }
}

class ThumbsTask : public Task {
 public:
  ThumbsTask(std::string dir, int quality) : dir_(std::move(dir)), quality_(quality) {}
  std::string name() const override { return "thumbs"; }
  int wanted_side() const override { return kPreviewSide; }

  nlohmann::json run(const image::Decoded& img, const RunOptions& opts) override {
    auto grid_path = thumbnail_path(dir_, opts.content_hash, "grid");
    auto preview_path = thumbnail_path(dir_, opts.content_hash, "preview");
    if (!grid_path || !preview_path)
      throw std::runtime_error("the thumbs task needs the photo's content hash (it runs on library photos only)");
    auto preview = image::webp_thumbnail(img.rgb, 0, kPreviewSide, quality_);
    auto grid = image::webp_thumbnail(img.rgb, kGridShortSide, kGridLongSide, quality_);
    write_atomically(*preview_path, preview.bytes);
    write_atomically(*grid_path, grid.bytes);
    auto facts = [](const image::Encoded& e) {
      return nlohmann::json{{"width", e.width}, {"height", e.height}, {"bytes", e.bytes.size()}};
    };
    return {{"grid", facts(grid)}, {"preview", facts(preview)}};
  }

 private:
  std::string dir_;
  int quality_;
};

}  // namespace

std::unique_ptr<Task> make_thumbs_task(TaskContext& ctx) {
  std::string dir;
  int quality = 80;
  if (auto it = ctx.settings.find("thumbs"); it != ctx.settings.end() && it->is_object()) {
    if (it->contains("dir") && (*it)["dir"].is_string()) dir = (*it)["dir"].get<std::string>();
    if (it->contains("quality") && (*it)["quality"].is_number_integer())
      quality = std::clamp((*it)["quality"].get<int>(), 1, 100);
  }
  if (dir.empty())
    throw std::invalid_argument(
        "the thumbs task writes into a library's thumbs folder and runs under `darkroom work` (or `serve`); for "
        "`analyze`, give one with --set thumbs.dir=DIR");
  return std::make_unique<ThumbsTask>(dir, quality);
}

}  // namespace dr::analyzers
