// The library's own lists as `add`, `work` and `serve` take them from settings.json: the folders photos may be added
// from and the tasks to queue, whether the settings name them or not.
#include "app/library_ops.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/cli.h"

namespace dr::app {
namespace {

namespace fs = std::filesystem;

TEST(LibraryOps, RootsAndTasksWhetherTheSettingsNameThemOrNot) {
  test::TempDir dir;
  catalog::Library::create(dir / "library");
  fs::create_directories(dir / "photos");
  Config config;
  config.library = dir / "library";
  config.models_dir = dir / "models";  // no models: the tasks that need none
  const std::string photos = fs::canonical(dir / "photos").string();
  {
    // The default settings have no "roots" (fuzz/regressions/settings_fuzz/no-roots.json is the same library).
    Session s(config, false);
    EXPECT_TRUE(library_roots(s, {}).empty());
    EXPECT_EQ(library_roots(s, {dir / "photos", dir / "nonexistent"}), std::vector<std::string>{photos});
    EXPECT_EQ(tasks_for(s), (std::vector<std::string>{"pdq", "thumbs"}));
  }
  test::write_file(dir / "library/settings.json",
                   R"({"roots": [")" + dir / "photos" + R"(", "/nonexistent"], "tasks": ["pdq"]})");
  {
    Session s(config, false);
    EXPECT_EQ(library_roots(s, {}), std::vector<std::string>{photos});
    EXPECT_EQ(tasks_for(s), std::vector<std::string>{"pdq"});
  }
}

}  // namespace
}  // namespace dr::app
