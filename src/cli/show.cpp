// darkroom show PHOTO: everything the library knows about one photo, results under `analyze`'s keys.
#include "app/photos.h"
#include "cli/library.h"

namespace dr::cli {

void register_show(CLI::App& app, Globals& g) {
  struct Args {
    std::string photo;
    bool embeddings = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("show", "everything the library knows about one photo (a path or an id)");
  cmd->add_option("photo", a->photo, "a path or a photo id")->required();
  cmd->add_flag("--embeddings", a->embeddings, "include embedding vectors");
  cmd->callback([&g, a] {
    auto s = open_session(g, false);
    auto j = app::photo_json(s->store(), app::resolve_photo(s->store(), a->photo), a->embeddings);
    if (g.json) {
      print_json_line(j);
      return;
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  });
}

}  // namespace dr::cli
