// darkroom search QUERY: words in photos, object labels, people's names, file names and dates, ranked.
#include "app/search.h"

#include "cli/library.h"

namespace dr::cli {

void register_search(CLI::App& app, Globals& g) {
  struct Args {
    std::vector<std::string> words;
    size_t limit = 50;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("search", "find photos by the words in them, labels, names, file names, dates");
  cmd->add_option("query", a->words, "words, \"a phrase\", pre* (prefix), or a date: 2019, 2019-07")->required();
  cmd->add_option("--limit", a->limit, "at most this many results (default 50)");
  cmd->callback([&g, a] {
    auto s = open_session(g, false);
    std::string q;
    for (const auto& w : a->words) q += (q.empty() ? "" : " ") + w;
    auto r = s->search().search(q, a->limit);
    if (g.json) {
      print_json_line(r.to_json());
      return;
    }
    if (r.results.empty()) std::printf("nothing found for \"%s\"\n", q.c_str());
    for (const auto& h : r.results) {
      std::string matched;
      for (const auto& m : h.matched) matched += (matched.empty() ? "" : " | ") + m;
      std::printf("%.2f  %s  (%s)\n", h.score, h.photo.path.c_str(), matched.c_str());
    }
  });
}

}  // namespace dr::cli
