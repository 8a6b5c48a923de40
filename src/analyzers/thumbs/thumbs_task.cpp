#include "analyzers/thumbs/thumbs_task.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <stdexcept>

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

// Writes a file whole or not at all: a reader never sees half a thumbnail.
void write_atomically(const std::string& path, const std::string& bytes) {
  static std::atomic<uint64_t> seq{0};
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) throw std::runtime_error("cannot create the thumbnail folder for " + path + ": " + ec.message());
  std::string tmp = path + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(seq++);
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      throw std::runtime_error("cannot write the thumbnail " + path + " (is the disk full?)");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write the thumbnail " + path + ": " + ec.message());
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
