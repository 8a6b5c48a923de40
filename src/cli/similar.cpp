// darkroom similar PHOTO [--json] [--limit N]: the photos whose CLIP embeddings are nearest to PHOTO's.
#include <cstdio>

#include "app/search.h"
#include "cli/library.h"

namespace dr::cli {

void register_similar(CLI::App& app, Globals& g) {
  struct Args {
    std::string photo;
    size_t limit = 20;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("similar", "photos that look like PHOTO (CLIP embeddings; needs a CLIP model)");
  cmd->add_option("photo", a->photo, "a catalogued photo: its path or its id")->required();
  cmd->add_option("--limit", a->limit, "at most this many results (default 20)");
  cmd->callback([&g, a] {
    auto s = open_session(g, false);
    auto r = s->search().similar(app::resolve_photo(s->store(), a->photo), a->limit);
    if (g.json) {
      print_json_line(r.to_json());
      return;
    }
    if (r.results.empty()) std::printf("no other photo has a CLIP embedding yet\n");
    for (const auto& h : r.results) std::printf("%.2f  %s\n", h.score, h.photo.path.c_str());
  });
}

}  // namespace dr::cli
