// darkroom token create | list | revoke: the tokens `darkroom serve` accepts when authentication is on. A token is
// shown once, when it is made; the library keeps only its sha256.
#include <ctime>

#include "cli/library.h"
#include "server/access.h"

namespace dr::cli {

void register_token(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("token", "API tokens for `darkroom serve`: create, list, revoke");
  cmd->require_subcommand(1);

  auto name = std::make_shared<std::string>();
  auto* create = cmd->add_subcommand("create", "make a token (printed once; only its hash is kept)");
  create->add_option("--name", *name, "what the token is for (a phone, a script)");
  create->callback([&g, name] {
    auto s = open_session(g, true);
    std::string token = server::Access::new_token();
    int64_t id = s->store().add_token(*name, server::Access::hash_token(token));
    if (g.json) {
      print_json_line({{"id", id}, {"name", *name}, {"token", token}});
      return;
    }
    std::printf("%s\n", token.c_str());
    std::fprintf(stderr,
                 "darkroom: token %lld made; it is shown only now: keep it. Send it as \"Authorization: Bearer "
                 "TOKEN\" or paste it into the page's sign-in.\n",
                 (long long)id);
  });

  auto* list = cmd->add_subcommand("list", "the tokens (ids, names, when made; never the tokens themselves)");
  list->callback([&g] {
    auto s = open_session(g, false);
    auto rows = s->store().tokens();
    if (g.json) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& t : rows) arr.push_back({{"id", t.id}, {"name", t.name}, {"created_ms", t.created_ms}});
      print_json_line({{"tokens", arr}});
      return;
    }
    if (rows.empty()) std::printf("no tokens; `darkroom token create` makes one\n");
    for (const auto& t : rows) {
      std::time_t secs = std::time_t(t.created_ms / 1000);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", std::localtime(&secs));
      std::printf("%lld  %s  %s\n", (long long)t.id, when, t.name.empty() ? "(no name)" : t.name.c_str());
    }
  });

  auto id = std::make_shared<std::string>();
  auto* revoke = cmd->add_subcommand("revoke", "revoke a token: requests with it (and its sign-ins) are refused");
  revoke->add_option("id", *id, "the token's id (`darkroom token list`)")->required();
  revoke->callback([&g, id] {
    auto s = open_session(g, true);
    int64_t n = app::parse_id("the token", *id);
    if (!s->store().revoke_token(n)) throw UserError("there is no token " + *id + "; `darkroom token list` shows them");
    if (g.json)
      print_json_line({{"revoked", n}});
    else
      std::printf("token %lld revoked\n", (long long)n);
  });
}

}  // namespace dr::cli
