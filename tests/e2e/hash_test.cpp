// `darkroom hash` end to end: the reference's output format, bad files, order, threads.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <vips/vips.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "pdq/pdq_test_util.h"
#include "support/cli.h"
#include "util/process.h"

using dr::test::TempDir;
using dr::testing::pdq_data_dir;
using dr::testing::read_reference;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string l;
  while (std::getline(ss, l))
    if (!l.empty()) v.push_back(l);
  return v;
}

}  // namespace

TEST(HashCli, ExactPrintsWhatTheReferencePrintsForJpegs) {
  std::vector<std::string> args = {"--threads", "2", "hash", "--exact"};
  std::vector<std::string> want;
  for (const auto& r : read_reference("reference-hashes.csv")) {
    if (!dr::testing::ends_with(r.path, ".jpg")) continue;
    args.push_back(pdq_data_dir() + r.path);
    want.push_back(r.hashes[0].hex() + "," + std::to_string(r.quality) + "," + pdq_data_dir() + r.path);
  }
  auto res = dr::test::darkroom(args);
  ASSERT_TRUE(res.ok()) << res.describe() << res.err;
  EXPECT_EQ(lines_of(res.out), want);  // same bits, same quality, in the order given
  EXPECT_EQ(res.err, "");
}

TEST(HashCli, DihedralLinesMatchTheReference) {
  std::vector<std::string> args = {"hash", "--exact", "--dihedral"};
  std::vector<std::string> want;
  for (const auto& r : read_reference("reference-pdqdih-across.csv")) {
    if (r.path.find("reg-test-input/dih/") != 0) continue;
    args.push_back(pdq_data_dir() + r.path);
    std::string line;
    for (const auto& h : r.hashes) line += h.hex() + ",";
    want.push_back(line + std::to_string(r.quality) + "," + pdq_data_dir() + r.path);
  }
  ASSERT_EQ(want.size(), 8u);
  auto res = dr::test::darkroom(args);
  ASSERT_TRUE(res.ok()) << res.describe() << res.err;
  EXPECT_EQ(lines_of(res.out), want);
}

TEST(HashCli, BadFilesAreReportedAndTheRestHashed) {
  TempDir dir;
  dr::test::write_file(dir / "empty.jpg", "");
  dr::test::write_file(dir / "text.jpg", "not a photo at all\n");
  std::ifstream in(pdq_data_dir() + "reg-test-input/labelme-subset/q1050.jpg", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  dr::test::write_file(dir / "truncated.jpg", bytes.substr(0, bytes.size() / 2));
  const std::string good1 = pdq_data_dir() + "reg-test-input/dih/bridge-1-original.jpg";
  const std::string good2 = pdq_data_dir() + "reg-test-input/pen-and-coaster.png";
  auto res = dr::test::darkroom({"--threads", "2", "hash", dir / "empty.jpg", good1, dir / "text.jpg",
                                 dir / "missing.jpg", dir / "truncated.jpg", good2});
  EXPECT_EQ(res.exit_code, 1) << res.describe();
  auto out = lines_of(res.out);
  ASSERT_EQ(out.size(), 2u) << res.out;
  EXPECT_NE(out[0].find("," + good1), std::string::npos);
  EXPECT_NE(out[1].find("," + good2), std::string::npos);
  for (const auto& l : out) EXPECT_NE(l.substr(0, 64), std::string(64, '0')) << l;
  auto err = lines_of(res.err);
  ASSERT_EQ(err.size(), 4u) << res.err;
  EXPECT_NE(err[0].find(dir / "empty.jpg"), std::string::npos);
  EXPECT_NE(err[0].find("empty"), std::string::npos);
  EXPECT_NE(err[1].find(dir / "text.jpg"), std::string::npos);
  EXPECT_NE(err[2].find("No such file"), std::string::npos);
  EXPECT_NE(err[3].find("truncated"), std::string::npos) << err[3];
}

// libvips' optional format modules (HEIF, JPEG XL, ImageMagick...) are loaded only when a file needs one: a PNG
// is hashed without them, HEIC photos with them (two threads asking at once: both wait for the one load), and give
// the same picture's hash. The dynamic loader's own trace (LD_DEBUG=files) tells which shared objects a process
// opened. Where libvips has no modules folder (HEIF built in, or absent) there is nothing to defer.
TEST(HashCli, HeicIsReadWithFormatModulesLoadedOnlyWhenNeeded) {
  Dl_info info{};
  ASSERT_TRUE(dladdr(reinterpret_cast<void*>(&vips_init), &info) && info.dli_fname);
  const auto modules = std::filesystem::path(info.dli_fname).parent_path() /
                       ("vips-modules-" + std::to_string(vips_version(0)) + "." + std::to_string(vips_version(1)));
  if (!std::filesystem::exists(modules / "vips-heif.so")) GTEST_SKIP() << "no HEIF module in " << modules;
  TempDir dir;
  const std::string png = dr::test::skimage_sample("astronaut.png");
  for (const char* name : {"a.heic", "b.heic", "c.heic"}) {
    auto conv = dr::util::run_process({"convert", png, "-quality", "90", dir / name}, 60000);
    ASSERT_TRUE(conv.ok()) << "ImageMagick (scripts/setup.sh) could not write HEIC: " << conv.describe() << conv.err;
  }
  auto plain = dr::test::darkroom({"hash", png}, {"LD_DEBUG=files"});
  ASSERT_EQ(plain.exit_code, 0) << plain.describe();
  EXPECT_EQ(plain.err.find("vips-modules"), std::string::npos) << "a PNG loaded libvips' modules";
  auto heic = dr::test::darkroom({"--threads", "2", "hash", dir / "a.heic", dir / "b.heic", dir / "c.heic"},
                                 {"LD_DEBUG=files"});
  ASSERT_EQ(heic.exit_code, 0) << heic.describe() << heic.err.substr(0, 2000);
  EXPECT_NE(heic.err.find("vips-heif"), std::string::npos) << "the HEIF module was not loaded";
  auto a = lines_of(plain.out), b = lines_of(heic.out);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 3u);
  for (const auto& line : b) {
    int bits = 0;
    for (size_t i = 0; i < 64; ++i)
      bits += __builtin_popcount(std::stoi(a[0].substr(i, 1), nullptr, 16) ^ std::stoi(line.substr(i, 1), nullptr, 16));
    EXPECT_LE(bits, 24) << a[0] << "\n" << line;  // the same photo, through a lossy codec
  }
}

TEST(HashCli, DefaultIsTheReferencesDihedralAndShowsPhotosAsDisplayed) {
  std::vector<std::string> args = {"--threads", "1", "hash"};
  auto refs = read_reference("reference-pdqdih-across.csv");
  std::vector<const dr::testing::RefRow*> rows;
  for (const auto& r : refs) {
    if (r.path.find("exif-rotn") == std::string::npos) continue;
    args.push_back(pdq_data_dir() + r.path);
    rows.push_back(&r);
  }
  ASSERT_EQ(rows.size(), 4u);
  auto res = dr::test::darkroom(args);
  ASSERT_TRUE(res.ok()) << res.describe() << res.err;
  auto out = lines_of(res.out);
  ASSERT_EQ(out.size(), 4u);
  // exif-rotn-1, -3, -6, -8 carry orientations 1, 3, 6, 8: original, rot180, rot270, rot90.
  const dr::pdq::Dihedral want[] = {dr::pdq::Dihedral::original, dr::pdq::Dihedral::rot180, dr::pdq::Dihedral::rot270,
                                    dr::pdq::Dihedral::rot90};
  for (size_t i = 0; i < 4; i++) {
    auto h = dr::pdq::Hash256::from_hex(out[i].substr(0, 64));
    ASSERT_TRUE(h) << out[i];
    EXPECT_EQ(h->distance(rows[i]->hashes[size_t(want[i])]), 0) << out[i];
    if (i > 0) {
      EXPECT_GT(h->distance(rows[i]->hashes[0]), 31) << "orientation ignored? " << out[i];
    }
  }
}

TEST(HashCli, JsonAndPixelLimit) {
  const std::string good = pdq_data_dir() + "reg-test-input/dih/bridge-1-original.jpg";
  auto res = dr::test::darkroom(
      {"--json", "hash", "--max-pixels", "1000000", good, pdq_data_dir() + "reg-test-input/labelme-subset/q1050.jpg"});
  EXPECT_EQ(res.exit_code, 1);
  auto j = dr::test::json_lines(res.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["path"], good);
  EXPECT_NE(j[0]["error"].get<std::string>().find("limit"), std::string::npos) << j[0];
  EXPECT_EQ(j[1]["hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(j[1]["quality"], 100);
}

TEST(HashCli, NeedsAFile) {
  auto res = dr::test::darkroom({"hash"});
  EXPECT_NE(res.exit_code, 0);
  EXPECT_EQ(res.out, "");
}
