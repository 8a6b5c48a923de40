// The library workflow end to end: the built binary on real photos and bad files (init, add, work, status, show,
// dupes, search, retry), a locked and a read-only catalog, and worker processes killed with SIGKILL and SIGINT.
// Only the pdq task is used: it needs no model, so these tests run on any machine.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
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

json json_of(const dr::util::ProcessResult& r) {
  auto lines = dr::test::json_lines(r.out);
  EXPECT_EQ(lines.size(), 1u) << r.out << r.err;
  return lines.empty() ? json() : lines[0];
}

// A PNG whose header claims 100000 x 100000 pixels: a pixel bomb (a few hundred bytes on disk).
std::string pixel_bomb_png() {
  auto chunk = [](const std::string& type, const std::string& data) {
    std::string c;
    uint32_t n = uint32_t(data.size());
    for (int i = 3; i >= 0; --i) c += char((n >> (8 * i)) & 0xff);
    std::string td = type + data;
    c += td;
    uint32_t crc = uint32_t(crc32(0, reinterpret_cast<const Bytef*>(td.data()), uInt(td.size())));
    for (int i = 3; i >= 0; --i) c += char((crc >> (8 * i)) & 0xff);
    return c;
  };
  std::string ihdr;
  for (uint32_t v : {100000u, 100000u})
    for (int i = 3; i >= 0; --i) ihdr += char((v >> (8 * i)) & 0xff);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB
  std::string row(1 + 3 * 64, '\0'), z(256, '\0');
  uLongf zn = uLongf(z.size());
  compress(reinterpret_cast<Bytef*>(z.data()), &zn, reinterpret_cast<const Bytef*>(row.data()), uLong(row.size()));
  z.resize(zn);
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", z) + chunk("IEND", "");
}

// A few real photos, with a byte-identical copy and near-duplicates (the PDQ reference's edited variants).
std::vector<std::string> stage_photos(const TempDir& dir) {
  fs::create_directories(dir / "photos/dupes");
  std::vector<std::string> src = {dr::test::opencv_sample("fruits.jpg"), dr::test::opencv_sample("baboon.jpg"),
                                  dr::test::skimage_sample("coffee.png"), dr::test::skimage_sample("chelsea.png")};
  for (const auto& s : src) fs::copy_file(s, dir / ("photos/" + fs::path(s).filename().string()));
  fs::copy_file(dr::test::opencv_sample("fruits.jpg"), dir / "photos/dupes/fruits-copy.jpg");
  std::string mods = dr::test::shared_dir() + "/testdata/pdq/bridge-mods/";
  if (fs::exists(mods))
    for (auto n : {"aaa-orig.jpg", "shrink-a-lot.jpg", "blur-a-little.jpg"})
      fs::copy_file(mods + n, dir / (std::string("photos/dupes/") + n));
  return src;
}

TEST(LibraryCli, CommandsOnAMissingLibrarySayHowToCreateOne) {
  TempDir dir;
  for (auto cmd : {"status", "add", "work", "search", "dupes", "retry"}) {
    std::vector<std::string> args = {cmd};
    if (std::string(cmd) == "add" || std::string(cmd) == "search") args.push_back("x");
    auto r = dr_lib(dir / "nolib", args);
    EXPECT_EQ(r.exit_code, 2) << cmd;
    EXPECT_NE(r.err.find("darkroom init"), std::string::npos) << cmd << ": " << r.err;
  }
}

TEST(LibraryCli, AddWorkStatusShowDupesSearch) {
  TempDir dir;
  std::string lib = dir / "lib";
  stage_photos(dir);
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  auto add = dr_lib(lib, {"--json", "add", "--tasks", "pdq", dir / "photos"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto a = json_of(add);
  size_t files = a["found"].get<size_t>();
  EXPECT_GE(files, 5u);
  EXPECT_EQ(a["added"].get<size_t>(), files - 1);  // the byte-identical copy is a second path of one photo
  EXPECT_EQ(a["known"], 1);
  EXPECT_EQ(a["queued"].get<size_t>(), files - 1);

  auto work = dr_lib(lib, {"work", "--until-idle", "--threads", "2"});
  ASSERT_EQ(work.exit_code, 0) << work.err;
  EXPECT_NE(work.err.find("photos"), std::string::npos) << work.err;  // plain progress lines, not a TTY

  auto st = json_of(dr_lib(lib, {"status", "--json"}));
  EXPECT_EQ(st["photos"].get<size_t>(), files - 1);
  EXPECT_EQ(st["jobs"]["done"].get<size_t>(), files - 1);
  EXPECT_EQ(st["jobs"]["queued"], 0);
  EXPECT_EQ(st["jobs"]["running"], 0);
  EXPECT_EQ(st["by_task"]["pdq"]["done"].get<size_t>(), files - 1);
  EXPECT_TRUE(st["failures"].empty());

  auto show = json_of(dr_lib(lib, {"show", "--json", dir / "photos/fruits.jpg"}));
  EXPECT_EQ(show["width"], 512);
  EXPECT_EQ(show["height"], 480);
  EXPECT_EQ(show["paths"].size(), 2u);
  EXPECT_EQ(show["tasks"]["pdq"]["status"], "done");
  EXPECT_EQ(show["tasks"]["pdq"]["attempts"], 1);
  EXPECT_EQ(show["pdq"]["hash"].get<std::string>().size(), 64u);
  EXPECT_TRUE(show.contains("taken_at"));
  EXPECT_TRUE(show.contains("camera"));
  EXPECT_TRUE(show.contains("gps"));
  // By id too.
  auto by_id = json_of(dr_lib(lib, {"show", "--json", std::to_string(show["id"].get<int64_t>())}));
  EXPECT_EQ(by_id["pdq"], show["pdq"]);

  auto dupes = json_of(dr_lib(lib, {"dupes", "--json"}));
  bool identical = false, similar = false;
  for (const auto& g : dupes["groups"]) {
    std::string all = g["photos"].dump();
    if (all.find("fruits-copy.jpg") != std::string::npos && g["max_distance"] == 0) identical = true;
    if (all.find("aaa-orig.jpg") != std::string::npos && all.find("shrink-a-lot.jpg") != std::string::npos)
      similar = true;
    EXPECT_EQ(all.find("baboon"), std::string::npos) << all;  // baboon has no duplicate
  }
  EXPECT_TRUE(identical) << dupes;
  if (fs::exists(dir / "photos/dupes/aaa-orig.jpg")) {
    EXPECT_TRUE(similar) << dupes;
  }

  auto search = json_of(dr_lib(lib, {"search", "--json", "baboon"}));
  ASSERT_EQ(search["results"].size(), 1u) << search;
  EXPECT_EQ(search["results"][0]["path"], dir / "photos/baboon.jpg");
  EXPECT_EQ(search["results"][0]["matched"][0], "file: baboon.jpg");
  EXPECT_GT(search["results"][0]["score"].get<double>(), 0);
}

TEST(LibraryCli, BadFilesEndAsFailedJobsWithReasonsAndWorkExitsZero) {
  TempDir dir;
  std::string lib = dir / "lib";
  fs::create_directories(dir / "bad");
  dr::test::write_file(dir / "bad/empty.jpg", "");
  std::ifstream in(dr::test::opencv_sample("baboon.jpg"), std::ios::binary);
  std::string jpeg((std::istreambuf_iterator<char>(in)), {});
  dr::test::write_file(dir / "bad/truncated.jpg", jpeg.substr(0, jpeg.size() / 3));
  std::mt19937 rng(5);
  std::string noise(4096, '\0');
  for (auto& c : noise) c = char(rng());
  dr::test::write_file(dir / "bad/noise.png", noise);
  dr::test::write_file(dir / "bad/letter.jpg", "Dear reader, this is not a photo.\n");
  dr::test::write_file(dir / "bad/bomb.png", pixel_bomb_png());
  fs::copy_file(dr::test::opencv_sample("fruits.jpg"), dir / "bad/good.jpg");
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq", dir / "bad"}).exit_code, 0);
  auto work = dr_lib(lib, {"work", "--until-idle"});
  EXPECT_EQ(work.exit_code, 0) << work.err;
  auto st = json_of(dr_lib(lib, {"status", "--json"}));
  EXPECT_EQ(st["jobs"]["done"], 1);
  EXPECT_EQ(st["jobs"]["failed"], 5) << st;
  std::map<std::string, std::string> why;
  for (const auto& f : st["failures"]) {
    why[fs::path(f["path"].get<std::string>()).filename().string()] = f["error"].get<std::string>();
    EXPECT_EQ(f["attempts"], 1) << f;  // permanent: no retries
    EXPECT_EQ(f["task"], "pdq");
  }
  EXPECT_NE(why["empty.jpg"].find("empty"), std::string::npos) << why["empty.jpg"];
  EXPECT_NE(why["letter.jpg"].find("not an image"), std::string::npos) << why["letter.jpg"];
  EXPECT_NE(why["noise.png"].find("not an image"), std::string::npos) << why["noise.png"];
  EXPECT_FALSE(why["truncated.jpg"].empty());
  EXPECT_NE(why["bomb.png"].find("100000x100000"), std::string::npos) << why["bomb.png"];
  // Human-readable status names them too.
  auto text = dr_lib(lib, {"status"});
  EXPECT_NE(text.out.find("bomb.png"), std::string::npos) << text.out;
  // retry puts them back.
  auto retry = json_of(dr_lib(lib, {"--json", "retry", "--failed"}));
  EXPECT_EQ(retry["queued"], 5);
  EXPECT_EQ(json_of(dr_lib(lib, {"status", "--json"}))["jobs"]["queued"], 5);
}

TEST(LibraryCli, MovedFilesAreRecognisedUnchangedSkippedMissingMarked) {
  TempDir dir;
  std::string lib = dir / "lib";
  stage_photos(dir);
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq", dir / "photos"}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"work", "--until-idle", "-q"}).exit_code, 0);
  auto again = json_of(dr_lib(lib, {"--json", "add", "--tasks", "pdq", dir / "photos"}));
  EXPECT_EQ(again["unchanged"], again["found"]);
  EXPECT_EQ(again["queued"], 0);
  fs::rename(dir / "photos/baboon.jpg", dir / "photos/renamed-monkey.jpg");
  fs::remove(dir / "photos/coffee.png");
  auto moved = json_of(dr_lib(lib, {"--json", "add", "--tasks", "pdq", dir / "photos"}));
  EXPECT_EQ(moved["known"], 1);
  EXPECT_EQ(moved["added"], 0);
  EXPECT_EQ(moved["queued"], 0);  // not analysed again
  EXPECT_EQ(moved["missing"], 2);
  auto show = json_of(dr_lib(lib, {"show", "--json", dir / "photos/renamed-monkey.jpg"}));
  EXPECT_EQ(show["tasks"]["pdq"]["status"], "done");
  EXPECT_EQ(show["path"], dir / "photos/renamed-monkey.jpg");
  EXPECT_EQ(show["missing_paths"][0], dir / "photos/baboon.jpg");
  auto gone = json_of(dr_lib(lib, {"show", "--json", dir / "photos/coffee.png"}));
  EXPECT_EQ(gone["missing"], true);
}

TEST(LibraryCli, ALockedCatalogWaitsThenSaysSoClearly) {
  TempDir dir;
  std::string lib = dir / "lib";
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((lib + "/catalog.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto t0 = std::chrono::steady_clock::now();
  auto r = dr_lib(lib, {"retry"}, {"DARKROOM_BUSY_TIMEOUT_MS=400"});
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("locked by another process"), std::string::npos) << r.err;
  EXPECT_GE(waited, 0.4);  // it waited for the busy timeout first
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto ok = dr_lib(lib, {"retry"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(LibraryCli, AReadOnlyLibraryIsReadableAndRefusesWrites) {
  TempDir dir;
  std::string lib = dir / "lib";
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq", dr::test::opencv_sample("fruits.jpg")}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"work", "--until-idle", "-q"}).exit_code, 0);
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(lib + "/catalog.db", fs::perms::owner_read | fs::perms::others_read);
  fs::permissions(lib + "/settings.json", fs::perms::owner_read | fs::perms::others_read);
  fs::permissions(lib, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read | fs::perms::others_exec);
  // Root ignores permissions: run darkroom as nobody then.
  std::vector<std::string> prefix;
  if (::geteuid() == 0) prefix = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = prefix;
    argv.push_back(DARKROOM_BIN);
    argv.insert(argv.end(), {"--library", lib});
    argv.insert(argv.end(), args.begin(), args.end());
    return dr::util::run_process(argv, 60000);
  };
  auto st = run({"status", "--json"});
  EXPECT_EQ(st.exit_code, 0) << st.err;
  EXPECT_EQ(json_of(st)["jobs"]["done"], 1);
  auto show = run({"show", "--json", dr::test::opencv_sample("fruits.jpg")});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  auto add = run({"add", "--tasks", "pdq", dr::test::opencv_sample("baboon.jpg")});
  EXPECT_EQ(add.exit_code, 2);
  EXPECT_NE(add.err.find("read-only"), std::string::npos) << add.err;
  auto work = run({"work", "--until-idle"});
  EXPECT_EQ(work.exit_code, 2);
  EXPECT_NE(work.err.find("read-only"), std::string::npos) << work.err;
  fs::permissions(lib, fs::perms::owner_all);
}

// Starts `darkroom work` in the background (output to a file); returns its pid.
pid_t spawn_work(const std::string& lib, const std::string& log, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--library", lib, "--models", dr::test::test_models_dir(), "work"};
  args.insert(args.end(), extra.begin(), extra.end());
  return dr::test::spawn_darkroom(args, {}, log);
}

void add_audit(const std::string& catalog) {
  sqlite3* db = nullptr;
  sqlite3_open(catalog.c_str(), &db);
  sqlite3_busy_timeout(db, 10000);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE audit(job_id INTEGER NOT NULL);"
                         "CREATE TRIGGER audit_done AFTER UPDATE OF state ON jobs "
                         "WHEN new.state='done' AND old.state<>'done' "
                         "BEGIN INSERT INTO audit(job_id) VALUES (new.id); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
}

int64_t count(const std::string& catalog, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(catalog.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &s, nullptr);
  int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

// Photos for the kill tests: the sample photos, each also saved under several names with one byte changed at its
// end (a different content, so a different photo and job).
int stage_many(const TempDir& dir, int copies) {
  fs::create_directories(dir / "many");
  int n = 0;
  for (auto s : {dr::test::opencv_sample("fruits.jpg"), dr::test::opencv_sample("baboon.jpg"),
                 dr::test::opencv_sample("messi5.jpg"), dr::test::skimage_sample("coffee.png")}) {
    std::ifstream in(s, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    for (int i = 0; i < copies; ++i) {
      bytes.push_back(char(i));  // trailing bytes after the image data: decoders ignore them
      dr::test::write_file(dir / ("many/" + std::to_string(n++) + fs::path(s).extension().string()), bytes);
    }
  }
  return n;
}

TEST(LibraryCli, WorkKilledWithSigkillAtRandomMomentsLosesAndRepeatsNothing) {
  TempDir dir;
  std::string lib = dir / "lib", catalog = lib + "/catalog.db";
  // Enough photos that a quick machine is still working when the third kill comes (each run does at most 200 ms).
  int photos = stage_many(dir, 25);
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq", dir / "many"}).exit_code, 0);
  add_audit(catalog);
  std::mt19937 rng(42);
  int kills = 0;
  for (int round = 0; round < 12; ++round) {
    pid_t pid = spawn_work(lib, dir / "work.log", {"--until-idle", "--threads", "2"});
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 200)(rng)));
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ++kills;
    } else {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
      break;
    }
  }
  EXPECT_GE(kills, 3);
  auto last = dr_lib(lib, {"work", "--until-idle"});
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(count(catalog, "SELECT count(*) FROM jobs WHERE state='done'"), photos);
  EXPECT_EQ(count(catalog, "SELECT count(*) FROM audit"), photos) << "a job was completed twice";
  EXPECT_EQ(count(catalog, "SELECT count(DISTINCT job_id) FROM audit"), photos);
  EXPECT_EQ(count(catalog, "SELECT count(*) FROM results WHERE task='pdq'"), photos);
}

TEST(LibraryCli, SigintStopsLeasingAndLeavesNoJobRunning) {
  TempDir dir;
  std::string lib = dir / "lib", catalog = lib + "/catalog.db";
  int photos = stage_many(dir, 10);
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq", dir / "many"}).exit_code, 0);
  pid_t pid = spawn_work(lib, dir / "work.log", {"--threads", "1"});  // no --until-idle: it would wait forever
  for (int i = 0; i < 1500 && count(catalog, "SELECT count(*) FROM jobs WHERE state='done'") < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
  EXPECT_EQ(count(catalog, "SELECT count(*) FROM jobs WHERE state='running'"), 0);
  EXPECT_GE(count(catalog, "SELECT count(*) FROM jobs WHERE state='done'"), 3);
  EXPECT_EQ(count(catalog, "SELECT count(*) FROM jobs WHERE state IN ('done','queued')"), photos);
}

TEST(LibraryCli, TwoWorkProcessesShareOneLibrary) {
  TempDir dir;
  std::string lib = dir / "lib", catalog = lib + "/catalog.db";
  int photos = stage_many(dir, 8);
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq", dir / "many"}).exit_code, 0);
  add_audit(catalog);
  pid_t a = spawn_work(lib, dir / "a.log", {"--until-idle", "--threads", "1"});
  pid_t b = spawn_work(lib, dir / "b.log", {"--until-idle", "--threads", "1"});
  int sa = 0, sb = 0;
  ::waitpid(a, &sa, 0);
  ::waitpid(b, &sb, 0);
  EXPECT_TRUE(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
  EXPECT_TRUE(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
  EXPECT_EQ(count(catalog, "SELECT count(*) FROM audit"), photos);
  EXPECT_EQ(count(catalog, "SELECT count(DISTINCT job_id) FROM audit"), photos);
  EXPECT_EQ(count(catalog, "SELECT max(attempts) FROM jobs"), 1);  // no job was leased twice
}

}  // namespace

namespace {

TEST(LibraryCli, AddWhileWorkRunsAndSigtermEndsIt) {
  TempDir dir;
  std::string lib = dir / "lib", catalog = lib + "/catalog.db";
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  pid_t pid = spawn_work(lib, dir / "work.log", {"--threads", "2"});  // waits for work
  int photos = stage_many(dir, 5);
  auto add = dr_lib(lib, {"add", "--tasks", "pdq", dir / "many"});
  EXPECT_EQ(add.exit_code, 0) << add.err;
  for (int i = 0; i < 1500 && count(catalog, "SELECT count(*) FROM jobs WHERE state='done'") < photos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(count(catalog, "SELECT count(*) FROM jobs WHERE state='done'"), photos);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
}

// A library of four sample photos and fruits.jpg as `odd_name`, with these settings, the pdq task queued.
std::string four_photos_and(const TempDir& dir, const std::string& odd_name, const std::string& settings) {
  const std::string lib = dir / "lib";
  fs::create_directories(dir / "photos");
  for (auto name : {"coffee.png", "camera.png", "astronaut.png", "chelsea.png"})
    fs::copy_file(dr::test::skimage_sample(name), dir / ("photos/" + std::string(name)));
  fs::copy_file(dr::test::opencv_sample("fruits.jpg"), dir / ("photos/" + odd_name));
  EXPECT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  dr::test::write_file(lib + "/settings.json", settings);
  EXPECT_EQ(dr_lib(lib, {"add", "--tasks", "pdq", dir / "photos"}).exit_code, 0);
  return lib;
}

}  // namespace

// A photo whose decoder crashes the worker process (the test build's DARKROOM_TEST_CRASH_ON): each crash is recorded
// by the dying process and counted by the next `work`; after max_attempts crashes the photo ends dead with that
// reason, and every other photo is done. Killed from outside instead, a worker's photos would not count it.
TEST(LibraryCli, APhotoThatCrashesItsWorkerEndsDeadAndTheOthersGoOn) {
  TempDir dir;
  const std::string lib = four_photos_and(dir, "crasher.jpg", R"({"queue": {"max_attempts": 3}})");
  int crashes = 0;
  for (int run = 0; run < 8; ++run) {
    auto w = dr_lib(lib, {"work", "--until-idle", "--threads", "2"}, {"DARKROOM_TEST_CRASH_ON=crasher"});
    if (w.ok()) break;
    ++crashes;  // a signal, or a sanitizer's report of it
  }
  EXPECT_EQ(crashes, 3);
  auto st = json_of(dr_lib(lib, {"--json", "status"}));
  EXPECT_EQ(st["jobs"]["done"], 4) << st;
  EXPECT_EQ(st["jobs"]["dead"], 1) << st;
  ASSERT_EQ(st["failures"].size(), 1u) << st;
  EXPECT_NE(st["failures"][0]["path"].get<std::string>().find("crasher.jpg"), std::string::npos);
  EXPECT_NE(st["failures"][0]["error"].get<std::string>().find("crashed while analysing this photo (3 times)"),
            std::string::npos)
      << st;
  // Only the crashing thread's photo counts the crash: a photo the other thread had in hand got its attempt back.
  EXPECT_EQ(count(lib + "/catalog.db", "SELECT max(attempts) FROM jobs WHERE state='done'"), 1);
}

// A photo whose analysis never returns (the test build's DARKROOM_TEST_HANG_ON): the watchdog abandons it at the
// time limit, fails its job with that reason, and a new thread goes on with the other photos; after max_attempts
// time-outs the job ends dead and `work --until-idle` returns, leaving the stuck threads behind (it ends with
// _Exit). Without the limit the run would never end (the test's timeout).
TEST(LibraryCli, APhotoThatHangsIsAbandonedAtTheTimeLimitAndEndsDead) {
  TempDir dir;
  const std::string lib = four_photos_and(
      dir, "hanger.jpg", R"({"queue": {"max_attempts": 2, "backoff_ms": 100, "job_time_limit_seconds": 1}})");
  auto w = dr_lib(lib, {"--json", "work", "--until-idle", "--threads", "1"}, {"DARKROOM_TEST_HANG_ON=hanger"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto summary = json_of(w);
  EXPECT_EQ(summary["timed_out"], 2) << summary;
  EXPECT_EQ(summary["done"], 4) << summary;
  EXPECT_NE(w.err.find("ran past the time limit"), std::string::npos) << w.err;
  auto st = json_of(dr_lib(lib, {"--json", "status"}));
  EXPECT_EQ(st["jobs"]["done"], 4) << st;
  EXPECT_EQ(st["jobs"]["dead"], 1) << st;
  EXPECT_EQ(st["jobs"]["running"], 0) << st;
  ASSERT_EQ(st["failures"].size(), 1u) << st;
  EXPECT_NE(st["failures"][0]["path"].get<std::string>().find("hanger.jpg"), std::string::npos);
  auto error = st["failures"][0]["error"].get<std::string>();
  EXPECT_NE(error.find("ran past the time limit (1 s a job"), std::string::npos) << error;
  EXPECT_NE(error.find("gave up after 2 attempts"), std::string::npos) << error;
}
