#include "catalog/scan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "catalog/sqlite_store.h"
#include "jobs/queue.h"
#include "support/cli.h"

namespace dr::catalog {
namespace {
namespace fs = std::filesystem;

const char* kData = "/usr/share/doc/opencv-doc/examples/data/";

struct ScanTest : ::testing::Test {
  test::TempDir dir;
  std::unique_ptr<SqliteStore> store;
  std::string photos;
  void SetUp() override {
    SqliteOptions o;
    o.create = true;
    store = std::make_unique<SqliteStore>(dir / "catalog.db", o);
    photos = dir / "photos";
    fs::create_directories(photos + "/trip");
    fs::copy_file(std::string(kData) + "fruits.jpg", photos + "/fruits.jpg");
    fs::copy_file(std::string(kData) + "baboon.jpg", photos + "/trip/baboon.jpg");
    fs::copy_file("/usr/lib/python3/dist-packages/skimage/data/coffee.png", photos + "/trip/coffee.png");
    test::write_file(dir / "photos/readme.txt", "not a photo");  // not looked at: not a photo name
  }
  std::function<int(int64_t, const std::vector<std::string>&)> enqueue() {
    return [this](int64_t id, const std::vector<std::string>& tasks) { return jobs::Queue(*store).enqueue(id, tasks); };
  }
  ScanReport add(std::vector<std::string> roots = {}) {
    ScanOptions o;
    o.tasks = {"pdq"};
    o.enqueue = enqueue();
    if (roots.empty()) roots = {photos};
    return scan(*store, roots, o);
  }
};

TEST_F(ScanTest, AddsPhotosOnceAndSkipsUnchangedFiles) {
  auto r = add();
  EXPECT_EQ(r.found, 3u);
  EXPECT_EQ(r.added, 3u);
  EXPECT_EQ(r.queued, 3u);
  EXPECT_TRUE(r.problems.empty());
  auto rec = store->find_path(photos + "/fruits.jpg");
  ASSERT_TRUE(rec);
  auto p = store->photo(rec->photo_id);
  EXPECT_EQ(p->facts.format, "jpeg");
  EXPECT_EQ(p->facts.width, 512);
  EXPECT_EQ(p->facts.content_hash.size(), 64u);
  auto again = add();
  EXPECT_EQ(again.unchanged, 3u);
  EXPECT_EQ(again.added, 0u);
  EXPECT_EQ(again.queued, 0u);
  // A new task on the next add queues it for the unchanged photos too.
  ScanOptions o;
  o.tasks = {"pdq", "faces"};
  o.enqueue = enqueue();
  EXPECT_EQ(scan(*store, {photos}, o).queued, 3u);
}

TEST_F(ScanTest, MovedAndRenamedFilesAreRecognisedAndGoneOnesMarkedMissing) {
  add();
  auto before = store->find_path(photos + "/trip/baboon.jpg");
  ASSERT_TRUE(before);
  fs::rename(photos + "/trip/baboon.jpg", photos + "/monkey.jpg");
  fs::remove(photos + "/trip/coffee.png");
  auto r = add();
  EXPECT_EQ(r.known, 1u);  // the moved file: same content, new path
  EXPECT_EQ(r.added, 0u);
  EXPECT_EQ(r.queued, 0u);   // not analysed again
  EXPECT_EQ(r.missing, 2u);  // the old path of the moved file and the deleted one
  auto moved = store->find_path(photos + "/monkey.jpg");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->photo_id, before->photo_id);
  auto p = store->photo(before->photo_id);
  EXPECT_EQ(p->paths, std::vector<std::string>{photos + "/monkey.jpg"});
  EXPECT_EQ(p->missing_paths, std::vector<std::string>{photos + "/trip/baboon.jpg"});
  EXPECT_EQ(store->photo_count(), 2);
  // It comes back: no longer missing, no new photo.
  fs::copy_file("/usr/lib/python3/dist-packages/skimage/data/coffee.png", photos + "/trip/coffee.png");
  auto back = add();
  EXPECT_EQ(back.added, 0u);
  EXPECT_EQ(store->photo_count(), 3);
}

TEST_F(ScanTest, ChangedContentAtAKnownPathIsANewPhoto) {
  add();
  auto old = store->find_path(photos + "/fruits.jpg");
  fs::remove(photos + "/fruits.jpg");
  fs::copy_file(std::string(kData) + "messi5.jpg", photos + "/fruits.jpg");
  auto r = add();
  EXPECT_EQ(r.changed, 1u);
  EXPECT_EQ(r.queued, 1u);
  EXPECT_NE(store->find_path(photos + "/fruits.jpg")->photo_id, old->photo_id);
}

TEST_F(ScanTest, SymlinkLoopsAndUnreadableFoldersAreReportedNotFatal) {
  fs::create_directory_symlink(photos, photos + "/trip/loop");
  fs::create_directory(photos + "/locked");
  fs::copy_file(std::string(kData) + "messi5.jpg", photos + "/locked/lena.jpg");
  fs::permissions(photos + "/locked", fs::perms::none);
  bool root = ::access((photos + "/locked").c_str(), R_OK) == 0;
  auto r = add();
  EXPECT_EQ(r.found, root ? 4u : 3u);
  bool loop = false, locked = false;
  for (const auto& p : r.problems) {
    loop |= p.find("symlink loop") != std::string::npos;
    locked |= p.find("cannot read the folder") != std::string::npos;
  }
  EXPECT_TRUE(loop);
  if (!root) {
    EXPECT_TRUE(locked);
  }
  fs::permissions(photos + "/locked", fs::perms::owner_all);
  auto missing = add({photos + "/nothing-here"});
  ASSERT_EQ(missing.problems.size(), 1u);
  EXPECT_NE(missing.problems[0].find("nothing-here"), std::string::npos);
}

TEST_F(ScanTest, FilesNamedOnTheCommandLineAreTakenWhateverTheirName) {
  auto text = dir / "notes.jpg";
  test::write_file(text, "hello, I am text");
  auto r = add({text, photos + "/fruits.jpg"});
  EXPECT_EQ(r.added, 2u);
  auto p = store->photo(store->find_path(text)->photo_id);
  EXPECT_EQ(p->facts.format, "");  // not an image: its jobs will fail with the decoder's reason
}

}  // namespace
}  // namespace dr::catalog
