// darkroom models list | verify | install [ID...]
#include "app/models.h"

#include <iostream>

#include "cli/cli.h"

namespace dr::cli {
namespace {

std::vector<const runtime::ModelEntry*> selected(const runtime::ModelStore& store, const std::vector<std::string>& ids,
                                                 bool defaults_only) {
  std::vector<const runtime::ModelEntry*> out;
  if (ids.empty()) {
    for (auto& e : store.manifest().entries())
      if (!defaults_only || e.default_install) out.push_back(&e);
    return out;
  }
  for (auto& id : ids) {
    auto e = store.manifest().find(id);
    if (!e) throw UserError("unknown model '" + id + "'; `darkroom models list` shows the known ones");
    out.push_back(e);
  }
  return out;
}

}  // namespace

void register_models(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("models", "list, verify and install models (--models DIR, the model cache)");
  cmd->require_subcommand(0, 1);

  auto* list = cmd->add_subcommand("list", "every model darkroom knows and whether it is installed");
  auto list_run = [&g] {
    auto store = model_store(g);
    nlohmann::json all = nlohmann::json::array();
    for (auto& e : store.manifest().entries()) all.push_back(app::model_json(store, e));
    if (g.json) {
      print_json_line({{"models_dir", store.dir()}, {"models", all}});
      return;
    }
    std::printf("model cache: %s\n", store.dir().c_str());
    for (auto& m : all)
      std::printf("  %-38s %-8s %-11s %-10s %s\n", m["id"].get<std::string>().c_str(),
                  m["task"].get<std::string>().c_str(), m["role"].get<std::string>().c_str(),
                  m["installed"].get<bool>() ? "installed" : "-", m["default"].get<bool>() ? "" : "(optional)");
  };
  list->callback(list_run);
  cmd->callback([cmd, list_run] {
    if (cmd->get_subcommands().empty()) list_run();
  });

  auto ids_verify = std::make_shared<std::vector<std::string>>();
  auto* verify = cmd->add_subcommand("verify", "check the sha256 of installed models (and that defaults are there)");
  verify->add_option("ids", *ids_verify, "model ids (default: every default model and every installed one)");
  verify->callback([&g, ids_verify] {
    auto store = model_store(g);
    nlohmann::json out = nlohmann::json::array();
    bool bad = false;
    for (auto* e : selected(store, *ids_verify, false)) {
      auto j = app::model_json(store, *e);
      bool any_present = false;
      for (auto& f : j["files"]) any_present = any_present || f["status"] != "missing";
      if (ids_verify->empty() && !e->default_install && !any_present) continue;  // optional and absent: fine
      for (auto& f : j["files"]) {
        if (f["status"] == "ok") continue;
        bad = true;
        std::string what = f["status"] == "missing" ? "is missing" : "is corrupt (wrong sha256)";
        f["error"] = "model file " + f["path"].get<std::string>() + " (" + e->id + ") " + what + "; expected sha256 " +
                     f["sha256"].get<std::string>() + "; install it with: darkroom --models " + store.dir() +
                     " models install " + e->id;
      }
      out.push_back(j);
    }
    if (g.json) {
      print_json_line({{"models_dir", store.dir()}, {"ok", !bad}, {"models", out}});
    } else {
      for (auto& m : out)
        for (auto& f : m["files"])
          std::printf(
              "%-8s %s  %s\n", f["status"].get<std::string>().c_str(), m["id"].get<std::string>().c_str(),
              f.contains("error") ? f["error"].get<std::string>().c_str() : f["path"].get<std::string>().c_str());
    }
    g.exit_code = bad ? 1 : 0;
  });

  struct InstallArgs {
    std::vector<std::string> ids, from;
  };
  auto ia = std::make_shared<InstallArgs>();
  auto* install = cmd->add_subcommand("install", "install models into the cache (default: every default model)");
  install->add_option("ids", ia->ids, "model ids");
  install->add_option("--from", ia->from, "a local folder to take files from before downloading (repeatable)");
  install->callback([&g, ia] {
    auto store = model_store(g);
    bool bad = false;
    nlohmann::json out = nlohmann::json::array();
    for (auto* e : selected(store, ia->ids, true)) {
      try {
        auto lines = store.install(*e, ia->from);
        out.push_back({{"id", e->id}, {"ok", true}, {"files", lines}});
        if (!g.json)
          for (auto& l : lines) std::printf("%s: %s\n", e->id.c_str(), l.c_str());
      } catch (const runtime::ModelError& ex) {
        bad = true;
        out.push_back({{"id", e->id}, {"ok", false}, {"error", ex.what()}});
        if (!g.json) std::fprintf(stderr, "darkroom: %s\n", ex.what());
      }
    }
    if (g.json) print_json_line({{"models_dir", store.dir()}, {"models", out}});
    g.exit_code = bad ? 1 : 0;
  });
}

}  // namespace dr::cli
