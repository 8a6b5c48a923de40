// The little of Unicode that CLIP's tokenizer needs: UTF-8 decoding and encoding, the general categories L
// (letters) and N (numbers), white space, simple lower-casing and canonical composition of pairs. The tables are
// generated from Python's unicodedata by scripts/gen_unicode_tables.py (the version is in tables::kVersion).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace dr::analyzers::clip::unicode {

// Decodes UTF-8; an invalid or truncated sequence becomes U+FFFD for each bad byte (as Python's
// errors="replace" does), so any byte string can be tokenised.
std::u32string decode_utf8(std::string_view s);
void append_utf8(std::string& out, char32_t cp);
std::string encode_utf8(std::u32string_view s);

bool is_letter(char32_t cp);  // \p{L}
bool is_number(char32_t cp);  // \p{N}
bool is_space(char32_t cp);   // Python's str.isspace()
// Python's str.lower() for one code point (U+0130 becomes "i\u0307", the one two-code-point case).
void append_lower(std::u32string& out, char32_t cp);
// The canonical composite of (a, b), or 0 when there is none.
char32_t compose(char32_t a, char32_t b);

namespace tables {
struct Range {
  char32_t first, last;
};
struct Pair {
  char32_t from, to;
};
struct Triple {
  char32_t a, b, composed;
};
extern const char* const kVersion;
extern const Range kLetters[];
extern const size_t kLettersCount;
extern const Range kNumbers[];
extern const size_t kNumbersCount;
extern const char32_t kSpaces[];
extern const size_t kSpacesCount;
extern const Pair kLower[];
extern const size_t kLowerCount;
extern const Triple kCompose[];
extern const size_t kComposeCount;
}  // namespace tables

}  // namespace dr::analyzers::clip::unicode
