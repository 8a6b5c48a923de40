// A library on PostgreSQL, end to end with the built binary, on the throwaway server CTest starts (skipped without
// it): the same answers as on SQLite, `migrate` both ways, and many workers sharing the work: four processes with
// one killed mid-job, the server restarted in the middle of a run, a worker that cannot see the photos, and 64
// worker processes (each its own connection, as 64 machines would be) with a task that only waits.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vips/vips8>

#include "catalog/postgres.h"
#include "support/backends.h"
#include "support/cli.h"
#include "support/serve.h"

namespace fs = std::filesystem;
using dr::test::TempDir;
using nlohmann::json;

namespace {

using dr::test::dr_lib;

using dr::test::cli_json;

#define NEED_POSTGRES(url)                                                   \
  auto url##_opt = dr::test::postgres_database();                            \
  if (!url##_opt) GTEST_SKIP() << dr::test::backend_unavailable("postgres"); \
  const std::string url = *url##_opt

// Sets a shared library's settings (kept in its database) the way an administrator would, with SQL.
void set_settings(const std::string& url, const json& settings) {
  dr::catalog::pg::Conn c(url);
  dr::catalog::pg::Params p;
  c.exec("UPDATE darkroom_meta SET value=" + p.add(settings.dump()) + " WHERE key='settings'", p);
}

// n small distinct photos in dir.
void tiny_photos(const std::string& dir, int n) {
  ASSERT_EQ(VIPS_INIT("darkroom_tests"), 0);
  fs::create_directories(dir);
  std::mt19937 rng(7);
  for (int i = 0; i < n; ++i) {
    std::vector<uint8_t> px(24 * 24 * 3);
    for (auto& v : px) v = uint8_t(rng());
    vips::VImage::new_from_memory(px.data(), px.size(), 24, 24, 3, VIPS_FORMAT_UCHAR)
        .pngsave((dir + "/p" + std::to_string(i) + ".png").c_str());
  }
}

struct Interval {
  int64_t start, end;
  int pid;
};

// The wait task's log: content hash -> its runs.
std::map<std::string, std::vector<Interval>> runs(const std::string& log) {
  std::map<std::string, std::vector<Interval>> out;
  std::ifstream in(log);
  std::string hash;
  Interval i{};
  while (in >> hash >> i.start >> i.end >> i.pid) out[hash].push_back(i);
  return out;
}

// No photo was analysed by two workers at the same time.
void expect_never_twice_at_once(const std::map<std::string, std::vector<Interval>>& r) {
  for (const auto& [hash, v] : r)
    for (size_t a = 0; a < v.size(); ++a)
      for (size_t b = a + 1; b < v.size(); ++b)
        EXPECT_TRUE(v[a].end <= v[b].start || v[b].end <= v[a].start)
            << hash << " ran in " << v[a].pid << " and " << v[b].pid << " at once";
}

void expect_all_done(const std::string& lib, int64_t jobs) {
  auto s = cli_json(lib, {"status"});
  EXPECT_EQ(s["jobs"]["done"], jobs) << s;
  EXPECT_EQ(s["jobs"]["queued"], 0) << s;
  EXPECT_EQ(s["jobs"]["running"], 0) << s;
  EXPECT_EQ(s["jobs"]["failed"], 0) << s;
  EXPECT_EQ(s["jobs"]["dead"], 0) << s;
}

pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& log = {}) {
  return dr::test::spawn_darkroom(args, env, log);
}
using dr::test::wait_exit;

TEST(PostgresLibrary, AnswersAsTheSqliteLibraryDoes) {
  NEED_POSTGRES(url);
  TempDir dir;
  ASSERT_EQ(VIPS_INIT("darkroom_tests"), 0);
  std::string photos = dir / "photos";
  fs::create_directories(photos);
  for (auto f : {"astronaut.png", "camera.png", "chelsea.png", "coffee.png"})
    fs::copy_file(dr::test::skimage_sample(f), photos + "/" + f);
  vips::VImage::new_from_file(dr::test::skimage_sample("astronaut.png").c_str())
      .flip(VIPS_DIRECTION_HORIZONTAL)
      .pngsave((photos + "/astronaut_mirrored.png").c_str());
  fs::copy_file(dr::test::skimage_sample("camera.png"), photos + "/camera_copy.png");
  dr::test::write_file(photos + "/broken.jpg", "not a photo");
  std::string sqlite = dir / "lib";
  for (const auto& lib : {sqlite, url}) {
    ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0) << lib;
    ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq,faces,objects,thumbs", photos}).exit_code, 0);
    auto w = dr_lib(lib, {"work", "--until-idle", "--threads", "2"});
    ASSERT_EQ(w.exit_code, 0) << w.err;
  }
  auto a = cli_json(sqlite, {"status"}), b = cli_json(url, {"status"});
  a.erase("library");
  b.erase("library");
  for (auto* s : {&a, &b}) {
    for (auto& f : (*s)["failures"]) f.erase("photo_id");  // ids are each catalog's own
    // Newest first: failures of the same moment may come in either order.
    std::sort((*s)["failures"].begin(), (*s)["failures"].end(),
              [](const json& x, const json& y) { return x["task"] < y["task"]; });
  }
  EXPECT_EQ(a, b);
  auto paths = [](json groups) {
    std::vector<std::vector<std::string>> out;
    for (const auto& g : groups["groups"]) out.push_back(g["photos"]);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(paths(cli_json(sqlite, {"dupes"})), paths(cli_json(url, {"dupes"})));
  auto people = [](json p) {
    std::vector<std::pair<int64_t, std::string>> out;
    for (const auto& x : p["people"]) out.emplace_back(x["faces"], x["photo"]);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(people(cli_json(sqlite, {"people"})), people(cli_json(url, {"people"})));
  auto first = [&](const std::string& lib, const std::string& q) {
    auto r = cli_json(lib, {"search", q});
    return r["results"].empty() ? std::string() : r["results"][0]["path"].get<std::string>();
  };
  for (auto q : {"cat", "camera_copy", "2022", "mugs"}) EXPECT_EQ(first(sqlite, q), first(url, q)) << q;
  EXPECT_EQ(first(url, "cat"), photos + "/chelsea.png");
  // Names are found by search on both.
  auto pg_people = cli_json(url, {"people"});
  ASSERT_FALSE(pg_people["people"].empty());
  std::string id = std::to_string(pg_people["people"][0]["id"].get<int64_t>());
  ASSERT_EQ(dr_lib(url, {"people", "name", id, "Grace Hopper"}).exit_code, 0);
  EXPECT_FALSE(cli_json(url, {"search", "hopper"})["results"].empty());
  // show: the same photo's facts and results.
  auto sa = cli_json(sqlite, {"show", photos + "/chelsea.png"}), sb = cli_json(url, {"show", photos + "/chelsea.png"});
  for (auto* s : {&sa, &sb}) s->erase("id");
  EXPECT_EQ(sa["objects"], sb["objects"]);
  EXPECT_EQ(sa["pdq"], sb["pdq"]);
  EXPECT_EQ(sa["tasks"], sb["tasks"]);
  // check runs the catalog's rules on both; a backup of a database is pg_dump's.
  for (const auto& lib : {sqlite, url}) {
    auto check = dr_lib(lib, {"check"});
    EXPECT_EQ(check.exit_code, 0) << lib << check.out << check.err;
  }
  auto backup = dr_lib(url, {"backup", dir / "copy"});
  EXPECT_EQ(backup.exit_code, 2);
  EXPECT_NE(backup.err.find("pg_dump"), std::string::npos) << backup.err;
  // And the server over it.
  dr::test::ServeProcess server(url, {"--no-work"});
  ASSERT_TRUE(server.started()) << server.err();
  auto st = dr::test::http_get(server.port(), "/api/status");
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_EQ(st.json()["photos"], 6);  // camera_copy.png is camera.png: one photo at two paths
  auto s = dr::test::http_get(server.port(), "/api/search?q=hopper").json();
  EXPECT_FALSE(s["results"].empty()) << s;
}

TEST(PostgresLibrary, MigrateCopiesEverythingBothWays) {
  NEED_POSTGRES(url);
  TempDir dir;
  ASSERT_EQ(VIPS_INIT("darkroom_tests"), 0);
  std::string photos = dir / "photos";
  fs::create_directories(photos);
  fs::copy_file(dr::test::skimage_sample("astronaut.png"), photos + "/astronaut.png");
  fs::copy_file(dr::test::skimage_sample("camera.png"), photos + "/camera.png");
  vips::VImage::new_from_file(dr::test::skimage_sample("astronaut.png").c_str())
      .flip(VIPS_DIRECTION_HORIZONTAL)
      .pngsave((photos + "/astronaut_mirrored.png").c_str());
  vips::VImage::new_from_file(dr::test::skimage_sample("camera.png").c_str())
      .resize(0.8)
      .pngsave((photos + "/camera_small.png").c_str());
  dr::test::write_file(photos + "/broken.jpg", "not a photo");
  std::string a = dir / "a", b = dir / "b";
  ASSERT_EQ(dr_lib(a, {"init"}).exit_code, 0);
  ASSERT_EQ(dr_lib(a, {"add", "--tasks", "pdq,faces", photos}).exit_code, 0);
  ASSERT_EQ(dr_lib(a, {"work", "--until-idle"}).exit_code, 0);
  auto people = cli_json(a, {"people"});
  ASSERT_EQ(people["people"].size(), 2u) << people;
  std::string p1 = std::to_string(people["people"][0]["id"].get<int64_t>());
  std::string p2 = std::to_string(people["people"][1]["id"].get<int64_t>());
  ASSERT_EQ(dr_lib(a, {"people", "name", p1, "Ada"}).exit_code, 0);
  auto f = std::to_string(people["people"][1]["face_ids"][0].get<int64_t>());
  ASSERT_EQ(dr_lib(a, {"people", "reject", f, "--from", p2}).exit_code, 0);
  ASSERT_EQ(dr_lib(a, {"dupes", "dismiss", photos + "/camera.png", photos + "/camera_small.png"}).exit_code, 0);
  ASSERT_EQ(dr_lib(a, {"token", "create"}).exit_code, 0);
  auto there = cli_json(a, {"migrate", a, url});
  EXPECT_TRUE(there["ok"].get<bool>()) << there;
  auto back = cli_json(a, {"migrate", url, b});
  EXPECT_TRUE(back["ok"].get<bool>()) << back;
  EXPECT_EQ(there["counts"], back["copied"]);
  // What the user decided holds in the copies.
  for (const auto& lib : {url, b}) {
    EXPECT_EQ(cli_json(lib, {"search", "ada"})["results"].size(), 2u) << lib;
    auto d = cli_json(lib, {"dupes"});
    for (const auto& g : d["groups"]) EXPECT_NE(g["photos"][0], photos + "/camera.png") << d;
    auto s = cli_json(lib, {"status"});
    EXPECT_EQ(s["jobs"]["failed"], 2) << s;  // broken.jpg's two jobs, with their reasons
    EXPECT_EQ(cli_json(lib, {"token", "list"})["tokens"].size(), 1u);
  }
  // Into a library that holds photos: refused.
  auto again = dr_lib(a, {"migrate", a, b});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already holds photos"), std::string::npos) << again.err;
}

// Many workers on one shared library: the wait task stands for analysis, tiny photos keep decoding cheap.
struct SharedWork : ::testing::Test {
  TempDir dir;
  std::string url, photos, log;
  void make(int n, int lease_seconds = 60) {
    auto u = dr::test::postgres_database();
    if (!u) GTEST_SKIP() << dr::test::backend_unavailable("postgres");
    url = *u;
    photos = dir / "photos";
    tiny_photos(photos, n);
    log = dir / "wait.log";
    ASSERT_EQ(dr_lib(url, {"init"}).exit_code, 0);
    json settings = {{"queue", {{"lease_seconds", lease_seconds}, {"max_attempts", 5}}}, {"analyzers", json::object()}};
    set_settings(url, settings);
    auto add = dr_lib(url, {"add", "--tasks", "wait", photos});
    ASSERT_EQ(add.exit_code, 0) << add.err;
  }
  std::vector<std::string> env(int wait_ms) {
    return {"DARKROOM_TEST_WAIT_LOG=" + log, "DARKROOM_TEST_WAIT_MS=" + std::to_string(wait_ms)};
  }
  std::vector<std::string> work(int threads = 1) {
    return {"--library", url, "--threads", std::to_string(threads), "-q", "work", "--until-idle"};
  }
};

TEST_F(SharedWork, FourWorkersOneKilledMidJobEveryJobDoneOnce) {
  make(60, 2);
  if (IsSkipped()) return;
  std::vector<pid_t> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(spawn(work(), env(150)));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ::kill(workers[0], SIGKILL);  // mid-job: it holds a lease that only its expiry frees
  EXPECT_EQ(wait_exit(workers[0]), 128 + SIGKILL);
  for (size_t i = 1; i < workers.size(); ++i) EXPECT_EQ(wait_exit(workers[i]), 0);
  expect_all_done(url, 60);
  auto r = runs(log);
  EXPECT_EQ(r.size(), 60u);
  expect_never_twice_at_once(r);
  // The killed worker's photo was taken over after its lease ended.
  auto jobs_taken_twice = 0;
  for (const auto& [hash, v] : r) jobs_taken_twice += v.size() > 1;
  EXPECT_LE(jobs_taken_twice, 1);
}

TEST_F(SharedWork, AServerRestartInTheMiddleOfARunLosesNothing) {
  make(40);
  if (IsSkipped()) return;
  pid_t w = spawn(work(2), env(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  std::string pgdata = std::string(DARKROOM_TEST_PG_DIR) + "/data";
  std::string as = ::getuid() == 0 ? "runuser -u postgres -- " : "";
  int rc =
      std::system((as + "/usr/lib/postgresql/15/bin/pg_ctl -D " + pgdata + " -m fast -w restart >/dev/null").c_str());
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(wait_exit(w), 0);
  expect_all_done(url, 40);
  expect_never_twice_at_once(runs(log));
}

TEST_F(SharedWork, AWorkerThatCannotSeeThePhotosLeavesThemToOthers) {
  make(12);
  if (IsSkipped()) return;
  // This "machine" mounts the photos elsewhere, and that folder is not there: it leaves every photo for later and
  // for others, failing none, and ends (--until-idle) once another worker has done them.
  std::string err = dir / "blind.err";
  auto args = work();
  args.insert(args.end(), {"--path-map", photos + "=/nonexistent/share/photos"});
  pid_t blind = spawn(args, env(10), err);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto s = cli_json(url, {"status"});
  EXPECT_EQ(s["jobs"]["failed"], 0) << s;
  EXPECT_EQ(s["jobs"]["done"], 0) << s;
  auto sees = dr_lib(url, {"work", "--until-idle", "--tasks", "wait"}, env(10));
  EXPECT_EQ(sees.exit_code, 0) << sees.err;
  expect_all_done(url, 12);
  EXPECT_EQ(wait_exit(blind), 0);
  std::ifstream in(err);
  std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(said.find("cannot see /nonexistent/share/photos"), std::string::npos) << said;
}

TEST_F(SharedWork, SixtyFourWorkerProcessesShareTheQueue) {
#if defined(__SANITIZE_ADDRESS__)
  const int procs = 16;  // each sanitized process needs several times the memory
#else
  const int procs = 64;
#endif
  make(320);
  if (IsSkipped()) return;
  std::vector<pid_t> workers;
  for (int i = 0; i < procs; ++i) workers.push_back(spawn(work(), env(40)));
  for (auto p : workers) EXPECT_EQ(wait_exit(p), 0);
  expect_all_done(url, 320);
  auto r = runs(log);
  EXPECT_EQ(r.size(), 320u);
  size_t total = 0;
  std::set<int> pids;
  for (const auto& [hash, v] : r) {
    total += v.size();
    for (const auto& i : v) pids.insert(i.pid);
  }
  EXPECT_EQ(total, 320u);  // each photo analysed once: no job leased twice, none lost
  expect_never_twice_at_once(r);
  EXPECT_GT(pids.size(), size_t(procs / 4));  // the work was shared
}

}  // namespace
