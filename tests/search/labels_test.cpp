#include "search/labels.h"

#include <gtest/gtest.h>

namespace dr::search {
namespace {

std::vector<std::string> labels(std::string_view q) {
  std::vector<std::string> out;
  for (auto& m : labels_in_query(q)) out.push_back(m.label);
  return out;
}

TEST(Labels, PluralsAndSynonymsFindTheCocoLabel) {
  EXPECT_EQ(labels("cat"), std::vector<std::string>{"cat"});
  EXPECT_EQ(labels("cats"), std::vector<std::string>{"cat"});
  EXPECT_EQ(labels("Kitten"), std::vector<std::string>{"cat"});
  EXPECT_EQ(labels("kittens"), std::vector<std::string>{"cat"});
  EXPECT_EQ(labels("kitties"), std::vector<std::string>{"cat"});
  EXPECT_EQ(labels("puppies"), std::vector<std::string>{"dog"});
  EXPECT_EQ(labels("people"), std::vector<std::string>{"person"});
  EXPECT_EQ(labels("women"), std::vector<std::string>{"person"});
  EXPECT_EQ(labels("mugs"), std::vector<std::string>{"cup"});
  EXPECT_EQ(labels("buses"), std::vector<std::string>{"bus"});
  EXPECT_EQ(labels("knives"), std::vector<std::string>{"knife"});
  EXPECT_EQ(labels("couches"), std::vector<std::string>{"couch"});
  EXPECT_EQ(labels("sofas"), std::vector<std::string>{"couch"});
  EXPECT_EQ(labels("motorbikes"), std::vector<std::string>{"motorcycle"});
  EXPECT_EQ(labels("a football"), std::vector<std::string>{"sports ball"});
}

TEST(Labels, TwoWordNamesBeforeSingleWords) {
  EXPECT_EQ(labels("hot dogs"), std::vector<std::string>{"hot dog"});
  EXPECT_EQ(labels("hot-dog"), std::vector<std::string>{"hot dog"});
  EXPECT_EQ(labels("teddy bears"), std::vector<std::string>{"teddy bear"});
  EXPECT_EQ(labels("a bear"), std::vector<std::string>{"bear"});
  EXPECT_EQ(labels("cell phones and laptops"), (std::vector<std::string>{"cell phone", "laptop"}));
}

TEST(Labels, SeveralLabelsInQueryOrderOnceEach) {
  auto m = labels_in_query("Dogs chasing a cat, two dogs!");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].label, "dog");
  EXPECT_EQ(m[0].words, "dogs");
  EXPECT_EQ(m[1].label, "cat");
}

TEST(Labels, NothingForOtherWords) {
  EXPECT_TRUE(labels("sunset over the sea").empty());
  EXPECT_TRUE(labels("").empty());
  EXPECT_TRUE(labels("   !!! ").empty());
  EXPECT_TRUE(labels("glasses").size() == 1);  // wine glass (the only glass COCO has)
  EXPECT_TRUE(labels("class").empty());        // "-ss" is not a plural
}

TEST(Labels, SingularCandidates) {
  auto c = singular_candidates("puppies");
  EXPECT_NE(std::find(c.begin(), c.end(), "puppy"), c.end());
  c = singular_candidates("boxes");
  EXPECT_NE(std::find(c.begin(), c.end(), "box"), c.end());
  EXPECT_EQ(singular_candidates("glass").size(), 1u);
}

}  // namespace
}  // namespace dr::search
