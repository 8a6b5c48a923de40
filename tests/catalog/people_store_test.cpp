// The people part of the SQLite catalog: face quality kept from the faces result, assignments written in one go,
// and the user's decisions (placements, rejections) kept when a photo is analysed again.
#include <gtest/gtest.h>

#include "catalog/sqlite_store.h"
#include "jobs/queue.h"
#include "support/cli.h"

namespace dr::catalog {
namespace {

using nlohmann::json;

json face(float x, float y, float size, float blur, float e0) {
  return {{"box", {x, y, size, size}},
          {"score", 0.9},
          {"landmarks", json::array()},
          {"quality", {{"size", size}, {"blur", blur}, {"frontal", 0.9}}},
          {"embedding", {e0, 1.0f - e0}}};
}

struct PeopleStore : ::testing::Test {
  test::TempDir dir;
  std::unique_ptr<SqliteStore> store;
  int64_t photo_id = 0;
  void SetUp() override {
    SqliteOptions o;
    o.create = true;
    store = std::make_unique<SqliteStore>(dir / "catalog.db", o);
    PhotoFacts f;
    f.content_hash = "hash-a";
    f.size = 10;
    photo_id = store->add_photo(f);
    store->put_path(dir / "a.jpg", photo_id, 10, 1, 1);
    jobs::Queue(*store).enqueue(photo_id, {"faces"});
  }
  // Analyses the photo (again): leases its faces job and stores `faces` as the result of `model`.
  void analyse(const json& faces, const std::string& model) {
    json models = json::array({{{"id", model}, {"sha256", model}}});
    jobs::Queue queue(*store);
    queue.requeue_stale("faces", models);
    auto leased = queue.lease("test", 1, {});
    ASSERT_EQ(leased.size(), 1u);
    ASSERT_TRUE(queue.complete(leased[0].jobs[0], faces, models));
  }
};

TEST_F(PeopleStore, KeepsQualityAndTheUsersDecisionsAcrossReanalysis) {
  json faces = json::array({face(10, 10, 40, 30, 1), face(100, 10, 12, 3, 0)});
  analyse(faces, "m1");
  auto all = store->all_faces();
  ASSERT_EQ(all.size(), 2u);
  ASSERT_TRUE(all[0].size && all[0].blur);
  EXPECT_FLOAT_EQ(*all[0].size, 40);
  EXPECT_FLOAT_EQ(*all[0].blur, 30);
  EXPECT_EQ(all[0].embedding.size(), 2u);

  // Clustering made persons 1 and 2; the user then put face 2 in person 1 and said face 1 is not person 2.
  store->write_assignments({{all[0].id, 1}, {all[1].id, 2}}, {1, 2});
  EXPECT_EQ(store->max_person_id(), 2);
  store->move_face(all[1].id, 1);
  store->reject_face(all[0].id, 2);
  store->name_person(1, "Ada Lovelace");
  auto people = store->persons();
  ASSERT_EQ(people.size(), 1u);  // person 2 lost its only face and had no name
  EXPECT_EQ(people[0].faces, 2);
  EXPECT_EQ(people[0].photo_id, photo_id);

  // Clustering never moves a face the user placed.
  store->write_assignments({{all[1].id, 0}}, {});
  EXPECT_EQ(store->face(all[1].id)->person_id, 1);

  analyse(faces, "m2");  // new face rows, same boxes
  auto again = store->all_faces();
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].person_id, 1);
  EXPECT_TRUE(again[1].pinned);
  auto rejected = store->rejections();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0], std::make_pair(again[0].id, int64_t(2)));

  auto found = store->photos_of_people_named("lovelace");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].first, photo_id);
  EXPECT_EQ(store->photos_of_people_named("ada love*").size(), 1u);
  EXPECT_TRUE(store->photos_of_people_named("babbage").empty());
  EXPECT_TRUE(store->photos_of_people_named("love").empty());
}

TEST_F(PeopleStore, MergeMovesEveryFaceAndKeepsTheName) {
  analyse(json::array({face(10, 10, 40, 30, 1), face(100, 10, 40, 30, 0)}), "m1");
  auto all = store->all_faces();
  store->write_assignments({{all[0].id, 1}, {all[1].id, 2}}, {1, 2});
  store->name_person(2, "Grace");
  store->merge_persons(1, 2);
  EXPECT_FALSE(store->person(2));
  auto p = store->person(1);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->faces, 2);
  EXPECT_EQ(p->name, "Grace");
  EXPECT_TRUE(store->face(all[0].id)->pinned);
  EXPECT_TRUE(store->face(all[1].id)->pinned);
}

}  // namespace
}  // namespace dr::catalog
