#include "search/library_search.h"

#include <gtest/gtest.h>

#include "catalog/sqlite_store.h"
#include "jobs/queue.h"
#include "search/object_search.h"
#include "support/cli.h"

namespace dr::search {
namespace {

using nlohmann::json;

TEST(LibrarySearch, QueriesAreQuotedSoPunctuationCannotBreakThem) {
  EXPECT_EQ(to_fts_query("cat"), "\"cat\"");
  EXPECT_EQ(to_fts_query("red  car!"), "\"red\" \"car\"");
  EXPECT_EQ(to_fts_query("\"happy birthday\" cake*"), "\"happy birthday\" \"cake\"*");
  EXPECT_EQ(to_fts_query("AND OR NOT ( ) : ^"), "\"AND\" \"OR\" \"NOT\"");
  EXPECT_EQ(to_fts_query("a b", " OR "), "\"a\" OR \"b\"");
  EXPECT_EQ(to_fts_query("  -- "), "");
  EXPECT_EQ(date_terms("beach 2019 2019-07 2019-07-04 2019-13 12345"),
            (std::vector<std::string>{"2019", "2019-07", "2019-07-04"}));
}

struct SearchTest : ::testing::Test {
  test::TempDir dir;
  std::unique_ptr<catalog::SqliteStore> store;
  int64_t add(const std::string& name, const std::string& date, const std::string& task, const json& result) {
    catalog::PhotoFacts f;
    f.content_hash = name;
    f.file_date = date;
    int64_t id = store->add_photo(f);
    store->put_path(dir / name, id, 1, 1, 1);
    jobs::Queue queue(*store);
    queue.enqueue(id, {task});
    auto l = queue.lease("t", 1, {});
    EXPECT_TRUE(queue.complete(l.at(0).jobs.at(0), result, json::array()));
    return id;
  }
  void SetUp() override {
    catalog::SqliteOptions o;
    o.create = true;
    store = std::make_unique<catalog::SqliteStore>(dir / "catalog.db", o);
  }
};

TEST_F(SearchTest, FindsWordsLabelsFileNamesAndDates) {
  int64_t menu = add("menu.jpg", "2019-07-04", "text",
                     {{"lines", {{{"text", "Café Crème"}, {"score", 0.9}}, {{"text", "open daily"}, {"score", 0.9}}}},
                      {"full", "Café Crème\nopen daily"}});
  int64_t cat = add("IMG_0001.jpg", "2020-01-02", "objects",
                    json::array({{{"label", "cat"}, {"score", 0.9}, {"box", {0, 0, 1, 1}}}}));
  auto hits = search_library(*store, "creme");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].photo_id, menu);
  EXPECT_EQ(hits[0].matched, std::vector<std::string>{"text: Café Crème"});
  EXPECT_EQ(search_library(*store, "\"cafe creme\"").size(), 1u);
  EXPECT_EQ(search_library(*store, "\"creme cafe\"").size(), 0u);  // a phrase keeps its order
  EXPECT_EQ(search_library(*store, "dai*").at(0).photo_id, menu);  // prefix
  auto labels = make_label_signal();
  EXPECT_EQ(search_library(*store, "cats", 50, {labels.get()}).at(0).photo_id, cat);  // plural
  EXPECT_TRUE(search_library(*store, "cats").empty());  // a label is not a word read in a photo
  EXPECT_EQ(search_library(*store, "img_0001").at(0).photo_id, cat);
  auto july = search_library(*store, "2019-07");
  ASSERT_EQ(july.size(), 1u);
  EXPECT_EQ(july[0].photo_id, menu);
  EXPECT_EQ(july[0].matched, std::vector<std::string>{"date: 2019-07-04"});
  EXPECT_EQ(search_library(*store, "2020").at(0).photo_id, cat);
  EXPECT_TRUE(search_library(*store, "dog").empty());
  EXPECT_THROW(search_library(*store, "  ?! "), std::invalid_argument);
}

TEST_F(SearchTest, WordsInDifferentDocumentsStillFindThePhotoRankedBelowFullMatches) {
  int64_t both = add("a.jpg", "2020-01-01", "text", {{"lines", {{{"text", "red car"}}}}, {"full", "red car"}});
  int64_t one = add("b.jpg", "2020-01-01", "text", {{"lines", {{{"text", "red"}}, {{"text", "bus"}}}}, {"full", ""}});
  auto hits = search_library(*store, "red car");
  ASSERT_EQ(hits.size(), 1u);  // all words in one line: only that photo
  EXPECT_EQ(hits[0].photo_id, both);
  auto loose = search_library(*store, "red bus");  // no single line has both: any word counts
  ASSERT_FALSE(loose.empty());
  EXPECT_EQ(loose[0].photo_id, one);
}

TEST_F(SearchTest, WordsThatOcrGluedTogetherAreFoundBelowWholeWords) {
  int64_t glued = add("glued.jpg", "2020-01-01", "text",
                      {{"lines", {{{"text", "harbourwindowbluecitymarket"}}, {{"text", "Open 9-17"}}}}, {"full", ""}});
  int64_t spaced = add("spaced.jpg", "2020-01-01", "text", {{"lines", {{{"text", "the window"}}}}, {"full", ""}});
  int64_t word =
      add("word.jpg", "2020-01-01", "text", {{"lines", {{{"text", "internationalisation locate"}}}}, {"full", ""}});
  auto window = search_library(*store, "window");
  ASSERT_EQ(window.size(), 2u);
  EXPECT_EQ(window[0].photo_id, spaced);  // a word match ranks first
  EXPECT_EQ(window[1].photo_id, glued);
  EXPECT_DOUBLE_EQ(window[0].score, 1.0);
  EXPECT_DOUBLE_EQ(window[1].score, 0.45);
  EXPECT_EQ(window[1].matched, std::vector<std::string>{"text: harbourwindowbluecitymarket"});
  auto both = search_library(*store, "WINDOW market");  // every word, any case: above a photo with one of them
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].photo_id, glued);
  EXPECT_EQ(both[1].photo_id, spaced);
  EXPECT_EQ(search_library(*store, "\"blue city\"").at(0).photo_id, glued);  // a phrase, glued
  EXPECT_TRUE(search_library(*store, "\"city blue\"").empty());
  auto partial = search_library(*store, "window submarine");  // no photo has both: any word counts, at 0.4
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_EQ(partial[0].photo_id, spaced);
  EXPECT_DOUBLE_EQ(partial[0].score, 0.4);
  EXPECT_TRUE(search_library(*store, "cat").empty());  // too short to look for inside words ("locate")
  EXPECT_EQ(search_library(*store, "the blue market").at(0).photo_id, glued);  // "the" is left out of the check
  EXPECT_TRUE(search_library(*store, "nation").empty());  // "internationalisation" is one real word's length
  EXPECT_TRUE(search_library(*store, "harbourwindowbluecitymarket").size() == 1u);  // itself: a word match
  (void)word;
}

// A common word: its many ordinary lines come first in the catalog, and the glued line after them is still found.
TEST_F(SearchTest, GluedWordsAreFoundBehindManyOrdinaryLines) {
  for (int i = 0; i < 30; ++i)
    add("ordinary" + std::to_string(i) + ".jpg", "2020-01-01", "text",
        {{"lines", {{{"text", "a window"}}}}, {"full", ""}});
  int64_t glued =
      add("glued.jpg", "2020-01-01", "text", {{"lines", {{{"text", "harbourwindowbluecitymarket"}}}}, {"full", ""}});
  auto hits = search_library(*store, "window market", 5);
  ASSERT_EQ(hits.size(), 5u);
  EXPECT_EQ(hits[0].photo_id, glued);  // both words, glued: above the 30 lines with one of them
  EXPECT_DOUBLE_EQ(hits[0].score, 0.45);
}

TEST_F(SearchTest, LabelsRankBySureAndBigDetections) {
  auto obj = [](double score, double w, double h) {
    return json::array({{{"label", "cat"}, {"score", score}, {"box", {0, 0, w, h}}}});
  };
  // Photos of 0 x 0 recorded size: the share is taken against the photo's area, so give them one.
  auto add_sized = [&](const std::string& name, const json& result) {
    int64_t id = add(name, "2020-01-01", "objects", result);
    return id;
  };
  int64_t small_unsure = add_sized("a.jpg", obj(0.35, 10, 10));
  int64_t big_sure = add_sized("b.jpg", obj(0.95, 400, 300));
  int64_t mid = add_sized("c.jpg", obj(0.9, 20, 20));
  auto labels = make_label_signal();
  auto hits = search_library(*store, "cat", 50, {labels.get()});
  ASSERT_EQ(hits.size(), 3u);
  // Without a photo size the share counts as none: the detection's score orders them.
  EXPECT_EQ(hits[0].photo_id, big_sure);
  EXPECT_EQ(hits[2].photo_id, small_unsure);
  EXPECT_EQ(hits[1].photo_id, mid);
  EXPECT_GT(hits[0].score, hits[1].score);
  EXPECT_GT(hits[1].score, hits[2].score);
  EXPECT_EQ(hits[0].matched, std::vector<std::string>{"label: cat 0.95"});
  // The share of the photo matters: the same score on a box covering the photo ranks above a tiny one.
  catalog::LabelHit whole{1, 0.9, 100.0 * 100.0, 100.0 * 100.0}, tiny{2, 0.9, 1.0, 100.0 * 100.0};
  EXPECT_DOUBLE_EQ(label_relevance(whole), 0.9);
  EXPECT_NEAR(label_relevance(tiny), 0.9 * (0.5 + 0.5 * 0.01), 1e-9);
  EXPECT_DOUBLE_EQ(label_relevance({3, std::nullopt, std::nullopt, 1.0}), 0.5);
}

class FixedSignal : public Signal {
 public:
  std::string name() const override { return "fixed"; }
  std::vector<SearchHit> find(catalog::Store&, const std::string& q, size_t) override {
    if (q != "plugged") return {};
    return {{7, 1.0, {"fixed: yes"}}};
  }
};

TEST_F(SearchTest, ALaterSignalPlugsIn) {
  FixedSignal fixed;
  auto hits = search_library(*store, "plugged", 50, {&fixed});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].photo_id, 7);
  EXPECT_EQ(hits[0].matched, std::vector<std::string>{"fixed: yes"});
}

}  // namespace
}  // namespace dr::search
