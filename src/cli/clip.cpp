// darkroom clip tokens [--json] [--pad] TEXT...: CLIP's token ids for a text, as the text encoder receives them.
#include <iostream>

#include "analyzers/clip/clip_task.h"
#include "cli/cli.h"

namespace dr::cli {
namespace {

struct TokensArgs {
  std::vector<std::string> words;
  bool pad = false;
};

void run_tokens(Globals& g, const TokensArgs& a) {
  std::string text;
  for (auto& w : a.words) text += (text.empty() ? "" : " ") + w;
  auto store = model_store(g);
  auto tok = analyzers::clip::load_tokenizer(store);
  auto t = tok->tokenize(text);
  std::vector<int64_t> ids(t.ids.begin(), t.ids.begin() + std::ptrdiff_t(a.pad ? t.ids.size() : t.length));
  if (t.truncated)
    std::cerr << "darkroom: the text is longer than CLIP's context of " << analyzers::clip::Tokenizer::kContext
              << " tokens; it was cut after " << t.length - 2 << " tokens\n";
  if (g.json) {
    print_json_line({{"ids", ids}, {"truncated", t.truncated}, {"context", t.ids.size()}});
    return;
  }
  std::string line;
  for (auto id : ids) line += (line.empty() ? "" : " ") + std::to_string(id);
  std::cout << line << "\n";
}

}  // namespace

void register_clip(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("clip", "CLIP tools: `clip tokens TEXT` shows the token ids of a text");
  cmd->require_subcommand(1);
  cmd->fallthrough();
  auto a = std::make_shared<TokensArgs>();
  auto* tokens = cmd->add_subcommand(
      "tokens", "print CLIP's token ids for TEXT (start 49406, the text's tokens, end 49407; --pad: all 77)");
  tokens->fallthrough();
  tokens->add_flag("--pad", a->pad, "print the whole context, padded with 0");
  tokens->add_option("text", a->words, "the text (several words are joined with spaces)")->required();
  tokens->callback([&g, a] { run_tokens(g, *a); });
}

}  // namespace dr::cli
