// `dupes`: groups of photos that are the same picture. Byte-identical files are one photo catalogued at several
// paths; near-duplicates (re-encoded, resized, rotated, mirrored) come from the stored PDQ hashes. Pairs the user
// marked "not duplicates" are kept apart. The PDQ pairs are the costly part (about 1 s at 10,000 photos); a
// DupeCache keeps them until the catalog's PDQ results change.
#pragma once
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/session.h"
#include "search/near_duplicates.h"

namespace dr::app {

struct DupeMember {
  catalog::PhotoSummary photo;
  int distance = 0;  // to the nearest other member of its group (0 for identical files)
};

struct DupeGroupView {
  std::string key;   // the member ids joined by '-': what "not duplicates" is asked of
  std::string kind;  // "identical" or "similar"
  int max_distance = 0;
  std::vector<DupeMember> members;  // by id; a member with every path missing is left out
  std::vector<std::string> paths;   // identical: the paths of the one photo; similar: each member's path
};

struct DupeReport {
  std::vector<DupeGroupView> groups;
  size_t hashed = 0, skipped_low_quality = 0;
  // {"groups": [{"photos": [paths], "max_distance", "kind", "key", "members": [summary + "distance"]}],
  //  "hashed", "skipped_low_quality"}
  nlohmann::json to_json() const;
};

class DupeCache {
 public:
  // Error::BadInput for a distance outside 0..256.
  DupeReport find(catalog::Store& store, int distance);

 private:
  std::mutex mu_;
  catalog::TaskStamp stamp_;
  int distance_ = -1;
  std::vector<search::DupePair> pairs_;
  size_t hashed_ = 0, skipped_ = 0;
};

// "Not duplicates": the photos of a group (ids or a group key) stay apart from now on. Error::BadInput for fewer
// than two photos, NotFound for an unknown id.
void dismiss_duplicates(catalog::Store& store, const std::vector<int64_t>& photo_ids);
// A group key ("12-40-41") as ids; Error::BadInput when malformed.
std::vector<int64_t> parse_group_key(const std::string& key);

}  // namespace dr::app
