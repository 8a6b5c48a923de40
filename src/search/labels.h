// Object labels in a search query: plurals and common synonyms lead to COCO's label names ("cats", "kitten" ->
// cat; "people" -> person; "mugs" -> cup; "hot dogs" -> hot dog), through a table written here and English
// plural rules (no lexical database needed).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace dr::search {

struct LabelMatch {
  std::string label;  // a COCO label, as the objects task writes it
  std::string words;  // the query's words that asked for it ("kittens")
};

// In query order, each label once. Case and punctuation do not matter; two-word names ("teddy bear") are matched
// before single words.
std::vector<LabelMatch> labels_in_query(std::string_view query);

// The singular candidates of an English word, the word itself first ("puppies" -> puppies, puppie, puppy, ...).
std::vector<std::string> singular_candidates(const std::string& word);

}  // namespace dr::search
