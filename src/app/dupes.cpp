#include "app/dupes.h"

#include <algorithm>
#include <set>

#include "app/photos.h"

namespace dr::app {

nlohmann::json DupeReport::to_json() const {
  nlohmann::json g = nlohmann::json::array();
  for (const auto& grp : groups) {
    nlohmann::json members = nlohmann::json::array();
    for (const auto& m : grp.members) {
      auto j = summary_json(m.photo);
      j["distance"] = m.distance;
      members.push_back(j);
    }
    g.push_back({{"photos", grp.paths},
                 {"max_distance", grp.max_distance},
                 {"kind", grp.kind},
                 {"key", grp.key},
                 {"members", members}});
  }
  return {{"groups", g}, {"hashed", hashed}, {"skipped_low_quality", skipped_low_quality}};
}

DupeReport DupeCache::find(catalog::Store& store, int distance) {
  if (distance < 0 || distance > 256)
    throw Error(Error::BadInput, "the distance " + std::to_string(distance) + " is not between 0 and 256");
  DupeReport rep;
  // Byte-identical copies: the same content at several current paths.
  for (auto id : store.photos_with_copies()) {
    auto p = store.photo(id);
    auto s = p ? summary_of(*p) : std::nullopt;
    if (!s || p->paths.size() < 2) continue;
    rep.groups.push_back({std::to_string(id), "identical", 0, {{*s, 0}}, p->paths});
  }
  std::vector<search::DupePair> pairs;
  {
    std::lock_guard lock(mu_);
    auto stamp = store.task_stamp("pdq");
    if (!(stamp == stamp_) || distance != distance_) {
      std::vector<search::HashEntry> entries;
      for (const auto& [id, r] : store.results_of_task("pdq")) {
        if (!r.is_object() || !r.contains("hash") || !r["hash"].is_string()) continue;
        auto h = pdq::Hash256::from_hex(r["hash"].get<std::string>());
        if (!h) continue;
        entries.push_back({id, *h, r.value("quality", 0)});
      }
      search::DupeOptions opts;
      opts.max_distance = distance;
      pairs_ = search::find_duplicate_pairs(entries, opts, &skipped_);
      hashed_ = entries.size();
      stamp_ = stamp;
      distance_ = distance;
    }
    pairs = pairs_;
    rep.hashed = hashed_;
    rep.skipped_low_quality = skipped_;
  }
  // What the user said are not duplicates is dropped before grouping, so a group splits where they said so.
  auto dismissed = store.dismissed_pairs();
  std::set<std::pair<int64_t, int64_t>> apart(dismissed.begin(), dismissed.end());
  std::erase_if(pairs, [&](const search::DupePair& p) { return apart.count({p.a, p.b}) > 0; });
  for (const auto& g : search::group_pairs(pairs)) {
    DupeGroupView v;
    v.kind = "similar";
    v.max_distance = g.max_distance;
    for (auto id : g.ids) {
      auto p = store.photo(id);
      auto s = p ? summary_of(*p) : std::nullopt;
      if (!s) continue;
      int nearest = 256;
      for (const auto& pr : g.pairs)
        if (pr.a == id || pr.b == id) nearest = std::min(nearest, pr.distance);
      v.members.push_back({*s, nearest});
      v.paths.push_back(s->path);
      v.key += (v.key.empty() ? "" : "-") + std::to_string(id);
    }
    if (v.members.size() > 1) rep.groups.push_back(std::move(v));
  }
  return rep;
}

std::vector<int64_t> parse_group_key(const std::string& key) {
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= key.size() && ids.size() <= 10000) {
    auto dash = key.find('-', start);
    std::string part = key.substr(start, dash == std::string::npos ? std::string::npos : dash - start);
    ids.push_back(parse_id("the photo", part));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  return ids;
}

void dismiss_duplicates(catalog::Store& store, const std::vector<int64_t>& photo_ids) {
  std::set<int64_t> ids(photo_ids.begin(), photo_ids.end());
  if (ids.size() < 2) throw Error(Error::BadInput, "give two photos or more that are not duplicates of each other");
  for (auto id : ids)
    if (!store.photo(id)) throw Error(Error::NotFound, "photo " + std::to_string(id) + " is not in the library");
  store.dismiss_duplicates({ids.begin(), ids.end()});
}

}  // namespace dr::app
