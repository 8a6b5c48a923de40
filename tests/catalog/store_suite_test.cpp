#include <gtest/gtest.h>

#include <thread>

#include "catalog/store.h"
#include "jobs/queue.h"
#include "support/backends.h"
#include "support/cli.h"

namespace dr::catalog {
namespace {

using nlohmann::json;

PhotoFacts facts(const std::string& hash) {
  PhotoFacts f;
  f.content_hash = hash;
  f.size = 100;
  f.format = "jpeg";
  f.width = 40;
  f.height = 30;
  f.file_date = "2021-03-04";
  return f;
}

// Every backend must pass these: the catalog's contract, and the queue's rules over its primitives.
struct StoreTest : ::testing::TestWithParam<std::string> {
  test::TempDir dir;
  std::unique_ptr<Store> store;
  std::unique_ptr<jobs::Queue> queue;  // the default policy, 60 s leases
  void SetUp() override {
    store = test::open_backend(GetParam(), dir.path());
    if (!store) GTEST_SKIP() << test::backend_unavailable(GetParam());
    queue = std::make_unique<jobs::Queue>(*store);
  }
  int64_t photo(const std::string& name, const std::vector<std::string>& tasks = {"pdq"}) {
    int64_t id = store->add_photo(facts("hash-" + name));
    store->put_path(dir / name, id, 100, 1, 1);
    queue->enqueue(id, tasks);
    return id;
  }
  // One photo's jobs, as a worker leases them.
  std::vector<LeasedPhoto> lease(const std::string& owner = "w", int64_t lease_ms = 60000,
                                 const std::vector<std::string>& tasks = {}) {
    return jobs::Queue(*store, {}, lease_ms).lease(owner, 1, tasks);
  }
};

TEST_P(StoreTest, PhotosHaveSeveralPathsAndFileNamesAreSearchable) {
  int64_t id = photo("holiday/IMG_2041.jpg");
  store->put_path(dir / "copy/beach_sunset.jpg", id, 100, 1, 1);
  auto p = store->photo(id);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->paths.size(), 2u);
  EXPECT_EQ(p->facts.width, 40);
  auto hits = store->search_documents("sunset", 10, "");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].photo_id, id);
  EXPECT_EQ(hits[0].kind, "file");
  store->mark_missing({dir / "copy/beach_sunset.jpg"});
  EXPECT_TRUE(store->search_documents("sunset", 10, "").empty());
  p = store->photo(id);
  EXPECT_EQ(p->paths.size(), 1u);
  EXPECT_EQ(p->missing_paths.size(), 1u);
}

TEST_P(StoreTest, EnqueueIsOneJobPerPhotoAndTask) {
  int64_t id = photo("a.jpg", {"pdq", "faces"});
  EXPECT_EQ(queue->enqueue(id, {"pdq", "faces", "text"}), 1);
  auto c = queue->counts();
  EXPECT_EQ(c.jobs["queued"], 3);
  EXPECT_EQ(c.by_task["text"]["queued"], 1);
  EXPECT_EQ(c.photos, 1);
}

TEST_P(StoreTest, LeaseTakesEveryJobOfOnePhotoAtomically) {
  int64_t a = photo("a.jpg", {"pdq", "faces"});
  photo("b.jpg", {"pdq", "faces"});
  auto got = lease();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].photo_id, a);
  ASSERT_EQ(got[0].jobs.size(), 2u);
  EXPECT_EQ(got[0].path, dir / "a.jpg");
  EXPECT_EQ(got[0].jobs[0].lease_id, got[0].jobs[1].lease_id);
  EXPECT_EQ(got[0].jobs[0].attempts, 1);
  auto second = lease();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0].photo_id, a);
  EXPECT_NE(second[0].jobs[0].lease_id, got[0].jobs[0].lease_id);  // a token per leased photo
  EXPECT_TRUE(lease().empty());
  EXPECT_EQ(queue->counts().jobs["running"], 4);
}

TEST_P(StoreTest, LeaseCanBeLimitedToSomeTasks) {
  photo("a.jpg", {"pdq", "faces"});
  auto got = lease("w", 60000, {"faces"});
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].jobs.size(), 1u);
  EXPECT_EQ(got[0].jobs[0].task, "faces");
  EXPECT_EQ(store->pending({"faces"}), 1);
  EXPECT_EQ(store->pending({}), 2);
}

TEST_P(StoreTest, CompleteWritesResultAndDerivedRowsOnlyForTheLeaseHolder) {
  int64_t id = photo("a.jpg", {"text"});
  auto first = lease("w1", 0);  // expires at once
  ASSERT_EQ(first.size(), 1u);
  auto second = lease("w2");  // takes the expired lease over
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].jobs[0].attempts, 2);
  json stale = {{"lines", json::array({{{"text", "old words"}, {"score", 0.9}}})}, {"full", "old words"}};
  json fresh = {{"lines", json::array({{{"text", "Crème brûlée menu"}, {"score", 0.9}}})},
                {"full", "Crème brûlée menu"}};
  json models = json::array({{{"id", "text-recognizer/x"}, {"sha256", "ab"}}});
  EXPECT_TRUE(queue->complete(second[0].jobs[0], fresh, models));
  EXPECT_FALSE(queue->complete(first[0].jobs[0], stale, models));  // the old holder cannot overwrite
  auto r = store->results(id);
  ASSERT_EQ(r.count("text"), 1u);
  EXPECT_EQ(r["text"].value, fresh);
  EXPECT_EQ(r["text"].models, models);
  EXPECT_TRUE(store->search_documents("old", 10, "").empty());
  auto hits = store->search_documents("creme", 10, "");  // accents folded
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].text, "Crème brûlée menu");
  EXPECT_EQ(queue->counts().jobs["done"], 1);
  // A failure report from the old holder is refused too.
  EXPECT_FALSE(store->finish(first[0].jobs[0], JobState::Failed, 0, std::string("late"), 0, store->clock_ms()));
  EXPECT_EQ(queue->counts().jobs["done"], 1);
}

TEST_P(StoreTest, ReplacingAResultReplacesItsDerivedRows) {
  int64_t id = photo("a.jpg", {"faces", "objects", "clip"});
  auto got = lease();
  ASSERT_EQ(got[0].jobs.size(), 3u);
  json face = {{"box", {1, 2, 30, 40}},
               {"score", 0.93},
               {"landmarks", {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}}},
               {"embedding", {0.5, -0.25, 1.0}}};
  json models = json::array({{{"id", "m"}, {"sha256", "s"}}});
  for (const auto& l : got[0].jobs) {
    if (l.task == "faces") {
      EXPECT_TRUE(queue->complete(l, json::array({face, face}), models));
    } else if (l.task == "objects") {
      EXPECT_TRUE(queue->complete(l, json::array({{{"label", "cat"}, {"score", 0.8}, {"box", {0, 0, 1, 1}}}}), models));
    } else {
      EXPECT_TRUE(queue->complete(l, {{"dim", 2}, {"embedding", {0.6, 0.8}}}, json::array({{{"id", "clip/b32"}}})));
    }
  }
  auto faces = store->faces_of(id);
  ASSERT_EQ(faces.size(), 2u);
  EXPECT_FLOAT_EQ(faces[0].box[3], 40.f);
  EXPECT_EQ(faces[0].embedding, (std::vector<float>{0.5f, -0.25f, 1.0f}));
  EXPECT_FALSE(faces[0].person_id);
  auto emb = store->embeddings("clip/b32");
  ASSERT_EQ(emb.size(), 1u);
  EXPECT_EQ(emb[0].vector, (std::vector<float>{0.6f, 0.8f}));
  EXPECT_EQ(store->search_documents("cats", 10, "").size(), 1u);  // stemmed: plurals find the label
  EXPECT_TRUE(store->search_documents("cats", 10, "label").empty());
  auto with_label = store->photos_with_label("cat");
  ASSERT_EQ(with_label.size(), 1u);
  EXPECT_EQ(with_label[0].photo_id, id);
  EXPECT_DOUBLE_EQ(*with_label[0].score, 0.8);
  EXPECT_DOUBLE_EQ(*with_label[0].area, 1.0);
  EXPECT_DOUBLE_EQ(with_label[0].photo_area, 40.0 * 30.0);
  // Re-run faces: the rows are replaced, not added.
  queue->retry({JobState::Done}, {id});
  auto again = lease();
  for (const auto& l : again[0].jobs)
    if (l.task == "faces") {
      EXPECT_TRUE(queue->complete(l, json::array({face}), models));
    }
  EXPECT_EQ(store->faces_of(id).size(), 1u);
}

TEST_P(StoreTest, FailureStatesRetryAndRelease) {
  int64_t a = photo("a.jpg");
  int64_t b = photo("b.jpg");
  auto la = lease()[0].jobs[0];
  auto lb = lease()[0].jobs[0];
  EXPECT_TRUE(store->finish(la, JobState::Failed, 0, std::string("not an image"), 0, store->clock_ms()));
  EXPECT_TRUE(
      store->finish(lb, JobState::Queued, store->clock_ms() + 60'000, std::string("busy"), 0, store->clock_ms()));
  EXPECT_TRUE(lease().empty());  // b waits for its backoff
  auto due = store->next_due_ms({});
  ASSERT_TRUE(due);
  EXPECT_GT(*due, store->clock_ms() + 30'000);
  auto f = store->failures(10);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].error, "not an image");
  EXPECT_EQ(f[0].path, dir / "a.jpg");
  EXPECT_EQ(f[0].attempts, 1);
  EXPECT_EQ(queue->retry({JobState::Failed}, {b}), 0);
  EXPECT_EQ(queue->retry({JobState::Failed}, {a}), 1);
  auto again = lease();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].jobs[0].attempts, 1);  // retry resets attempts
  queue->release(again[0].jobs);
  auto c = queue->counts();
  EXPECT_EQ(c.jobs["queued"], 2);
  EXPECT_EQ(c.jobs["failed"], 0);
}

TEST_P(StoreTest, HeartbeatKeepsALeaseAndReclaimFreesDeadOwners) {
  photo("a.jpg");
  auto l = lease("host/1/0", 100)[0].jobs[0];
  EXPECT_EQ(queue->heartbeat({l.lease_id}), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_TRUE(lease().empty());  // still held thanks to the heartbeat
  EXPECT_EQ(queue->reclaim([](const std::string& o) { return o == "host/1/0"; }), 1);
  auto taken = lease("other");
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(queue->heartbeat({l.lease_id}), 0);  // the old lease is gone
  EXPECT_EQ(taken[0].jobs[0].attempts, 1);       // the killed process's attempt was given back
  // An owner's leases expired without giving back: the attempt counts.
  queue->release(taken[0].jobs);
  ASSERT_EQ(lease("host/2/0").size(), 1u);
  EXPECT_EQ(store->expire_leases("host/2/0", false), 1);
  EXPECT_EQ(lease("other")[0].jobs[0].attempts, 2);
}

TEST_P(StoreTest, RequeueStaleWhenTheModelChanged) {
  int64_t id = photo("a.jpg", {"faces"});
  json m1 = json::array({{{"id", "face/a"}, {"sha256", "1"}}});
  auto l = lease()[0].jobs[0];
  ASSERT_TRUE(queue->complete(l, json::array(), m1));
  EXPECT_EQ(queue->requeue_stale("faces", m1), 0);
  EXPECT_EQ(queue->requeue_stale("faces", json::array({{{"id", "face/b"}, {"sha256", "2"}}})), 1);
  EXPECT_EQ(store->jobs_of(id)[0].state, JobState::Queued);
}

TEST_P(StoreTest, DatesAreSearchableByPrefix) {
  auto f = facts("h1");
  f.taken_at = "2019-07-04T10:00:00";
  int64_t a = store->add_photo(f);
  auto g = facts("h2");  // no EXIF date: the file's date counts
  g.file_date = "2019-12-01";
  int64_t b = store->add_photo(g);
  store->add_photo(facts("h3"));
  EXPECT_EQ(store->photos_by_date("2019", 10).size(), 2u);
  auto july = store->photos_by_date("2019-07", 10);
  ASSERT_EQ(july.size(), 1u);
  EXPECT_EQ(july[0].first, a);
  EXPECT_EQ(store->photos_by_date("2019-12-01", 10)[0].first, b);
}

TEST_P(StoreTest, ThePhotoListPagesNewestFirstAndFilters) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    auto f = facts("hash-list-" + std::to_string(i));
    if (i % 2) f.taken_at = "2019-0" + std::to_string(i) + "-01T10:00:00";  // others: the file's date, 2021-03-04
    int64_t id = store->add_photo(f);
    store->put_path(dir / ("l" + std::to_string(i) + ".jpg"), id, 100, 1, 1);
    queue->enqueue(id, {"pdq"});
    ids.push_back(id);
  }
  PhotoQuery q;
  q.limit = 3;
  std::vector<int64_t> seen;
  for (int page = 0; page < 5; ++page) {
    auto rows = store->list_photos(q);
    for (const auto& r : rows) seen.push_back(r.id);
    if (rows.size() < 3) break;
    q.after = std::make_pair(rows.back().date, rows.back().id);
  }
  // The 2021 file dates first (ids descending), then the EXIF dates, newest first.
  EXPECT_EQ(seen, (std::vector<int64_t>{ids[6], ids[4], ids[2], ids[0], ids[5], ids[3], ids[1]}));
  PhotoQuery y;
  y.from = "2019";
  y.to = "2019-03";
  auto r = store->list_photos(y);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].id, ids[3]);
  EXPECT_TRUE(r[0].taken);
  // A job state filter, and a missing photo is not listed.
  auto l = lease();
  ASSERT_FALSE(l.empty());
  EXPECT_TRUE(store->finish(l[0].jobs[0], JobState::Failed, 0, std::string("bad"), 0, store->clock_ms()));
  PhotoQuery failed;
  failed.state = "failed";
  ASSERT_EQ(store->list_photos(failed).size(), 1u);
  EXPECT_EQ(store->list_photos(failed)[0].id, l[0].photo_id);
  store->mark_missing({dir / "l0.jpg"});
  EXPECT_EQ(store->list_photos({}).size(), 6u);
}

TEST_P(StoreTest, JobChangesStampsDismissalsAndTokens) {
  int64_t a = photo("a.jpg"), b = photo("b.jpg");
  int64_t before = store->clock_ms() - 1;
  EXPECT_EQ(store->task_stamp("pdq"), (TaskStamp{0, 0}));
  auto l = lease();
  ASSERT_TRUE(queue->complete(l[0].jobs[0], {{"hash", "00"}, {"quality", 1}}, json::array()));
  auto stamp = store->task_stamp("pdq");
  EXPECT_EQ(stamp.count, 1);
  EXPECT_GE(stamp.updated_ms, before);
  auto changes = store->job_changes(before, 100);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().photo_id, l[0].photo_id);
  EXPECT_EQ(changes.back().state, JobState::Done);
  EXPECT_TRUE(store->job_changes(store->clock_ms() + 1000, 100).empty());

  store->dismiss_duplicates({b, a, b});
  EXPECT_EQ(store->dismissed_pairs(), (std::vector<std::pair<int64_t, int64_t>>{{std::min(a, b), std::max(a, b)}}));
  store->put_path(dir / "a-copy.jpg", a, 100, 1, 1);
  EXPECT_EQ(store->photos_with_copies(), std::vector<int64_t>{a});

  int64_t t = store->add_token("phone", std::string(64, 'e'));
  ASSERT_TRUE(store->token_by_sha256(std::string(64, 'e')));
  EXPECT_EQ(store->token_by_sha256(std::string(64, 'e'))->name, "phone");
  EXPECT_FALSE(store->token_by_sha256(std::string(64, 'f')));
  EXPECT_EQ(store->tokens().size(), 1u);
  EXPECT_TRUE(store->revoke_token(t));
  EXPECT_FALSE(store->revoke_token(t));
  EXPECT_FALSE(store->token_by_sha256(std::string(64, 'e')));
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::ValuesIn(test::backend_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace dr::catalog
