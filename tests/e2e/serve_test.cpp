// `darkroom serve` end to end: a real server on a loopback port over a library built from real photos (pdq, thumbs,
// objects and faces), every API call and its errors, the same answers as the CLI's --json, thumbnails (size,
// orientation, 304), originals, traversal attempts, authentication, the event stream while photos are analysed,
// and a flood of bad requests.
#include "support/serve.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vips/vips8>

#include "support/cli.h"

namespace fs = std::filesystem;
using dr::test::http;
using dr::test::http_get;
using dr::test::http_post;
using dr::test::ServeProcess;
using dr::test::TempDir;
using nlohmann::json;

namespace {

using dr::test::dr_lib;

using dr::test::cli_json;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The library every test here reads: built once, with a server over it. Tests that change it use their own.
class Serve : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ASSERT_EQ(VIPS_INIT("darkroom_tests"), 0);
    std::string photos = *dir_ / "photos";
    fs::create_directories(photos + "/bridge");
    for (const auto& f : fs::directory_iterator(dr::test::shared_dir() + "/testdata/pdq/reg-test-input/dih"))
      fs::copy_file(f.path(), photos + "/bridge/" + f.path().filename().string());
    fs::copy_file(dr::test::shared_dir() + "/testdata/pdq/reg-test-input/exif-rotn/exif-rotn-6.jpg",
                  photos + "/rotated.jpg");
    fs::copy_file(dr::test::skimage_sample("chelsea.png"), photos + "/chelsea.png");
    fs::copy_file(dr::test::skimage_sample("coffee.png"), photos + "/coffee.png");
    fs::copy_file(dr::test::skimage_sample("astronaut.png"), photos + "/astronaut.png");
    fs::copy_file(dr::test::skimage_sample("camera.png"), photos + "/camera.png");
    vips::VImage::new_from_file(dr::test::skimage_sample("astronaut.png").c_str())
        .flip(VIPS_DIRECTION_HORIZONTAL)
        .pngsave((photos + "/astronaut_mirrored.png").c_str());
    vips::VImage::new_from_file(dr::test::skimage_sample("camera.png").c_str())
        .resize(0.8)
        .pngsave((photos + "/camera_small.png").c_str());
    dr::test::write_file(photos + "/broken.jpg", std::string("\xff\xd8\xff\xe0 not really a JPEG"));
    // A folder outside the photos, reached by a symlink inside them: never added through the API.
    fs::create_directories(*dir_ / "outside");
    fs::copy_file(dr::test::skimage_sample("coffee.png"), *dir_ / "outside/secret.png");
    lib_ = *dir_ / "lib";
    ASSERT_EQ(dr_lib(lib_, {"init"}).exit_code, 0);
    auto add = dr_lib(lib_, {"add", "--tasks", "pdq,thumbs,objects,faces", photos});
    ASSERT_EQ(add.exit_code, 0) << add.err;
    auto work = dr_lib(lib_, {"work", "--until-idle", "--threads", "2"});
    ASSERT_EQ(work.exit_code, 0) << work.err;
    fs::create_symlink(*dir_ / "outside", photos + "/link-out");
    server_ = new ServeProcess(lib_, {"--no-work", "--root", photos});
    ASSERT_TRUE(server_->started()) << server_->err();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static int port() { return server_->port(); }
  static std::string photos() { return *dir_ / "photos"; }
  static json photo_named(const std::string& name) {
    auto list = http_get(port(), "/api/photos?limit=1000").json();
    for (const auto& p : list["photos"])
      if (fs::path(p["path"].get<std::string>()).filename() == name) return p;
    ADD_FAILURE() << "no photo " << name << " in " << list;
    return json();
  }

  static TempDir* dir_;
  static std::string lib_;
  static ServeProcess* server_;
};
TempDir* Serve::dir_ = nullptr;
std::string Serve::lib_;
ServeProcess* Serve::server_ = nullptr;

TEST_F(Serve, StatusShowSearchAndPeopleAreTheCliAnswers) {
  EXPECT_EQ(http_get(port(), "/api/status").json(), cli_json(lib_, {"status"}));
  auto chelsea = photo_named("chelsea.png");
  std::string id = std::to_string(chelsea["id"].get<int64_t>());
  EXPECT_EQ(http_get(port(), "/api/photos/" + id).json(), cli_json(lib_, {"show", id}));
  EXPECT_EQ(http_get(port(), "/api/search?q=cat").json(), cli_json(lib_, {"search", "cat"}));
  EXPECT_EQ(http_get(port(), "/api/dupes").json(), cli_json(lib_, {"dupes"}));
  EXPECT_EQ(http_get(port(), "/api/people").json(), cli_json(lib_, {"people"}));
}

TEST_F(Serve, ThePhotoListPagesThroughEveryPhotoNewestFirst) {
  auto all = http_get(port(), "/api/photos?limit=1000").json();
  // Every photo with a path: 8 bridges, rotated, chelsea, coffee, 2 astronauts, 2 cameras, broken.
  ASSERT_EQ(all["photos"].size(), 16u) << all;
  EXPECT_TRUE(all["next"].is_null());
  std::vector<int64_t> paged;
  std::string cursor;
  for (int pages = 0; pages < 20; ++pages) {
    auto page = http_get(port(), "/api/photos?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(page.status, 200) << page.body;
    auto j = page.json();
    EXPECT_LE(j["photos"].size(), 3u);
    for (const auto& p : j["photos"]) paged.push_back(p["id"]);
    if (j["next"].is_null()) break;
    cursor = j["next"];
  }
  std::vector<int64_t> expected;
  for (const auto& p : all["photos"]) expected.push_back(p["id"]);
  EXPECT_EQ(paged, expected);
  for (size_t i = 1; i < all["photos"].size(); ++i)
    EXPECT_GE(all["photos"][i - 1]["date"].get<std::string>(), all["photos"][i]["date"].get<std::string>());
}

TEST_F(Serve, ThePhotoListFilters) {
  auto names = [&](const std::string& q) {
    std::set<std::string> out;
    auto r = http_get(port(), "/api/photos?" + q);
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    auto j = r.json();
    for (const auto& p : j["photos"]) out.insert(fs::path(p["path"].get<std::string>()).filename());
    return out;
  };
  EXPECT_TRUE(names("label=cat").count("chelsea.png"));
  EXPECT_FALSE(names("label=cat").count("coffee.png"));
  auto faces = names("has=faces");
  EXPECT_TRUE(faces.count("astronaut.png") && faces.count("camera.png"));
  EXPECT_FALSE(faces.count("coffee.png"));
  EXPECT_EQ(names("task=pdq&state=failed"), std::set<std::string>{"broken.jpg"});
  EXPECT_EQ(names("state=failed").count("broken.jpg"), 1u);
  // The phone photo was taken in 2019 (EXIF); the others carry no date before this year.
  auto exif = photo_named("rotated.jpg");
  ASSERT_TRUE(exif["taken"].get<bool>()) << exif;
  std::string year = exif["date"].get<std::string>().substr(0, 4);
  EXPECT_TRUE(names("from=" + year + "&to=" + year).count("rotated.jpg"));
  EXPECT_FALSE(names("to=1990").count("rotated.jpg"));
  auto people = http_get(port(), "/api/people").json();
  ASSERT_FALSE(people["people"].empty()) << people;
  auto someone = names("person=" + std::to_string(people["people"][0]["id"].get<int64_t>()));
  EXPECT_EQ(someone.size(), 2u);
}

TEST_F(Serve, BadParametersAre400AndUnknownIds404) {
  for (const char* q :
       {"/api/photos?limit=0", "/api/photos?limit=abc", "/api/photos?state=bogus", "/api/photos?task=nope",
        "/api/photos?cursor=junk", "/api/photos?has=wings", "/api/photos?from=yesterday", "/api/photos?person=-3",
        "/api/search", "/api/search?q=%20", "/api/dupes?distance=999", "/api/search?q=cat&limit=-1"}) {
    auto r = http_get(port(), q);
    EXPECT_EQ(r.status, 400) << q << ": " << r.body;
    EXPECT_TRUE(r.json().contains("error")) << q;
  }
  for (const char* q :
       {"/api/photos/abc", "/api/photos/0", "/api/photos/999999", "/api/photos/99999/original", "/api/people/424242",
        "/api/people/x", "/api/faces/777777/thumb", "/api/nothing", "/api/photos/1/nothing", "/favicon.ico"}) {
    auto r = http_get(port(), q);
    EXPECT_EQ(r.status, 404) << q << ": " << r.body;
  }
  EXPECT_EQ(http(port(), "DELETE", "/api/status").status, 405);
  EXPECT_EQ(http_get(port(), "/api/people/recluster").status, 405);
  // Bodies: not JSON, not an object, wrong types.
  EXPECT_EQ(http(port(), "POST", "/api/retry", {}, "{not json").status, 400);
  EXPECT_EQ(http(port(), "POST", "/api/retry", {}, "[1,2]").status, 400);
  EXPECT_EQ(http_post(port(), "/api/retry", {{"photos", "all"}}).status, 400);
  EXPECT_EQ(http_post(port(), "/api/people/1/merge", {{"from", "x"}}).status, 400);
  EXPECT_EQ(http(port(), "POST", "/api/retry", {{"Content-Type", "text/plain"}}, "{}").status, 415);
  // A similar-photos question without CLIP embeddings is a conflict, not a crash.
  EXPECT_EQ(
      http_get(port(), "/api/photos/" + std::to_string(photo_named("coffee.png")["id"].get<int64_t>()) + "/similar")
          .status,
      409);
}

TEST_F(Serve, ThumbnailsAreWebpOfTheRightSizeOrientedAndCached) {
  auto rotated = photo_named("rotated.jpg");
  // exif-rotn-6 is stored 4032x3024 with orientation 6: displayed 3024 wide, 4032 high.
  EXPECT_EQ(rotated["width"], 3024);
  EXPECT_EQ(rotated["height"], 4032);
  std::string hash = rotated["content_hash"];
  auto grid = http_get(port(), "/api/thumbs/" + hash + "/grid");
  ASSERT_EQ(grid.status, 200) << grid.body;
  EXPECT_EQ(grid.header("content-type"), "image/webp");
  EXPECT_NE(grid.header("cache-control").find("immutable"), std::string::npos);
  auto g = vips::VImage::new_from_buffer(grid.body.data(), grid.body.size(), "");
  EXPECT_EQ(g.width(), 250);  // the shorter side
  EXPECT_EQ(g.height(), 333);
  auto preview = http_get(port(), "/api/thumbs/" + hash + "/preview");
  ASSERT_EQ(preview.status, 200);
  auto p = vips::VImage::new_from_buffer(preview.body.data(), preview.body.size(), "");
  EXPECT_EQ(p.width(), 1080);
  EXPECT_EQ(p.height(), 1440);
  // The EXIF orientation is applied: the preview matches the photo decoded upright (its top band is the sky of
  // the displayed photo), not as stored.
  auto upright =
      vips::VImage::thumbnail((photos() + "/rotated.jpg").c_str(), 1080, vips::VImage::option()->set("height", 1440));
  double diff = (p.cast(VIPS_FORMAT_FLOAT) - upright.cast(VIPS_FORMAT_FLOAT)).abs().avg();
  EXPECT_LT(diff, 12.0);
  auto etag = grid.header("etag");
  ASSERT_FALSE(etag.empty());
  auto again = http_get(port(), "/api/thumbs/" + hash + "/grid", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  // Names that are not a content hash and a size reach no file.
  for (const std::string& t :
       std::vector<std::string>{"/api/thumbs/" + hash + "/original", "/api/thumbs/..%2f..%2fcatalog.db/grid",
                                "/api/thumbs/" + hash.substr(0, 63) + "G/grid", "/api/thumbs/%2fetc%2fpasswd/grid",
                                "/api/thumbs/" + std::string(64, '0') + "/grid"})
    EXPECT_EQ(http_get(port(), t).status, 404) << t;
}

TEST_F(Serve, OriginalsAndFaceCropsAreServedById) {
  auto coffee = photo_named("coffee.png");
  auto r = http_get(port(), "/api/photos/" + std::to_string(coffee["id"].get<int64_t>()) + "/original");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "image/png");
  EXPECT_EQ(r.body, slurp(photos() + "/coffee.png"));
  EXPECT_EQ(r.header("etag"), "\"" + coffee["content_hash"].get<std::string>() + "\"");
  auto people = http_get(port(), "/api/people").json();
  ASSERT_FALSE(people["people"].empty());
  auto face = http_get(port(), "/api/faces/" + std::to_string(people["people"][0]["face"].get<int64_t>()) + "/thumb");
  ASSERT_EQ(face.status, 200) << face.body;
  auto crop = vips::VImage::new_from_buffer(face.body.data(), face.body.size(), "");
  EXPECT_EQ(crop.width(), 160);
  EXPECT_EQ(crop.height(), 160);
}

TEST_F(Serve, SearchRanksLabelsBySureAndBigDetections) {
  auto r = http_get(port(), "/api/search?q=cat").json();
  ASSERT_FALSE(r["results"].empty()) << r;
  EXPECT_EQ(fs::path(r["results"][0]["path"].get<std::string>()).filename(), "chelsea.png") << r;
  auto persons = http_get(port(), "/api/search?q=person").json()["results"];
  ASSERT_GE(persons.size(), 2u) << persons;
  // Scores fall: sure, big detections first, not all equal as before.
  for (size_t i = 1; i < persons.size(); ++i)
    EXPECT_GE(persons[i - 1]["score"].get<double>(), persons[i]["score"].get<double>());
  EXPECT_GT(persons.front()["score"].get<double>(), persons.back()["score"].get<double>()) << persons;
}

TEST_F(Serve, ChangesNeedPostAndTheCustomHeaderFromThisOrigin) {
  auto r = http(port(), "POST", "/api/retry", {{"X-Darkroom", ""}}, "{}");
  EXPECT_EQ(r.status, 403);
  r = http(port(), "POST", "/api/retry", {{"Origin", "http://evil.example"}}, "{}");
  EXPECT_EQ(r.status, 403);
  // The same call from this server's own origin (on a photo without failures: nothing changes).
  std::string body = json({{"photos", {photo_named("coffee.png")["id"]}}}).dump();
  r = http(port(), "POST", "/api/retry", {{"Origin", "http://127.0.0.1:" + std::to_string(port())}}, body);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["queued"], 0);
  // DNS rebinding: a page at another name that resolves here.
  EXPECT_EQ(http_get(port(), "/api/status", {{"Host", "rebind.example:" + std::to_string(port())}}).status, 421);
  EXPECT_EQ(http_get(port(), "/", {{"Host", "rebind.example"}}).status, 421);
  EXPECT_EQ(http_get(port(), "/api/status", {{"Host", "localhost:" + std::to_string(port())}}).status, 200);
}

TEST_F(Serve, AddingPhotosStaysInsideTheRoots) {
  // The page names the folders it may add from: the roots, symlinks resolved.
  auto roots = http_get(port(), "/api/roots");
  ASSERT_EQ(roots.status, 200) << roots.body;
  EXPECT_EQ(roots.json(), json({{"roots", {fs::canonical(photos()).string()}}}));
  // Outside the roots, by an absolute path, by .., or through a symlink: refused before anything is read.
  for (const std::string& p :
       {std::string("/etc"), std::string(*dir_ / "outside"), photos() + "/../outside", photos() + "/link-out",
        photos() + "/link-out/secret.png", std::string("relative/path")}) {
    auto r = http_post(port(), "/api/photos", {{"path", p}});
    EXPECT_TRUE(r.status == 403 || r.status == 400) << p << ": " << r.status << " " << r.body;
  }
  // Inside: the folder is scanned again; the symlink out of it is skipped and named.
  auto r = http_post(port(), "/api/photos", {{"path", photos()}, {"tasks", "pdq"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  EXPECT_EQ(j["added"], 0) << j;
  bool named = false;
  for (const auto& p : j["problems"]) named = named || p.get<std::string>().find("link-out") != std::string::npos;
  EXPECT_TRUE(named) << j;
  auto status = cli_json(lib_, {"status"});
  EXPECT_EQ(status["photos"], 16) << status;
}

TEST_F(Serve, AFloodOfBadRequestsLeavesTheServerAnswering) {
  const std::vector<std::string> bad = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
      "GET /api/status HTTP/9.9\r\n\r\n",
      std::string(100000, 'A'),
      "GET /" + std::string(20000, 'x') + " HTTP/1.1\r\n\r\n",
      "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + std::string(40000, 'y') + "\r\n\r\n",
      "POST /api/retry HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Darkroom: 1\r\nContent-Length: 5000000\r\n\r\n{}",
      "GET /api/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      "GET /api/photos/%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
      "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // a TLS hello
  };
  for (int round = 0; round < 20; ++round)
    for (const auto& b : bad) {
      auto reply = dr::test::parse_reply(dr::test::raw_exchange(port(), b, 3000));
      if (reply.status) {
        EXPECT_TRUE(reply.status >= 400 && reply.status < 500) << reply.status << " for " << b.substr(0, 60);
      }
    }
  EXPECT_EQ(dr::test::parse_reply(dr::test::raw_exchange(port(), bad[4], 3000)).status, 431);
  EXPECT_EQ(dr::test::parse_reply(dr::test::raw_exchange(port(), bad[5], 3000)).status, 431);
  EXPECT_EQ(dr::test::parse_reply(dr::test::raw_exchange(port(), bad[6], 3000)).status, 413);
  // Slow clients that never finish their headers hold no thread: many at once, and the server still answers.
  std::vector<std::thread> slow;
  for (int i = 0; i < 40; ++i)
    slow.emplace_back([] { dr::test::raw_exchange(port(), "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n", 1500); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto t0 = std::chrono::steady_clock::now();
  auto ok = http_get(port(), "/api/status");
  EXPECT_EQ(ok.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  for (auto& t : slow) t.join();
  EXPECT_EQ(http_get(port(), "/api/status").status, 200);
}

TEST_F(Serve, ThePageIsServedWithAStrictPolicy) {
  auto r = http_get(port(), "/");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(r.header("content-security-policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(http_get(port(), "/", {{"If-None-Match", r.header("etag")}}).status, 304);
}

// Decisions change the library: each test of them has its own.
class ServeOwnLibrary : public ::testing::Test {
 protected:
  void build(const std::string& tasks, bool work) {
    ASSERT_EQ(VIPS_INIT("darkroom_tests"), 0);
    photos_ = dir_ / "photos";
    fs::create_directories(photos_);
    fs::copy_file(dr::test::skimage_sample("astronaut.png"), photos_ + "/astronaut.png");
    fs::copy_file(dr::test::skimage_sample("camera.png"), photos_ + "/camera.png");
    vips::VImage::new_from_file(dr::test::skimage_sample("astronaut.png").c_str())
        .flip(VIPS_DIRECTION_HORIZONTAL)
        .pngsave((photos_ + "/astronaut_mirrored.png").c_str());
    vips::VImage::new_from_file(dr::test::skimage_sample("camera.png").c_str())
        .resize(0.8)
        .pngsave((photos_ + "/camera_small.png").c_str());
    for (const auto& f : fs::directory_iterator(dr::test::shared_dir() + "/testdata/pdq/reg-test-input/dih"))
      fs::copy_file(f.path(), photos_ + "/" + f.path().filename().string());
    lib_ = dir_ / "lib";
    ASSERT_EQ(dr_lib(lib_, {"init"}).exit_code, 0);
    ASSERT_EQ(dr_lib(lib_, {"add", "--tasks", tasks, photos_}).exit_code, 0);
    if (work) {
      ASSERT_EQ(dr_lib(lib_, {"work", "--until-idle", "--threads", "2"}).exit_code, 0);
    }
  }
  TempDir dir_;
  std::string lib_, photos_;
};

TEST_F(ServeOwnLibrary, PeopleAreNamedMergedMovedAndRejectedThroughTheApi) {
  build("faces,thumbs", true);
  ServeProcess server(lib_, {"--no-work"});
  ASSERT_TRUE(server.started()) << server.err();
  int port = server.port();
  auto people = http_get(port, "/api/people").json();
  ASSERT_EQ(people["people"].size(), 2u) << people;
  int64_t a = people["people"][0]["id"], b = people["people"][1]["id"];
  auto named = http_post(port, "/api/people/" + std::to_string(a) + "/name", {{"name", "Ada Lovelace"}});
  ASSERT_EQ(named.status, 200) << named.body;
  EXPECT_EQ(named.json(), json({{"id", a}, {"name", "Ada Lovelace"}}));
  // The name is found by search, by the CLI too.
  auto found = http_get(port, "/api/search?q=lovelace").json()["results"];
  EXPECT_EQ(found.size(), 2u) << found;
  EXPECT_EQ(cli_json(lib_, {"search", "lovelace"})["results"].size(), 2u);
  EXPECT_EQ(http_post(port, "/api/people/" + std::to_string(a) + "/name", {{"name", "  "}}).status, 400);
  // One person's page.
  auto detail = http_get(port, "/api/people/" + std::to_string(a)).json();
  ASSERT_EQ(detail["faces"].size(), 2u) << detail;
  int64_t face = detail["faces"][0]["face"];
  // "Not this person", then moved back by hand.
  auto rej = http_post(port, "/api/faces/" + std::to_string(face) + "/reject", {{"from", a}});
  ASSERT_EQ(rej.status, 200) << rej.body;
  EXPECT_EQ(http_get(port, "/api/people/" + std::to_string(a)).json()["faces"].size(), 1u);
  auto mv = http_post(port, "/api/faces/" + std::to_string(face) + "/move", {{"to", b}});
  ASSERT_EQ(mv.status, 200) << mv.body;
  EXPECT_EQ(http_get(port, "/api/people/" + std::to_string(b)).json()["faces"].size(), 3u);
  EXPECT_EQ(http_post(port, "/api/faces/" + std::to_string(face) + "/move", {{"to", 999999}}).status, 404);
  // Merging leaves one.
  auto merged = http_post(port, "/api/people/" + std::to_string(a) + "/merge", {{"from", b}});
  ASSERT_EQ(merged.status, 200) << merged.body;
  EXPECT_EQ(merged.json()["faces"], 4);
  EXPECT_EQ(http_post(port, "/api/people/" + std::to_string(a) + "/merge", {{"from", a}}).status, 400);
  auto after = http_get(port, "/api/people").json();
  EXPECT_EQ(after["people"].size(), 1u) << after;
  EXPECT_EQ(after, cli_json(lib_, {"people"}));
  // A recluster keeps the user's decisions.
  auto re = http(port, "POST", "/api/people/recluster");
  ASSERT_EQ(re.status, 200) << re.body;
  EXPECT_EQ(re.json()["people"].size(), 1u);
  // Every change kept the catalog's rules (a face's person exists, ...).
  auto check = dr_lib(lib_, {"--json", "check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(ServeOwnLibrary, DuplicatesCanBeDismissed) {
  build("pdq", true);
  ServeProcess server(lib_, {"--no-work"});
  ASSERT_TRUE(server.started()) << server.err();
  auto dupes = http_get(server.port(), "/api/dupes").json();
  // The bridge's eight turned and mirrored copies; the astronaut and its mirror; the camera and its smaller copy.
  ASSERT_EQ(dupes["groups"].size(), 3u) << dupes;
  json group;
  for (const auto& g : dupes["groups"])
    if (g["members"].size() == 8) group = g;
  ASSERT_TRUE(group.is_object()) << dupes;
  for (const auto& m : group["members"]) EXPECT_LE(m["distance"].get<int>(), group["max_distance"].get<int>());
  EXPECT_EQ(http_post(server.port(), "/api/dupes/dismiss", {{"key", "1"}}).status, 400);
  EXPECT_EQ(http_post(server.port(), "/api/dupes/dismiss", {{"photos", {1, 999999}}}).status, 404);
  auto d = http_post(server.port(), "/api/dupes/dismiss", {{"key", group["key"]}});
  ASSERT_EQ(d.status, 200) << d.body;
  auto after = http_get(server.port(), "/api/dupes").json();
  EXPECT_EQ(after["groups"].size(), 2u) << after;
  for (const auto& g : after["groups"]) EXPECT_EQ(g["members"].size(), 2u) << after;
  EXPECT_EQ(cli_json(lib_, {"dupes"}), after);
}

TEST_F(ServeOwnLibrary, TheEventStreamShowsPhotosBeingAnalysed) {
  build("pdq,thumbs", false);
  // The stream reads the catalog: it shows a worker elsewhere (`darkroom work`) analysing the queued photos.
  ServeProcess server(lib_, {"--no-work"});
  ASSERT_TRUE(server.started()) << server.err();
  std::string stream;
  std::thread listen([&] {
    // Until the stream has shown the queue empty (or a minute, for a loaded machine).
    stream = dr::test::raw_exchange(
        server.port(), "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n\r\n",
        60000, [](const std::string& s) { return s.find("\"pending_photos\":0") != std::string::npos; });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto work = dr_lib(lib_, {"work", "--until-idle", "--threads", "1"});
  listen.join();
  ASSERT_EQ(work.exit_code, 0) << work.err;
  EXPECT_NE(stream.find("text/event-stream"), std::string::npos) << stream.substr(0, 300);
  EXPECT_NE(stream.find("event: progress"), std::string::npos);
  EXPECT_NE(stream.find("\"state\":\"done\""), std::string::npos) << stream.substr(0, 2000);
  // The progress events' pending photos fall.
  std::vector<int64_t> pending;
  size_t pos = 0;
  while ((pos = stream.find("\"pending_photos\":", pos)) != std::string::npos) {
    pos += 17;
    pending.push_back(std::atoll(stream.c_str() + pos));
  }
  ASSERT_GE(pending.size(), 2u) << stream.substr(0, 2000);
  EXPECT_EQ(pending.front(), 12);
  EXPECT_EQ(pending.back(), 0);
  EXPECT_EQ(server.stop(), 0) << server.err();
}

TEST_F(ServeOwnLibrary, ItsOwnWorkersAnalyseAndSigtermStopsItCleanly) {
  build("pdq,thumbs", false);
  ServeProcess server(lib_, {"--threads", "1"});
  ASSERT_TRUE(server.started()) << server.err();
  EXPECT_EQ(server.first_line()["work"], true);
  json status;
  for (int i = 0; i < 300; ++i) {
    status = http_get(server.port(), "/api/status").json();
    if (status["jobs"]["done"] == 24) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status["jobs"]["done"], 24) << status;
  EXPECT_EQ(server.stop(), 0) << server.err();
}

TEST_F(ServeOwnLibrary, WithAuthenticationEveryCallNeedsAToken) {
  build("pdq", true);
  EXPECT_NE(dr_lib(lib_, {"serve", "--auth", "--listen", "127.0.0.1:0"}).exit_code, 0);  // no token yet
  auto made = cli_json(lib_, {"token", "create", "--name", "test"});
  std::string token = made["token"];
  ASSERT_EQ(token.rfind("drt_", 0), 0u);
  ServeProcess server(lib_, {"--auth", "--no-work"});
  ASSERT_TRUE(server.started()) << server.err();
  int port = server.port();
  EXPECT_EQ(http_get(port, "/api/status").status, 401);
  EXPECT_EQ(http_get(port, "/api/thumbs/" + std::string(64, 'a') + "/grid").status, 401);
  EXPECT_EQ(http_get(port, "/api/status", {{"Authorization", "Bearer drt_wrong"}}).status, 401);
  EXPECT_EQ(http_get(port, "/api/status", {{"Authorization", "Bearer " + token}}).status, 200);
  auto s = http_get(port, "/api/session").json();
  EXPECT_EQ(s, json({{"auth", true}, {"authenticated", false}}));
  // The page's sign-in: a token for a cookie.
  EXPECT_EQ(http_post(port, "/api/session", {{"token", "drt_wrong"}}).status, 401);
  auto login = http_post(port, "/api/session", {{"token", token}});
  ASSERT_EQ(login.status, 200);
  auto cookie = login.header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  std::string pair = cookie.substr(0, cookie.find(';'));
  EXPECT_EQ(http_get(port, "/api/status", {{"Cookie", pair}}).status, 200);
  EXPECT_EQ(http_get(port, "/api/status", {{"Cookie", "darkroom_session=forged"}}).status, 401);
  // Revoking the token ends its requests and its sign-ins.
  ASSERT_EQ(dr_lib(lib_, {"token", "revoke", std::to_string(made["id"].get<int64_t>())}).exit_code, 0);
  EXPECT_EQ(http_get(port, "/api/status", {{"Authorization", "Bearer " + token}}).status, 401);
  EXPECT_EQ(http_get(port, "/api/status", {{"Cookie", pair}}).status, 401);
}

TEST_F(ServeOwnLibrary, BeyondLoopbackTokensAreRequired) {
  build("pdq", false);
  auto r = dr_lib(lib_, {"serve", "--listen", "0.0.0.0:0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("token"), std::string::npos) << r.err;
  auto bad = dr_lib(lib_, {"serve", "--listen", "nonsense"});
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace
