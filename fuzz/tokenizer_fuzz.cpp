// libFuzzer over CLIP's tokenizer (analyzers/clip/tokenizer.h): the files it loads, which come with a user's model
// folder (a Hugging Face tokenizer.json, or a merges file), and the text it is given (search queries, from the
// command line and the HTTP API). The first byte chooses what the rest is:
//   0: a tokenizer.json, loaded, then used on a few texts;
//   1: a merges file ("#version" line, then "left right" lines), loaded, then used;
//   2: a text, tokenised with CLIP's own vocabulary (bpe_simple_vocab_16e6.txt.gz from $DARKROOM_MODELS/clip when
//      installed, else a small vocabulary made here).
// Findings: a crash, a sanitizer report, a hang or unbounded memory; a load failure that is not std::runtime_error;
// token ids that are not `context` long, start and end with the start and end ids, or name no vocabulary entry.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "analyzers/clip/tokenizer.h"

namespace {

using dr::analyzers::clip::Tokenizer;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "tokenizer_fuzz: %s\n", why.c_str());
  std::abort();
}

const Tokenizer& clip_vocabulary() {
  static const std::unique_ptr<Tokenizer> t = [] {
    const char* models = std::getenv("DARKROOM_MODELS");
    std::string gz = std::string(models ? models : "") + "/clip/bpe_simple_vocab_16e6.txt.gz";
    if (models && std::filesystem::exists(gz)) return std::make_unique<Tokenizer>(Tokenizer::from_gzip(gz));
    std::fprintf(stderr, "tokenizer_fuzz: %s is not there; using a small vocabulary\n", gz.c_str());
    return std::make_unique<Tokenizer>(Tokenizer::from_merges("#version: 0.2\nt h\nth e</w>\na t</w>\nc at</w>\n", 4));
  }();
  return *t;
}

void use(const Tokenizer& t, std::string_view text, size_t context) {
  auto tokens = t.tokenize(text, context);
  if (tokens.ids.size() != context || tokens.length < 2 || tokens.length > context) fail("ids of the wrong length");
  if (tokens.ids[0] != t.start_id() || tokens.ids[tokens.length - 1] != t.end_id()) fail("no start or end id");
  std::vector<int32_t> ids;
  for (size_t k = 0; k < tokens.length; ++k) {
    if (tokens.ids[k] < 0 || size_t(tokens.ids[k]) >= t.vocab_size()) fail("an id outside the vocabulary");
    ids.push_back(int32_t(tokens.ids[k]));
  }
  (void)t.decode(ids);
}

void use_loaded(const Tokenizer& t) {
  for (const char* text : {"a photo of a cat", "Café Crème &amp; <|endoftext|> don't ２０１９", ""})
    use(t, text, text[0] ? 77 : 2);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto j = nlohmann::json::parse(rest, nullptr, false);
      if (j.is_discarded()) return 0;
      try {
        use_loaded(Tokenizer::from_hf_json(j));
      } catch (const std::runtime_error&) {
      }
      break;
    }
    case 1: {
      size_t lines = 0;
      for (char c : rest) lines += c == '\n';
      try {
        use_loaded(Tokenizer::from_merges(rest, lines));
      } catch (const std::runtime_error&) {
      }
      break;
    }
    default:
      use(clip_vocabulary(), rest, 77);
      break;
  }
  return 0;
}
