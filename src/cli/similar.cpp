// darkroom similar PHOTO [--json] [--limit N]: the photos whose CLIP embeddings are nearest to PHOTO's.
// This file also adds the object-label and CLIP signals to `search` (search/object_search.h).
#include <cstdio>

#include "cli/library.h"
#include "search/object_search.h"

namespace dr::cli {

void register_similar(CLI::App& app, Globals& g) {
  // Signals are made when a search runs, after the options are parsed: g is filled by then.
  search::register_signal([] { return search::make_label_signal(); });
  search::register_signal([&g] { return search::make_clip_signal(models_dir(g), runtime_options(g)); });

  struct Args {
    std::string photo;
    size_t limit = 20;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("similar", "photos that look like PHOTO (CLIP embeddings; needs a CLIP model)");
  cmd->add_option("photo", a->photo, "a catalogued photo: its path or its id")->required();
  cmd->add_option("--limit", a->limit, "at most this many results (default 20)");
  cmd->callback([&g, a] {
    auto lib = open_library(g);
    auto store = open_catalog(lib, false);
    int64_t id = resolve_photo(*store, a->photo);
    std::vector<search::SearchHit> hits;
    try {
      hits = search::similar_photos(*store, id, a->limit);
    } catch (const std::runtime_error& e) {
      throw UserError(e.what());
    }
    auto self = store->photo(id);
    nlohmann::json results = nlohmann::json::array();
    for (const auto& h : hits) {
      auto p = store->photo(h.photo_id);
      if (!p || p->missing()) continue;
      results.push_back({{"path", p->path()}, {"id", h.photo_id}, {"score", h.score}});
    }
    if (g.json) {
      print_json_line({{"photo", self ? self->path() : a->photo}, {"id", id}, {"results", results}});
      return;
    }
    if (results.empty()) std::printf("no other photo has a CLIP embedding yet\n");
    for (const auto& r : results)
      std::printf("%.2f  %s\n", r["score"].get<double>(), r["path"].get<std::string>().c_str());
  });
}

}  // namespace dr::cli
