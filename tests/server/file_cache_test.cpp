#include "server/file_cache.h"

#include <gtest/gtest.h>

#include "support/cli.h"

namespace dr::server {
namespace {

TEST(FileCache, KeepsRecentFilesWithinItsBudgetAndNothingTooBig) {
  test::TempDir dir;
  test::write_file(dir / "a", std::string(400, 'a'));
  test::write_file(dir / "b", std::string(400, 'b'));
  test::write_file(dir / "c", std::string(400, 'c'));
  test::write_file(dir / "big", std::string(2000, 'x'));
  FileCache cache(1000, 1000);
  EXPECT_EQ(*cache.get(dir / "a"), std::string(400, 'a'));
  auto b = cache.get(dir / "b");
  EXPECT_EQ(cache.bytes(), 800u);
  cache.get(dir / "a");  // a is now the most recent: c's arrival pushes b out
  cache.get(dir / "c");
  EXPECT_EQ(cache.bytes(), 800u);
  // b was evicted: a changed file is read again (a and c are still served from memory, unchanged names).
  test::write_file(dir / "b", std::string(400, 'B'));
  test::write_file(dir / "a", std::string(400, 'A'));
  EXPECT_EQ(*cache.get(dir / "b"), std::string(400, 'B'));
  EXPECT_EQ(*b, std::string(400, 'b'));  // a caller's bytes stay valid after eviction
  EXPECT_EQ(cache.get(dir / "big"), nullptr);
  EXPECT_EQ(cache.get(dir / "missing"), nullptr);
  EXPECT_EQ(cache.get(dir.path()), nullptr);  // a folder
}

}  // namespace
}  // namespace dr::server
