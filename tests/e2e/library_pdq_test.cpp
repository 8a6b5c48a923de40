// PDQ in a library, end to end with the built binary: a photo's stored hash is the one `darkroom hash` prints (the
// reference's, its dihedral for the EXIF orientation), each hash records the rule that made it, and hashes made by
// an earlier rule are made again once by `darkroom work`.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "analyzers/pdq/pdq_hasher.h"
#include "pdq/pdq_test_util.h"
#include "support/cli.h"

namespace fs = std::filesystem;
using dr::test::TempDir;
using nlohmann::json;

namespace {

using dr::test::dr_lib;

json show(const std::string& lib, const std::string& photo) {
  auto r = dr_lib(lib, {"show", "--json", photo});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = dr::test::json_lines(r.out);
  return lines.empty() ? json() : lines[0];
}

// `darkroom hash` of one file: its hash.
std::string hash_of(const std::string& path) {
  auto r = dr::test::darkroom({"hash", path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, 64);
}

// Runs SQL on the library's catalog, as an older darkroom would have left it.
void sql(const std::string& lib, const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((lib + "/catalog.db").c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

}  // namespace

TEST(LibraryPdq, StoredHashesAreTheReferencesAndAnEarlierRuleIsRedoneOnce) {
  const std::string rotated = dr::testing::pdq_data_dir() + "reg-test-input/exif-rotn/exif-rotn-6.jpg";
  const std::string jpeg = dr::test::opencv_sample("aloeL.jpg");      // 1282x1110: decoded only where sampled
  const std::string png = dr::test::skimage_sample("astronaut.png");  // 512x512 RGB
  for (const auto& f : {rotated, jpeg, png})
    if (!fs::exists(f)) GTEST_SKIP() << f << " is missing";
  TempDir dir;
  fs::create_directories(dir / "photos");
  for (const auto& f : {rotated, jpeg, png}) fs::copy_file(f, dir / ("photos/" + fs::path(f).filename().string()));
  const std::string lib = dir / "lib";
  ASSERT_EQ(dr_lib(lib, {"init"}).exit_code, 0);
  ASSERT_EQ(dr_lib(lib, {"add", "--tasks", "pdq", dir / "photos"}).exit_code, 0);
  auto work = dr_lib(lib, {"work", "--until-idle"});
  ASSERT_EQ(work.exit_code, 0) << work.err;

  // The reference's hash of the phone photo is its rot270 dihedral (orientation 6, shown turned clockwise).
  std::string ref_rot270;
  for (const auto& r : dr::testing::read_reference("reference-pdqdih-across.csv"))
    if (r.path == "reg-test-input/exif-rotn/exif-rotn-6.jpg")
      ref_rot270 = r.hashes[size_t(dr::pdq::Dihedral::rot270)].hex();
  ASSERT_EQ(ref_rot270.size(), 64u);
  const std::vector<std::string> photos = {dir / "photos/exif-rotn-6.jpg", dir / "photos/aloeL.jpg",
                                           dir / "photos/astronaut.png"};
  std::vector<std::string> stored;
  for (const auto& p : photos) {
    const json s = show(lib, p);
    stored.push_back(s["pdq"]["hash"].get<std::string>());
    EXPECT_EQ(stored.back(), hash_of(p)) << p;  // the library and `darkroom hash` agree
    EXPECT_NE(s.dump().find(dr::analyzers::kPdqAlgorithm), std::string::npos) << s;  // the rule is recorded
  }
  EXPECT_EQ(stored[0], ref_rot270);

  // Hashes stored by an earlier darkroom: no rule recorded, other bits.
  sql(lib, "UPDATE results SET models='[]', value=json_set(value, '$.hash', '" + std::string(64, 'f') +
               "') WHERE task='pdq'");
  EXPECT_EQ(show(lib, photos[0])["pdq"]["hash"], std::string(64, 'f'));
  const std::string requeued = "pdq results were made by other models; queued again";
  work = dr_lib(lib, {"work", "--until-idle"});
  ASSERT_EQ(work.exit_code, 0) << work.err;
  EXPECT_NE(work.err.find("3 " + requeued), std::string::npos) << work.err;
  for (size_t i = 0; i < photos.size(); i++) EXPECT_EQ(show(lib, photos[i])["pdq"]["hash"], stored[i]) << photos[i];

  // Once only.
  work = dr_lib(lib, {"work", "--until-idle"});
  ASSERT_EQ(work.exit_code, 0) << work.err;
  EXPECT_EQ(work.err.find(requeued), std::string::npos) << work.err;
}

TEST(LibraryPdq, AnalyzeGivesTheHashThatHashGives) {
  const std::string jpeg = dr::test::opencv_sample("building.jpg");  // 868x600
  if (!fs::exists(jpeg)) GTEST_SKIP() << jpeg << " is missing";
  auto r = dr::test::darkroom({"analyze", "--tasks", "pdq", jpeg});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = dr::test::json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["pdq"]["hash"], hash_of(jpeg));
}
