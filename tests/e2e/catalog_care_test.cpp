// A catalog's care: `darkroom check` on sound and damaged catalogs, `darkroom backup` while a worker writes, and
// every command on a damaged catalog (truncated, its header overwritten, bytes flipped at random, its WAL lost
// after a kill) ends with a sentence, never a crash.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "support/cli.h"

namespace fs = std::filesystem;
using dr::test::TempDir;
using nlohmann::json;

namespace {

using dr::test::dr_lib;

// A library of `copies` x 3 sample photos (each copy a different content: one byte added after the image data),
// pdq and the test-only wait task queued, nothing analysed yet.
std::string make_library(const TempDir& dir, int copies) {
  fs::create_directories(dir / "photos");
  int n = 0;
  for (auto s : {dr::test::opencv_sample("fruits.jpg"), dr::test::opencv_sample("baboon.jpg"),
                 dr::test::skimage_sample("coffee.png")}) {
    std::ifstream in(s, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    for (int i = 0; i < copies; ++i) {
      bytes.push_back(char(i));
      dr::test::write_file(dir / ("photos/" + std::to_string(n++) + fs::path(s).extension().string()), bytes);
    }
  }
  std::string lib = dir / "lib";
  EXPECT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  auto add = dr_lib(lib, {"add", "--tasks", "pdq,wait", dir / "photos"});
  EXPECT_EQ(add.exit_code, 0) << add.err;
  return lib;
}

json json_of(const dr::util::ProcessResult& r) {
  auto lines = dr::test::json_lines(r.out);
  return lines.size() == 1 ? lines[0] : json();
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

}  // namespace

TEST(CatalogCare, ASoundLibraryPassesItsCheckAndABackupTakenWhileWorkRunsIsWhole) {
  TempDir dir;
  std::string lib = make_library(dir, 30);  // 90 photos, 180 jobs
  auto before = dr_lib(lib, {"--json", "check"});
  ASSERT_EQ(before.exit_code, 0) << before.out << before.err;
  EXPECT_TRUE(json_of(before)["ok"].get<bool>());
  EXPECT_GE(json_of(before)["checked"].size(), 8u);

  // A worker writes (each wait job takes 30 ms) while three backups are taken.
  dr::test::Child w(dr::test::spawn_darkroom(
      {"--library", lib, "--models", dr::test::test_models_dir(), "work", "--until-idle", "--threads", "2"},
      {"DARKROOM_TEST_WAIT_MS=30"}, dir / "work.log"));
  std::vector<int64_t> done;
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    std::string dest = dir / ("backup" + std::to_string(i));
    auto b = dr_lib(lib, {"--json", "backup", dest});
    ASSERT_EQ(b.exit_code, 0) << b.err;
    auto r = json_of(b);
    EXPECT_EQ(r["photos"], 90) << r;
    EXPECT_EQ(r["jobs"], 180) << r;
    EXPECT_TRUE(fs::exists(dest + "/settings.json"));
    // The copy is a library of its own, sound, of one moment: its jobs add up.
    auto c = dr_lib(dest, {"--json", "check"});
    EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
    auto st = json_of(dr_lib(dest, {"--json", "status"}));
    int64_t sum = 0;
    for (const auto& [state, n] : st["jobs"].items()) sum += n.get<int64_t>();
    EXPECT_EQ(sum, 180) << st;
    EXPECT_EQ(st["jobs"]["running"], 0) << "the copy's running jobs are queued again: " << st;
    done.push_back(st["jobs"]["done"].get<int64_t>());
  }
  EXPECT_EQ(w.wait(), 0) << read(dir / "work.log");
  EXPECT_LT(done.front(), 180) << "the worker had finished before the first backup: nothing was tested";
  // The jobs that were running when the copy was made are queued in it: work finishes them there.
  auto w2 = dr_lib(dir / "backup0", {"work", "--until-idle"}, {"DARKROOM_TEST_WAIT_MS=1"});
  EXPECT_EQ(w2.exit_code, 0) << w2.err;
  EXPECT_EQ(json_of(dr_lib(dir / "backup0", {"--json", "status"}))["jobs"]["done"], 180);

  // A backup never goes into a folder that holds something.
  auto again = dr_lib(lib, {"backup", dir / "backup0"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("not an empty folder"), std::string::npos) << again.err;
}

TEST(CatalogCare, ADamagedCatalogGivesASentenceNeverACrash) {
  TempDir dir;
  std::string lib = make_library(dir, 10);
  ASSERT_EQ(dr_lib(lib, {"work", "--until-idle"}, {"DARKROOM_TEST_WAIT_MS=1"}).exit_code, 0);
  std::string sound = dir / "sound";
  fs::copy(lib, sound, fs::copy_options::recursive);
  const std::string catalog = lib + "/catalog.db";
  const std::string original = read(sound + "/catalog.db");
  ASSERT_GT(original.size(), 16384u);

  // Every command a user runs on the damaged catalog: an exit status and a sentence, never a signal.
  auto commands = [&](const std::string& what) {
    for (std::vector<std::string> args : {std::vector<std::string>{"status"},
                                          {"search", "fruits"},
                                          {"dupes"},
                                          {"people"},
                                          {"show", "1"},
                                          {"add", dir / "photos"},
                                          {"work", "--until-idle"},
                                          {"check"},
                                          {"backup", dir / ("b-" + what)}}) {
      auto r = dr_lib(lib, args, {"DARKROOM_TEST_WAIT_MS=1"});
      ASSERT_TRUE(r.started);
      EXPECT_EQ(r.signal, 0) << what << ": " << args[0] << " was killed by signal " << r.signal << "\n" << r.err;
      EXPECT_FALSE(r.timed_out) << what << ": " << args[0];
      if (args[0] == "check") {
        EXPECT_TRUE(r.exit_code == 0 || (r.exit_code == 1 && r.out.find("damaged: ") != std::string::npos))
            << what << ": " << r.out << r.err;
      } else if (r.exit_code != 0) {
        EXPECT_NE(r.err.find("darkroom: "), std::string::npos)
            << what << ": " << args[0] << " exit " << r.exit_code << "\n"
            << r.err.substr(0, 3000);
      }
      fs::remove_all(dir / ("b-" + what));
    }
  };
  auto restore = [&] {
    fs::remove(catalog + "-wal");
    fs::remove(catalog + "-shm");
    dr::test::write_file(catalog, original);
  };

  // Truncated, and its header overwritten: check says damaged (exit 1), and status says so in its sentence.
  restore();
  dr::test::write_file(catalog, original.substr(0, original.size() / 2));
  commands("truncated");
  auto c = dr_lib(lib, {"--json", "check"});
  EXPECT_EQ(c.exit_code, 1) << c.out;
  EXPECT_FALSE(json_of(c)["ok"].get<bool>());
  auto st = dr_lib(lib, {"status"});
  EXPECT_EQ(st.exit_code, 2);
  EXPECT_NE(st.err.find("is damaged"), std::string::npos) << st.err;

  restore();
  {
    std::string bytes = original;
    bytes.replace(0, 16, "not a database!!");
    dr::test::write_file(catalog, bytes);
  }
  commands("header");
  EXPECT_EQ(dr_lib(lib, {"check"}).exit_code, 1);

  // Bytes flipped at random in the pages after the first: whatever they hit, no command crashes, and check finds
  // some of them (a flip inside a stored value is invisible to SQLite: it keeps no checksums).
  std::mt19937 rng(20);
  int found = 0;
  const int rounds = 6;
  for (int round = 0; round < rounds; ++round) {
    restore();
    std::string bytes = original;
    for (int i = 0; i < 64; ++i)
      bytes[std::uniform_int_distribution<size_t>(4096, bytes.size() - 1)(rng)] ^= char(0x5a);
    dr::test::write_file(catalog, bytes);
    if (dr_lib(lib, {"check"}).exit_code == 1) ++found;
    commands("flipped" + std::to_string(round));
  }
  EXPECT_GE(found, 1) << "64 flipped bytes went unnoticed in every round";

  // A worker killed while it wrote, then its WAL lost (a copy of the folder without it): the catalog is the last
  // checkpoint's, or check says it is damaged; nothing crashes.
  restore();
  ASSERT_EQ(dr_lib(lib, {"retry", "--failed", "--dead"}).exit_code, 0);
  {
    fs::remove_all(dir / "photos2");
    fs::create_directories(dir / "photos2");
    auto fruits = read(dr::test::opencv_sample("fruits.jpg"));
    for (int i = 0; i < 60; ++i)
      dr::test::write_file(dir / ("photos2/" + std::to_string(i) + ".jpg"), fruits + char(i) + "x");
    ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq,wait", dir / "photos2"}).exit_code, 0);
  }
  {
    dr::test::Child w(dr::test::spawn_darkroom(
        {"--library", lib, "--models", dr::test::test_models_dir(), "work", "--until-idle", "--threads", "2"},
        {"DARKROOM_TEST_WAIT_MS=20"}));
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
  }  // killed with SIGKILL
  fs::remove(catalog + "-wal");
  fs::remove(catalog + "-shm");
  auto lost = dr_lib(lib, {"check"});
  EXPECT_TRUE(lost.exit_code == 0 || lost.exit_code == 1) << lost.out << lost.err;
  commands("wal-lost");
  if (lost.exit_code == 0) {
    auto last = dr_lib(lib, {"work", "--until-idle"}, {"DARKROOM_TEST_WAIT_MS=1"});
    EXPECT_EQ(last.exit_code, 0) << last.err;
    EXPECT_EQ(dr_lib(lib, {"check"}).exit_code, 0);
  }
}

namespace {

// Runs a shell command; true when it succeeded.
bool sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

// Photos outside the library: `n` copies of three sample photos, each a different content.
void stage(const std::string& folder, int n, int salt) {
  fs::create_directories(folder);
  const std::string samples[] = {dr::test::opencv_sample("fruits.jpg"), dr::test::opencv_sample("baboon.jpg"),
                                 dr::test::skimage_sample("coffee.png")};
  for (int i = 0; i < n; ++i) {
    const std::string& s = samples[i % 3];
    dr::test::write_file(
        folder + "/" + std::to_string(salt) + "-" + std::to_string(i) + fs::path(s).extension().string(),
        read(s) + char(salt) + std::to_string(i));
  }
}

}  // namespace

// A disk that fills, and a thumbnails folder that turns read-only, in the middle of `work`: it stops with a
// sentence that says so, no job fails, nothing is lost, and the next `work` finishes once the disk is fixed.
TEST(CatalogCare, AFullOrReadOnlyDiskStopsWorkAndLosesNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  TempDir dir;
  std::string disk = dir / "disk";
  fs::create_directories(disk);
  if (!sh("mount -t tmpfs -o size=32m darkroom-test " + disk)) GTEST_SKIP() << "this machine cannot mount a tmpfs";
  struct Unmount {
    std::string d;
    ~Unmount() {
      sh("umount " + d + "/lib/thumbs 2>/dev/null");
      sh("umount " + d);
    }
  } unmount{disk};
  std::string lib = disk + "/lib";
  stage(dir / "photos", 40, 1);
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq,thumbs", dir / "photos"}).exit_code, 0);
  auto jobs = [&](const std::string& library) { return json_of(dr_lib(library, {"--json", "status"}))["jobs"]; };

  // Full: a file takes all but 200 KB of the disk; 40 photos' thumbnails need more.
  struct statvfs fsst {};
  ASSERT_EQ(::statvfs(disk.c_str(), &fsst), 0);
  int64_t free_bytes = int64_t(fsst.f_bavail) * int64_t(fsst.f_frsize);
  ASSERT_TRUE(sh("fallocate -l " + std::to_string(free_bytes - 200 * 1024) + " " + disk + "/filler"));
  auto full = dr_lib(lib, {"work", "--until-idle", "--threads", "2"});
  EXPECT_EQ(full.exit_code, 2) << full.out << full.err;
  EXPECT_NE(full.err.find("full"), std::string::npos) << full.err;
  auto j = jobs(lib);
  EXPECT_EQ(j["failed"], 0) << j;
  EXPECT_EQ(j["dead"], 0) << j;
  EXPECT_LT(j["done"].get<int>(), 80) << j;
  fs::remove(disk + "/filler");
  auto resumed = dr_lib(lib, {"work", "--until-idle", "--threads", "2"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  j = jobs(lib);
  EXPECT_EQ(j["done"], 80) << j;
  EXPECT_EQ(j["failed"], 0) << j;
  EXPECT_EQ(dr_lib(lib, {"check"}).exit_code, 0);

  // Read-only: the thumbnails' folder is covered by a read-only file system while work runs (a remount of the
  // catalog's own disk is refused while files are open for writing).
  stage(dir / "more", 60, 2);
  ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq,thumbs,wait", dir / "more"}).exit_code, 0);
  std::string log = dir / "ro.log";
  dr::test::Child w(dr::test::spawn_darkroom(
      {"--library", lib, "--models", dr::test::test_models_dir(), "work", "--until-idle", "--threads", "2"},
      {"DARKROOM_TEST_WAIT_MS=50"}, log));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ASSERT_TRUE(sh("mount -t tmpfs -o ro,size=1m darkroom-test-ro " + lib + "/thumbs"));
  EXPECT_EQ(w.wait(), 2) << read(log);
  EXPECT_NE(read(log).find("read-only"), std::string::npos) << read(log);
  j = jobs(lib);
  EXPECT_EQ(j["failed"], 0) << j;
  EXPECT_EQ(j["dead"], 0) << j;
  ASSERT_TRUE(sh("umount " + lib + "/thumbs"));
  resumed = dr_lib(lib, {"work", "--until-idle", "--threads", "2"}, {"DARKROOM_TEST_WAIT_MS=1"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  j = jobs(lib);
  EXPECT_EQ(j["done"], 80 + 180) << j;
  EXPECT_EQ(j["failed"], 0) << j;
}
