#include "jobs/analysis_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "jobs/progress.h"
#include "support/cli.h"

namespace dr::jobs {
namespace {

// A task that records the pixels it was given; `fail` makes it throw.
class FakeTask : public analyzers::Task {
 public:
  FakeTask(std::string name, int side, std::string fail = "") : name_(std::move(name)), side_(side), fail_(fail) {}
  std::string name() const override { return name_; }
  int wanted_side() const override { return side_; }
  std::vector<analyzers::ModelRef> models() const override { return {{"fake/" + name_, "cafe"}}; }
  nlohmann::json run(const image::Decoded& img, const analyzers::RunOptions& o) override {
    int now = ++running_;
    max_running_ = std::max(max_running_.load(), now);
    std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms_));
    --running_;
    if (fail_ == "throw") throw std::runtime_error("model exploded");
    if (fail_ == "permanent") throw image::Error("this photo cannot be analysed", true);
    return {{"w", img.rgb.width}, {"h", img.rgb.height}, {"display_w", img.info.display_width}, {"emb", o.embeddings}};
  }
  std::atomic<int> running_{0}, max_running_{0};
  int sleep_ms_ = 0;

 private:
  std::string name_;
  int side_;
  std::string fail_;
};

catalog::LeasedPhoto leased(const std::string& path, const std::vector<std::string>& tasks) {
  catalog::LeasedPhoto p;
  p.photo_id = 1;
  p.path = path;
  int64_t id = 1;
  for (const auto& t : tasks) p.jobs.push_back({id++, 1, 9, t, 1});
  return p;
}

std::vector<Outcome> run(AnalysisRunner& r, const catalog::LeasedPhoto& p) {
  std::vector<Outcome> out(p.jobs.size());
  r.run(
      p, [&](size_t i, Outcome o) { out[i] = std::move(o); }, [] { return false; });
  return out;
}

TEST(AnalysisRunner, DecodesOnceAtTheLargestSideItsTasksWant) {
  FakeTask small("small", 64), big("big", 256);
  AnalysisRunner r({{"small", &small}, {"big", &big}});
  auto out = run(r, leased(test::opencv_sample("fruits.jpg"), {"small", "big"}));  // 512x480
  ASSERT_EQ(out[0].kind, Outcome::Done) << out[0].error;
  ASSERT_EQ(out[1].kind, Outcome::Done);
  // Both tasks saw the same pixels: the larger of the two sides.
  EXPECT_EQ(out[0].result["w"], 256);
  EXPECT_EQ(out[1].result["w"], 256);
  EXPECT_EQ(out[0].result["display_w"], 512);
  EXPECT_EQ(out[0].result["emb"], true);  // a library always keeps embeddings
  EXPECT_EQ(out[1].models, nlohmann::json::parse(R"([{"id":"fake/big","sha256":"cafe"}])"));
  FakeTask full("full", 0);
  AnalysisRunner r2({{"small", &small}, {"full", &full}});
  EXPECT_EQ(run(r2, leased(test::opencv_sample("fruits.jpg"), {"small", "full"}))[0].result["w"], 512);
}

TEST(AnalysisRunner, FailuresAreClassified) {
  FakeTask ok("ok", 64), boom("boom", 64, "throw"), perm("perm", 64, "permanent");
  AnalysisRunner r({{"ok", &ok}, {"boom", &boom}, {"perm", &perm}});
  auto out = run(r, leased(test::opencv_sample("fruits.jpg"), {"ok", "boom", "perm", "unknown"}));
  EXPECT_EQ(out[0].kind, Outcome::Done);
  EXPECT_EQ(out[1].kind, Outcome::Failed);
  EXPECT_FALSE(out[1].permanent);  // an unexpected error may pass: retried
  EXPECT_NE(out[1].error.find("model exploded"), std::string::npos);
  EXPECT_TRUE(out[2].permanent);
  EXPECT_EQ(out[3].kind, Outcome::Failed);
  // A file that is not an image fails every task at once, for good.
  test::TempDir dir;
  test::write_file(dir / "letter.jpg", "not a photo");
  for (const auto& o : run(r, leased(dir / "letter.jpg", {"ok", "boom"}))) {
    EXPECT_EQ(o.kind, Outcome::Failed);
    EXPECT_TRUE(o.permanent);
  }
  // So does a photo whose every path is gone.
  auto gone = run(r, leased("", {"ok"}));
  EXPECT_TRUE(gone[0].permanent);
  EXPECT_NE(gone[0].error.find("missing"), std::string::npos);
}

TEST(AnalysisRunner, PerTaskConcurrencyIsLimited) {
  FakeTask heavy("heavy", 32);
  heavy.sleep_ms_ = 20;
  AnalysisRunner r({{"heavy", &heavy}}, {}, {{"heavy", 1}});
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] { run(r, leased(test::opencv_sample("fruits.jpg"), {"heavy"})); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(heavy.max_running_, 1);
}

TEST(Progress, LinesShowRateEtaAndFailures) {
  ProgressSample s{50, 150, 2};
  auto bar = Progress::line(s, 10.0, true, 20);
  EXPECT_EQ(bar.substr(0, 22), "[#####...............]");
  EXPECT_NE(bar.find("50/200 photos"), std::string::npos) << bar;
  EXPECT_NE(bar.find("5.0 photos/s"), std::string::npos) << bar;
  EXPECT_NE(bar.find("ETA 0:30"), std::string::npos) << bar;
  EXPECT_NE(bar.find("2 failed"), std::string::npos) << bar;
  auto plain = Progress::line(s, 10.0, false);
  EXPECT_EQ(plain, "work: 50 photos done, 150 to go, 5.0 photos/s, ETA 0:30, 2 failed");
}

}  // namespace
}  // namespace dr::jobs

namespace dr::jobs {
namespace {

TEST(AnalysisRunnerPaths, APathMapReadsSharedPhotosWhereThisMachineMountsThem) {
  AnalysisRunner runner({});
  runner.map_paths({{"/photos", "/mnt/nas/photos"}, {"/photos/2019", "/mnt/fast/2019"}, {"/other/", "/o/"}});
  EXPECT_EQ(runner.local_path("/photos/a.jpg"), "/mnt/nas/photos/a.jpg");
  EXPECT_EQ(runner.local_path("/photos/2019/b.jpg"), "/mnt/fast/2019/b.jpg");  // the longest match wins
  EXPECT_EQ(runner.local_path("/photos2/c.jpg"), "/photos2/c.jpg");            // a folder, not a prefix of a name
  EXPECT_EQ(runner.local_path("/other/d.jpg"), "/o/d.jpg");
  EXPECT_EQ(runner.local_path("/elsewhere/e.jpg"), "/elsewhere/e.jpg");
}

}  // namespace
}  // namespace dr::jobs
