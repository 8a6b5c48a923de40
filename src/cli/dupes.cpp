// darkroom dupes: groups of photos that are the same picture (identical files and PDQ near-duplicates), and
// `dupes dismiss` for a group that is not.
#include "app/dupes.h"

#include "cli/library.h"

namespace dr::cli {

void register_dupes(CLI::App& app, Globals& g) {
  auto distance = std::make_shared<int>(31);
  auto* cmd = app.add_subcommand("dupes", "groups of duplicate photos: identical files and PDQ near-duplicates");
  cmd->add_option("--distance", *distance, "largest PDQ Hamming distance of a match (0..256, default 31)")
      ->check(CLI::Range(0, 256));
  cmd->require_subcommand(0, 1);

  auto photos = std::make_shared<std::vector<std::string>>();
  auto* dismiss = cmd->add_subcommand("dismiss", "these photos are not duplicates: keep them apart from now on");
  dismiss->add_option("photos", *photos, "two or more photos (paths or ids), or a group's key (12-40-41)")->required();
  dismiss->callback([&g, photos] {
    auto s = open_session(g, true);
    std::vector<int64_t> ids;
    for (const auto& p : *photos) {
      if (p.find('-') != std::string::npos && p.find_first_not_of("0123456789-") == std::string::npos) {
        for (auto id : app::parse_group_key(p)) ids.push_back(id);
      } else {
        ids.push_back(app::resolve_photo(s->store(), p));
      }
    }
    app::dismiss_duplicates(s->store(), ids);
    if (g.json)
      print_json_line({{"dismissed", ids}});
    else
      std::printf("%zu photos will not be grouped as duplicates of each other again\n", ids.size());
  });

  cmd->callback([&g, cmd, distance] {
    if (!cmd->get_subcommands().empty()) return;
    auto s = open_session(g, false);
    auto r = s->dupes().find(s->store(), *distance);
    if (g.json) {
      print_json_line(r.to_json());
      return;
    }
    if (r.groups.empty())
      std::printf("no duplicates among %zu hashed photos%s\n", r.hashed,
                  r.hashed ? "" : " (run `darkroom add --tasks pdq` and `darkroom work` first)");
    for (const auto& grp : r.groups) {
      std::printf("%s (distance <= %d):\n", grp.kind == "identical" ? "identical files" : "similar photos",
                  grp.max_distance);
      for (const auto& p : grp.paths) std::printf("  %s\n", p.c_str());
    }
    if (r.skipped_low_quality)
      std::printf("%zu photos have too little detail for a reliable PDQ hash and were left out\n",
                  r.skipped_low_quality);
  });
}

}  // namespace dr::cli
