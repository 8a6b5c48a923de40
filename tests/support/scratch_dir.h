// A scratch folder for one test, removed afterwards (kept when DARKROOM_KEEP_TEST_DIRS is set, for debugging).
#pragma once
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace dr::test {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name = "t") {
    std::string tmpl = (std::filesystem::temp_directory_path() / ("darkroom-" + name + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    if (std::getenv("DARKROOM_KEEP_TEST_DIRS")) return;
    std::error_code ec;
    // Make read-only folders a test created removable again.
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
      if (it->is_directory(ec))
        std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all, std::filesystem::perm_options::add,
                                     ec);
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return (std::filesystem::path(path_) / rel).string(); }

  // Writes a file (creating its folders) and returns its path.
  std::string write(const std::string& rel, const std::string& bytes) const {
    auto p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }

 private:
  std::string path_;
};

}  // namespace dr::test
