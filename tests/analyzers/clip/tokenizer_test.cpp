#include "analyzers/clip/tokenizer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyzers/clip/unicode.h"

namespace dr::analyzers::clip {
namespace {

const std::string kVocab = std::string(DARKROOM_TEST_MODELS_DIR) + "/clip/bpe_simple_vocab_16e6.txt.gz";

const Tokenizer& tok() {
  static const Tokenizer t = Tokenizer::from_gzip(kVocab);
  return t;
}

std::string merges_text() {
  gzFile f = gzopen(kVocab.c_str(), "rb");
  std::string s;
  char buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) s.append(buf, size_t(n));
  gzclose(f);
  return s;
}

TEST(ClipTokenizer, KnownFactAPhotoOfACat) {
  auto t = tok().tokenize("a photo of a cat");
  std::vector<int64_t> head(t.ids.begin(), t.ids.begin() + 7);
  EXPECT_EQ(head, (std::vector<int64_t>{49406, 320, 1125, 539, 320, 2368, 49407}));
  EXPECT_EQ(t.ids.size(), 77u);
  EXPECT_EQ(t.length, 7u);
  EXPECT_FALSE(t.truncated);
  for (size_t k = 7; k < 77; ++k) EXPECT_EQ(t.ids[k], 0) << k;
}

// A whole-word id read straight from the merges file: the merge whose two halves make the word (plus "</w>") is
// on line L (the header is line 0), so its id is 512 + L - 1. This does not use the BPE algorithm at all.
TEST(ClipTokenizer, WordIdsAgreeWithTheMergesFileLines) {
  std::string text = merges_text();
  auto id_of = [&](const std::string& word) {
    size_t pos = text.find('\n') + 1;
    for (int line = 1; pos < text.size(); ++line) {
      size_t end = text.find('\n', pos);
      std::string l = text.substr(pos, end - pos);
      size_t sp = l.find(' ');
      if (l.substr(0, sp) + l.substr(sp + 1) == word) return 512 + line - 1;
      pos = end + 1;
    }
    return -1;
  };
  for (std::string w : {"photo", "cat", "sunset", "beach", "kitten", "motorcycle"}) {
    int expected = id_of(w + "</w>");
    ASSERT_GT(expected, 511) << w;
    EXPECT_EQ(tok().encode(w), std::vector<int32_t>{expected}) << w;
  }
}

// Expected ids below were derived twice: by this tokenizer and by a separate, string-keyed Python transcription
// of CLIP's published algorithm (OpenAI's simple_tokenizer: byte-to-unicode table, merges ranked by line,
// \p{L}/\p{N} from unicodedata); both give these numbers. Comments show the vocabulary strings.
TEST(ClipTokenizer, Punctuation) {
  // hello</w> ,</w> world</w> !!</w>  ("!!" is one [^\s\p{L}\p{N}]+ piece)
  EXPECT_EQ(tok().encode("Hello, World!!"), (std::vector<int32_t>{3306, 267, 1002, 748}));
  // " hi " ' yo ' and U+263A from numeric and named entities
  EXPECT_EQ(tok().encode("&quot;hi&quot; &#39;yo&#39; &#x263A;"),
            (std::vector<int32_t>{257, 1883, 257, 262, 3497, 262, 8703}));
}

TEST(ClipTokenizer, DigitsAreSingleTokens) {
  // 3 . 1 4 1 5 9 , 4 2 nd !
  EXPECT_EQ(tok().encode("3.14159, 42nd!"),
            (std::vector<int32_t>{274, 269, 272, 275, 272, 276, 280, 267, 275, 273, 1764, 256}));
  // it 's 2 0 2 4 — (U+2014 as bytes e2 80 94 -> "âĢĶ</w>") 3 . 1 4
  EXPECT_EQ(tok().encode("it's 2024 \u2014 3.14"),
            (std::vector<int32_t>{585, 568, 273, 271, 273, 275, 2005, 274, 269, 272, 275}));
}

TEST(ClipTokenizer, Contractions) {
  EXPECT_EQ(tok().encode("I'm we'll they've she'd"),
            (std::vector<int32_t>{328, 880, 649, 1342, 889, 1200, 1043, 1896}));
  // A curly apostrophe is straightened first (ftfy), so it splits the same way: don 't
  EXPECT_EQ(tok().encode("don\u2019t"), (std::vector<int32_t>{847, 713}));
}

TEST(ClipTokenizer, Accents) {
  // cafÃ©</w> cr Ã¨ me</w>
  EXPECT_EQ(tok().encode("café crème"), (std::vector<int32_t>{15304, 1075, 12138, 614}));
  // Upper-case accented letters are lowered: Ã¼ n Ã¯ c Ã¶ d Ã©</w> Ã© cole</w>
  EXPECT_EQ(tok().encode("Ünïcödé ÉCOLE"), (std::vector<int32_t>{6522, 77, 35689, 66, 7255, 67, 4166, 3459, 8166}));
  // e + COMBINING ACUTE composes to é before tokenising.
  EXPECT_EQ(tok().encode("e\u0301cole"), tok().encode("école"));
  EXPECT_EQ(tok().encode("école"), (std::vector<int32_t>{3459, 8166}));
}

TEST(ClipTokenizer, EmojiAndNonLatin) {
  EXPECT_EQ(tok().encode("🐱 cat"), (std::vector<int32_t>{22979, 2368}));  // ðŁĲ±</w> cat</w>
  // thumbs up, skin tone modifier, thumbs up: one symbol piece of 12 bytes
  EXPECT_EQ(tok().encode("👍🏽👍"), (std::vector<int32_t>{4686, 8514, 4201}));
  EXPECT_EQ(tok().encode("北京 Москва"),
            (std::vector<int32_t>{161, 234, 245, 21078, 361, 38018, 13506, 23669, 27152, 39813, 27080}));
  EXPECT_EQ(tok().encode("こんにちは世界"),
            (std::vector<int32_t>{4813, 241, 3909, 241, 4813, 104, 4813, 94, 4813, 107, 19759, 244, 163, 243, 490}));
  // Every id decodes back to the text (lower-cased).
  EXPECT_EQ(tok().decode(tok().encode("北京 Москва 🐱")), "北京 москва 🐱");
}

TEST(ClipTokenizer, CleaningCollapsesWhitespaceAndFixesWidthAndLigatures) {
  EXPECT_EQ(Tokenizer::clean("  lots \t of\n\u00a0space  "), "lots of space");
  EXPECT_EQ(Tokenizer::clean("\uFB01sh \uFF21\uFF22\uFF23"), "fish abc");
  EXPECT_EQ(Tokenizer::clean("Tom &amp;amp; Jerry"), "tom & jerry");  // unescaped twice, as CLIP does
  EXPECT_EQ(tok().encode("  lots \t of\n space "), tok().encode("lots of space"));
}

TEST(ClipTokenizer, EmptyAndWhitespaceGiveOnlyStartAndEnd) {
  for (std::string s : {"", "   ", "\t\n"}) {
    auto t = tok().tokenize(s);
    EXPECT_EQ(t.length, 2u);
    EXPECT_EQ(t.ids[0], 49406);
    EXPECT_EQ(t.ids[1], 49407);
    EXPECT_EQ(t.ids[2], 0);
  }
}

TEST(ClipTokenizer, LongTextIsTruncatedKeepingTheEndToken) {
  std::string s;
  for (int i = 0; i < 100; ++i) s += "cat ";
  auto t = tok().tokenize(s);
  EXPECT_TRUE(t.truncated);
  EXPECT_EQ(t.length, 77u);
  EXPECT_EQ(t.ids[0], 49406);
  for (size_t k = 1; k < 76; ++k) EXPECT_EQ(t.ids[k], 2368);
  EXPECT_EQ(t.ids[76], 49407);
  EXPECT_FALSE(tok().tokenize("cat cat").truncated);
}

TEST(ClipTokenizer, InvalidUtf8BecomesReplacementCharacters) {
  auto cps = unicode::decode_utf8("a\xff\xc3");
  EXPECT_EQ(cps, (std::u32string{U'a', 0xFFFD, 0xFFFD}));
  EXPECT_EQ(tok().encode("bad\xff\xfe"
                         "bytes"),
            (std::vector<int32_t>{2103, 47356, 39802, 39538}));
}

TEST(ClipTokenizer, SpecialTokenTextMapsToTheSpecialIds) {
  EXPECT_EQ(tok().encode("<|endoftext|>x"), (std::vector<int32_t>{49407, 343}));
}

TEST(ClipTokenizer, MalformedMergesAreRefused) {
  EXPECT_THROW(Tokenizer::from_merges("#version\nab\n", 1), std::runtime_error);    // not two symbols
  EXPECT_THROW(Tokenizer::from_merges("#version\nxy z\n", 1), std::runtime_error);  // "xy" was never made
  EXPECT_THROW(Tokenizer::from_merges("#version\na b\n", 2), std::runtime_error);   // too few
  EXPECT_THROW(Tokenizer::from_gzip("/nonexistent/vocab.txt.gz"), std::runtime_error);
  auto t = Tokenizer::from_merges("#version\na b\nab c</w>\n", 2);
  EXPECT_EQ(t.encode("abc"), std::vector<int32_t>{513});  // merge 2 -> id 512 + 1
  EXPECT_EQ(t.vocab_size(), 516u);
  // The special ids follow the merges (found by the fuzzing campaign: they were CLIP's 49406/49407, outside this
  // vocabulary; fuzz/regressions/tokenizer_fuzz/merges-fewer-than-clip.txt).
  EXPECT_EQ(t.start_id(), 514);
  EXPECT_EQ(t.end_id(), 515);
  auto ids = t.tokenize("abc ab", 8);
  EXPECT_EQ(ids.ids[0], 514);
  EXPECT_EQ(ids.ids[ids.length - 1], 515);
  for (size_t k = 0; k < ids.length; ++k) EXPECT_LT(size_t(ids.ids[k]), t.vocab_size());
}

// A Hugging Face tokenizer.json written from the merges file (as the public CLIP exports ship it), with the merges
// in one of the two formats tokenizers writes: "left right" strings or [left, right] pairs.
nlohmann::json hf_json_from_merges(bool pairs) {
  nlohmann::json vocab = nlohmann::json::object();
  for (size_t id = 0; id < tok().vocab_size(); ++id) vocab[tok().token_text(int32_t(id))] = id;
  nlohmann::json merges = nlohmann::json::array();
  std::string text = merges_text();
  size_t pos = text.find('\n') + 1;
  for (int n = 0; n < 48894; ++n) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t sp = line.find(' ');
    if (pairs)
      merges.push_back({line.substr(0, sp), line.substr(sp + 1)});
    else
      merges.push_back(line);
  }
  return {{"model", {{"type", "BPE"}, {"end_of_word_suffix", "</w>"}, {"vocab", vocab}, {"merges", merges}}},
          {"added_tokens",
           {{{"id", 49406}, {"content", "<|startoftext|>"}}, {{"id", 49407}, {"content", "<|endoftext|>"}}}}};
}

TEST(ClipTokenizer, HuggingFaceJsonGivesTheSameIdsAsTheMergesFile) {
  const std::vector<std::string> texts = {"a photo of a cat",     "Sunset over the BEACH!!",
                                          "it's 2024, isn't it?", "café crème brûlée",
                                          "東京の夜景",           "🐱 kitten 😺",
                                          "&amp; 3.14159 m²",     ""};
  for (bool pairs : {false, true}) {
    Tokenizer hf = Tokenizer::from_hf_json(hf_json_from_merges(pairs));
    EXPECT_EQ(hf.start_id(), 49406);
    EXPECT_EQ(hf.end_id(), 49407);
    EXPECT_EQ(hf.vocab_size(), tok().vocab_size());
    for (auto& t : texts) EXPECT_EQ(hf.tokenize(t).ids, tok().tokenize(t).ids) << t << (pairs ? " (pairs)" : "");
  }
}

// The ids come from the file, not from CLIP's layout: bytes at 1000 + their CLIP id, three merges at ids of the
// file's choosing, start and end at 3 and 4.
TEST(ClipTokenizer, HuggingFaceJsonIdsComeFromTheFile) {
  nlohmann::json vocab = nlohmann::json::object();
  for (int32_t id = 0; id < 512; ++id) vocab[tok().token_text(id)] = 1000 + id;
  vocab["ab"] = 7;
  vocab["abc</w>"] = 5;
  vocab["xy"] = 9;  // in the vocabulary but made by no merge
  nlohmann::json j = {
      {"model", {{"type", "BPE"}, {"end_of_word_suffix", "</w>"}, {"vocab", vocab}, {"merges", {"a b", "ab c</w>"}}}},
      {"added_tokens", {{{"id", 3}, {"content", "<|startoftext|>"}}, {{"id", 4}, {"content", "<|endoftext|>"}}}}};
  Tokenizer t = Tokenizer::from_hf_json(j);
  EXPECT_EQ(t.encode("abc"), std::vector<int32_t>{5});
  // "ab" ends the word: (a, b</w>) is not the pair (a, b), so nothing merges.
  EXPECT_EQ(t.encode("ab"), (std::vector<int32_t>{1000 + tok().encode("a")[0] - 256, 1000 + tok().encode("b")[0]}));
  auto ids = t.tokenize("abc", 5).ids;
  EXPECT_EQ(ids, (std::vector<int64_t>{3, 5, 4, 0, 0}));
  EXPECT_EQ(t.decode({3, 5, 4}), "abc");
}

TEST(ClipTokenizer, HuggingFaceJsonThatIsNotClipBpeIsRefused) {
  nlohmann::json good = hf_json_from_merges(false);
  auto refused = [](nlohmann::json j, const std::string& why) {
    try {
      Tokenizer::from_hf_json(j);
      ADD_FAILURE() << "accepted: " << why;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  auto j = good;
  j["model"]["type"] = "WordPiece";
  refused(j, "WordPiece");
  j = good;
  j["model"].erase("end_of_word_suffix");
  refused(j, "</w>");
  j = good;
  j["model"]["merges"].push_back("zq zq");  // "zqzq" is in no vocabulary
  refused(j, "merge 48895");
  j = good;
  j["model"]["merges"][0] = 17;
  refused(j, "merge 1 is neither");
  j = good;
  j["model"]["vocab"].erase("a</w>");
  refused(j, "'a</w>' is not in the vocabulary");
  j = good;
  j["model"]["end_of_word_suffix"] = nullptr;
  refused(j, "</w>");
  j = good;
  j["added_tokens"][0]["id"] = 2'000'000'000;  // would size the tables at gigabytes
  refused(j, "added token");
  refused(nlohmann::json::array(), "no \"model\"");
}

TEST(ClipUnicode, Categories) {
  EXPECT_TRUE(unicode::is_letter(U'é'));
  EXPECT_TRUE(unicode::is_letter(U'ж'));
  EXPECT_TRUE(unicode::is_letter(U'世'));
  EXPECT_FALSE(unicode::is_letter(U'5'));
  EXPECT_FALSE(unicode::is_letter(0x1F431));  // 🐱
  EXPECT_TRUE(unicode::is_number(U'٣'));      // Arabic-Indic three
  EXPECT_TRUE(unicode::is_number(U'½'));
  EXPECT_TRUE(unicode::is_space(0x3000));
  EXPECT_EQ(unicode::compose(U'e', 0x301), U'é');
  EXPECT_EQ(unicode::compose(U'x', 0x301), 0u);
}

}  // namespace
}  // namespace dr::analyzers::clip
