// darkroom search QUERY: words in photos, object labels, people's names, file names and dates, ranked.
#include "cli/library.h"
#include "search/library_search.h"

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
    auto lib = open_library(g);
    auto store = open_catalog(lib, false);
    std::string q;
    for (const auto& w : a->words) q += (q.empty() ? "" : " ") + w;
    std::vector<search::SearchHit> hits;
    try {
      hits = search::search_library(*store, q, a->limit);
    } catch (const std::invalid_argument& e) {
      throw UserError(e.what());
    }
    nlohmann::json results = nlohmann::json::array();
    for (const auto& h : hits) {
      auto p = store->photo(h.photo_id);
      if (!p || p->missing()) continue;
      results.push_back({{"path", p->path()}, {"id", h.photo_id}, {"score", h.score}, {"matched", h.matched}});
    }
    if (g.json) {
      print_json_line({{"query", q}, {"results", results}});
      return;
    }
    if (results.empty()) std::printf("nothing found for \"%s\"\n", q.c_str());
    for (const auto& r : results) {
      std::string matched;
      for (const auto& m : r["matched"]) matched += (matched.empty() ? "" : " | ") + m.get<std::string>();
      std::printf("%.2f  %s  (%s)\n", r["score"].get<double>(), r["path"].get<std::string>().c_str(), matched.c_str());
    }
  });
}

}  // namespace dr::cli
