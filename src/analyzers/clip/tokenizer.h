// CLIP's text tokenizer, written here from the published merges file (bpe_simple_vocab_16e6.txt.gz):
//   1. clean: a subset of ftfy's fixes (curly quotes straightened, full-width ASCII and Latin ligatures expanded,
//      canonical composition of base + combining pairs), HTML entities unescaped twice, white space collapsed to one
//      space and trimmed, lower case;
//   2. split by CLIP's pattern  <|startoftext|> | <|endoftext|> | 's | 't | 're | 've | 'm | 'll | 'd | \p{L}+ |
//      \p{N} | [^\s\p{L}\p{N}]+  (first alternative that matches, scanning left to right, white space skipped);
//   3. each piece's UTF-8 bytes mapped to printable characters (GPT-2's byte-to-unicode table) and merged by BPE,
//      lowest merge rank first, the last symbol marked end-of-word ("</w>");
//   4. ids: the 256 byte symbols, the same with "</w>" (256..511), then one id per merge (512 + its line),
//      49406 start of text, 49407 end of text; context 77 padded with 0.
// The same tokenizer also loads from a Hugging Face tokenizer.json (what OpenCLIP / Immich model folders ship in
// textual/): its "model" is a byte-level BPE with the "</w>" suffix, and the ids come from its vocabulary instead of
// the layout above.
// What is approximate (and only matters for unusual text): ftfy's mojibake repair is not done; HTML unescaping
// knows the numeric forms and a few dozen named entities, not all of HTML5's; Unicode categories, lower-casing and
// composition are Python's unicodedata tables (see unicode.h), without reordering of combining marks.
#pragma once
#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dr::analyzers::clip {

class Tokenizer {
 public:
  static constexpr int kStart = 49406, kEnd = 49407;
  static constexpr size_t kContext = 77;

  // Reads the gzip'd merges file (throws std::runtime_error naming the file when it is missing or malformed).
  static Tokenizer from_gzip(const std::string& path);
  // From the merges file's text: a header line, then "left right" lines; the first `merge_count` are used
  // (CLIP's vocabulary: 49152 - 256 - 2 = 48894).
  static Tokenizer from_merges(std::string_view text, size_t merge_count = 48894);
  // From a Hugging Face tokenizer.json: model.type "BPE" with end_of_word_suffix "</w>", model.vocab (symbol -> id)
  // and model.merges ("left right" strings, or [left, right] pairs as newer files write them); the start and end
  // ids from added_tokens or the vocabulary. Throws std::runtime_error saying what is missing or unsupported.
  static Tokenizer from_hf_json(const nlohmann::json& j);
  static Tokenizer from_hf_json_file(const std::string& path);

  // Step 1 only.
  static std::string clean(std::string_view text);
  // Step 2 on cleaned text.
  static std::vector<std::string> split(std::string_view cleaned);
  // Steps 1 to 4 without start and end tokens.
  std::vector<int32_t> encode(std::string_view text) const;

  struct Tokens {
    std::vector<int64_t> ids;  // exactly `context` ids: start, text, end, then 0s
    size_t length = 0;         // ids before the padding, start and end included
    bool truncated = false;    // the text had more than context - 2 tokens; its end was cut (the end token kept)
  };
  Tokens tokenize(std::string_view text, size_t context = kContext) const;

  // The vocabulary string of an id ("cat</w>", "<|startoftext|>"); "" when out of range.
  std::string token_text(int32_t id) const;
  // Text back from ids (start, end and padding dropped); for messages and checks.
  std::string decode(const std::vector<int32_t>& ids) const;
  size_t vocab_size() const { return vocab_.size(); }
  int32_t start_id() const { return start_; }
  int32_t end_id() const { return end_; }

 private:
  std::vector<int32_t> bpe(std::string_view piece) const;

  size_t merge_count_ = 0;
  int32_t start_ = kStart, end_ = kEnd;
  std::array<int32_t, 256> byte_id_{}, byte_end_id_{};  // a byte's symbol alone, and as the end of a word
  std::vector<int32_t> merged_id_;                      // merge rank -> the id of the symbol it makes
  std::unordered_map<uint64_t, int32_t> ranks_;         // (left id << 32 | right id) -> merge rank
  std::vector<std::string> vocab_;                      // id -> symbol string (byte-encoded UTF-8)
  std::unordered_map<std::string, int32_t> ids_;        // symbol string -> id
};

}  // namespace dr::analyzers::clip
