// darkroom retry: puts failed and/or dead jobs back in the queue.
#include "app/library_ops.h"
#include "cli/library.h"

namespace dr::cli {

void register_retry(CLI::App& app, Globals& g) {
  struct Args {
    bool failed = false, dead = false;
    std::vector<std::string> photos;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("retry", "queue failed (--failed) and/or dead (--dead) jobs again; both by default");
  cmd->add_flag("--failed", a->failed, "jobs that failed for good (not an image, missing file, ...)");
  cmd->add_flag("--dead", a->dead, "jobs that ran out of attempts");
  cmd->add_option("photos", a->photos, "only these photos (paths or ids)");
  cmd->callback([&g, a] {
    auto s = open_session(g, true);
    std::vector<int64_t> ids;
    for (const auto& p : a->photos) ids.push_back(app::resolve_photo(s->store(), p));
    int n = app::retry(*s, a->failed, a->dead, ids);
    if (g.json)
      print_json_line({{"queued", n}});
    else
      std::printf("%d jobs queued again%s\n", n, n ? "; run `darkroom work --until-idle`" : "");
  });
}

}  // namespace dr::cli
