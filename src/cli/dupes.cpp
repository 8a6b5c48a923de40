// darkroom dupes: groups of photos that are the same picture. Byte-identical files are one photo catalogued at
// several paths; near-duplicates (re-encoded, resized, rotated, mirrored) are found from the stored PDQ hashes.
#include "cli/library.h"
#include "search/near_duplicates.h"

namespace dr::cli {
namespace {

struct Group {
  std::vector<std::string> photos;  // paths
  int max_distance = 0;
  std::string kind;  // "identical" or "similar"
};

std::vector<Group> find_groups(catalog::Store& store, int distance, size_t* skipped, size_t* hashed) {
  std::vector<Group> out;
  // Byte-identical copies: the same content at several current paths.
  for (auto id : store.photo_ids()) {
    auto p = store.photo(id);
    if (p && p->paths.size() > 1) out.push_back({p->paths, 0, "identical"});
  }
  std::vector<search::HashEntry> entries;
  for (const auto& [id, r] : store.results_of_task("pdq")) {
    if (!r.is_object() || !r.contains("hash") || !r["hash"].is_string()) continue;
    auto h = pdq::Hash256::from_hex(r["hash"].get<std::string>());
    if (!h) continue;
    entries.push_back({id, *h, r.value("quality", 0)});
  }
  *hashed = entries.size();
  search::DupeOptions opts;
  opts.max_distance = distance;
  auto res = search::find_duplicate_groups(entries, opts);
  *skipped = res.skipped_low_quality;
  for (const auto& g : res.groups) {
    Group grp{{}, g.max_distance, "similar"};
    for (auto id : g.ids) {
      auto p = store.photo(id);
      if (p && !p->missing()) grp.photos.push_back(p->path());
    }
    if (grp.photos.size() > 1) out.push_back(std::move(grp));
  }
  return out;
}

}  // namespace

void register_dupes(CLI::App& app, Globals& g) {
  auto distance = std::make_shared<int>(31);
  auto* cmd = app.add_subcommand("dupes", "groups of duplicate photos: identical files and PDQ near-duplicates");
  cmd->add_option("--distance", *distance, "largest PDQ Hamming distance of a match (0..256, default 31)")
      ->check(CLI::Range(0, 256));
  cmd->callback([&g, distance] {
    auto lib = open_library(g);
    auto store = open_catalog(lib, false);
    size_t skipped = 0, hashed = 0;
    auto groups = find_groups(*store, *distance, &skipped, &hashed);
    if (g.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& grp : groups)
        j.push_back({{"photos", grp.photos}, {"max_distance", grp.max_distance}, {"kind", grp.kind}});
      print_json_line({{"groups", j}, {"hashed", hashed}, {"skipped_low_quality", skipped}});
      return;
    }
    if (groups.empty())
      std::printf("no duplicates among %zu hashed photos%s\n", hashed,
                  hashed ? "" : " (run `darkroom add --tasks pdq` and `darkroom work` first)");
    for (const auto& grp : groups) {
      std::printf("%s (distance <= %d):\n", grp.kind == "identical" ? "identical files" : "similar photos",
                  grp.max_distance);
      for (const auto& p : grp.photos) std::printf("  %s\n", p.c_str());
    }
    if (skipped) std::printf("%zu photos have too little detail for a reliable PDQ hash and were left out\n", skipped);
  });
}

}  // namespace dr::cli
