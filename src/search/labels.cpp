#include "search/labels.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace dr::search {
namespace {

// Each COCO label with the words people use for it (singular forms; plurals come from the rules below).
struct Synonyms {
  const char* label;
  std::vector<const char*> words;
};

const std::vector<Synonyms>& table() {
  static const std::vector<Synonyms> t = {
      {"person",
       {"person", "people", "man", "woman", "child", "kid", "boy", "girl", "human", "guy", "lady", "baby", "adult",
        "pedestrian", "player", "persons"}},
      {"bicycle", {"bicycle", "bike", "cycle"}},
      {"car", {"car", "automobile", "sedan", "hatchback"}},
      {"motorcycle", {"motorcycle", "motorbike", "moped", "scooter"}},
      {"airplane", {"airplane", "aeroplane", "plane", "jet", "aircraft", "airliner"}},
      {"bus", {"bus", "coach", "minibus"}},
      {"train", {"train", "locomotive", "tram"}},
      {"truck", {"truck", "lorry", "pickup"}},
      {"boat", {"boat", "ship", "sailboat", "yacht", "canoe", "kayak", "ferry"}},
      {"traffic light", {"traffic light", "stoplight", "traffic signal"}},
      {"fire hydrant", {"fire hydrant", "hydrant"}},
      {"stop sign", {"stop sign"}},
      {"parking meter", {"parking meter"}},
      {"bench", {"bench"}},
      {"bird", {"bird", "pigeon", "sparrow", "seagull", "gull", "duck", "parrot", "crow", "goose"}},
      {"cat", {"cat", "kitten", "kitty", "feline", "pussycat", "moggy"}},
      {"dog", {"dog", "puppy", "pup", "doggy", "doggie", "hound", "canine"}},
      {"horse", {"horse", "pony", "foal", "stallion", "mare"}},
      {"sheep", {"sheep", "lamb", "ewe"}},
      {"cow", {"cow", "cattle", "bull", "calf", "ox"}},
      {"elephant", {"elephant"}},
      {"bear", {"bear"}},
      {"zebra", {"zebra"}},
      {"giraffe", {"giraffe"}},
      {"backpack", {"backpack", "rucksack", "knapsack"}},
      {"umbrella", {"umbrella", "parasol"}},
      {"handbag", {"handbag", "purse", "bag"}},
      {"tie", {"tie", "necktie"}},
      {"suitcase", {"suitcase", "luggage"}},
      {"frisbee", {"frisbee"}},
      {"skis", {"ski", "skis"}},
      {"snowboard", {"snowboard"}},
      {"sports ball", {"sports ball", "ball", "football", "soccer ball", "basketball", "volleyball", "tennis ball"}},
      {"kite", {"kite"}},
      {"baseball bat", {"baseball bat", "bat"}},
      {"baseball glove", {"baseball glove", "mitt"}},
      {"skateboard", {"skateboard"}},
      {"surfboard", {"surfboard"}},
      {"tennis racket", {"tennis racket", "racket", "racquet"}},
      {"bottle", {"bottle"}},
      {"wine glass", {"wine glass", "wineglass", "glass"}},
      {"cup", {"cup", "mug", "teacup", "coffee cup"}},
      {"fork", {"fork"}},
      {"knife", {"knife"}},
      {"spoon", {"spoon"}},
      {"bowl", {"bowl"}},
      {"banana", {"banana"}},
      {"apple", {"apple"}},
      {"sandwich", {"sandwich"}},
      {"orange", {"orange"}},
      {"broccoli", {"broccoli"}},
      {"carrot", {"carrot"}},
      {"hot dog", {"hot dog", "hotdog"}},
      {"pizza", {"pizza"}},
      {"donut", {"donut", "doughnut"}},
      {"cake", {"cake", "cupcake"}},
      {"chair", {"chair"}},
      {"couch", {"couch", "sofa", "settee"}},
      {"potted plant", {"potted plant", "plant", "houseplant"}},
      {"bed", {"bed"}},
      {"dining table", {"dining table", "table"}},
      {"toilet", {"toilet", "loo"}},
      {"tv", {"tv", "television", "telly", "tv set"}},
      {"laptop", {"laptop", "notebook computer"}},
      {"mouse", {"mouse"}},
      {"remote", {"remote", "remote control"}},
      {"keyboard", {"keyboard"}},
      {"cell phone", {"cell phone", "cellphone", "phone", "mobile phone", "smartphone", "mobile"}},
      {"microwave", {"microwave"}},
      {"oven", {"oven"}},
      {"toaster", {"toaster"}},
      {"sink", {"sink"}},
      {"refrigerator", {"refrigerator", "fridge"}},
      {"book", {"book"}},
      {"clock", {"clock"}},
      {"vase", {"vase"}},
      {"scissors", {"scissors"}},
      {"teddy bear", {"teddy bear", "teddy", "stuffed animal"}},
      {"hair drier", {"hair drier", "hair dryer", "hairdryer", "blow dryer"}},
      {"toothbrush", {"toothbrush"}},
  };
  return t;
}

const std::unordered_map<std::string, std::string>& by_word() {
  static const std::unordered_map<std::string, std::string> m = [] {
    std::unordered_map<std::string, std::string> out;
    for (auto& s : table())
      for (const char* w : s.words) out.emplace(w, s.label);
    return out;
  }();
  return m;
}

// Irregular English plurals of the words above.
const std::unordered_map<std::string, std::string>& irregular() {
  static const std::unordered_map<std::string, std::string> m = {
      {"men", "man"},     {"women", "woman"},   {"children", "child"}, {"mice", "mouse"},    {"knives", "knife"},
      {"geese", "goose"}, {"calves", "calf"},   {"oxen", "ox"},        {"people", "person"}, {"ponies", "pony"},
      {"babies", "baby"}, {"ladies", "lady"},   {"guys", "guy"},       {"hooves", "hoof"},   {"teeth", "tooth"},
      {"loaves", "loaf"}, {"scarves", "scarf"}, {"kitties", "kitty"},  {"puppies", "puppy"}};
  return m;
}

std::string lower_word(std::string_view w) {
  std::string s;
  for (char c : w) s.push_back(char(std::tolower(static_cast<unsigned char>(c))));
  return s;
}

std::vector<std::string> words_of(std::string_view q) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : q) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      cur.push_back(c == '-' ? ' ' : c);
    } else if (!cur.empty()) {
      out.push_back(lower_word(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(lower_word(cur));
  // "hot-dog" became "hot dog": split again.
  std::vector<std::string> split;
  for (auto& w : out) {
    size_t start = 0, sp;
    while ((sp = w.find(' ', start)) != std::string::npos) {
      if (sp > start) split.push_back(w.substr(start, sp - start));
      start = sp + 1;
    }
    if (start < w.size()) split.push_back(w.substr(start));
  }
  return split;
}

const std::string* lookup(const std::string& phrase) {
  // The last word of a phrase carries the plural: "hot dogs", "teddy bears".
  size_t sp = phrase.rfind(' ');
  std::string head = sp == std::string::npos ? "" : phrase.substr(0, sp + 1);
  std::string last = sp == std::string::npos ? phrase : phrase.substr(sp + 1);
  for (auto& cand : singular_candidates(last)) {
    auto it = by_word().find(head + cand);
    if (it != by_word().end()) return &it->second;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> singular_candidates(const std::string& w) {
  std::vector<std::string> c = {w};
  auto ends = [&](const char* s) {
    size_t n = std::char_traits<char>::length(s);
    return w.size() > n && w.compare(w.size() - n, n, s) == 0;
  };
  if (auto it = irregular().find(w); it != irregular().end()) c.push_back(it->second);
  if (ends("ies")) c.push_back(w.substr(0, w.size() - 3) + "y");
  if (ends("ves")) {
    c.push_back(w.substr(0, w.size() - 3) + "f");
    c.push_back(w.substr(0, w.size() - 3) + "fe");
  }
  if (ends("es")) c.push_back(w.substr(0, w.size() - 2));
  if (ends("s") && !ends("ss")) c.push_back(w.substr(0, w.size() - 1));
  return c;
}

std::vector<LabelMatch> labels_in_query(std::string_view query) {
  auto words = words_of(query);
  std::vector<LabelMatch> out;
  auto add = [&](const std::string& label, const std::string& words_used) {
    if (std::none_of(out.begin(), out.end(), [&](const LabelMatch& m) { return m.label == label; }))
      out.push_back({label, words_used});
  };
  for (size_t i = 0; i < words.size();) {
    if (i + 1 < words.size()) {
      std::string two = words[i] + " " + words[i + 1];
      if (const std::string* label = lookup(two)) {
        add(*label, two);
        i += 2;
        continue;
      }
    }
    if (const std::string* label = lookup(words[i])) add(*label, words[i]);
    ++i;
  }
  return out;
}

}  // namespace dr::search
