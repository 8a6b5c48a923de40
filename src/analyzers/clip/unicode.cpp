#include "analyzers/clip/unicode.h"

#include <algorithm>

namespace dr::analyzers::clip::unicode {
namespace {

bool in_ranges(const tables::Range* r, size_t n, char32_t cp) {
  auto it = std::upper_bound(r, r + n, cp, [](char32_t c, const tables::Range& x) { return c < x.first; });
  return it != r && cp <= (it - 1)->last;
}

}  // namespace

std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
               (cp >= 0xD800 && cp <= 0xDFFF)))
      ok = false;
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t cp : s) append_utf8(out, cp);
  return out;
}

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return in_ranges(tables::kLetters, tables::kLettersCount, cp);
}

bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(tables::kNumbers, tables::kNumbersCount, cp);
}

bool is_space(char32_t cp) { return std::binary_search(tables::kSpaces, tables::kSpaces + tables::kSpacesCount, cp); }

void append_lower(std::u32string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    return;
  }
  if (cp == 0x130) {  // LATIN CAPITAL LETTER I WITH DOT ABOVE lower-cases to i + COMBINING DOT ABOVE
    out.push_back(U'i');
    out.push_back(0x307);
    return;
  }
  auto end = tables::kLower + tables::kLowerCount;
  auto it = std::lower_bound(tables::kLower, end, cp, [](const tables::Pair& p, char32_t c) { return p.from < c; });
  out.push_back(it != end && it->from == cp ? it->to : cp);
}

char32_t compose(char32_t a, char32_t b) {
  auto end = tables::kCompose + tables::kComposeCount;
  auto it = std::lower_bound(tables::kCompose, end, std::pair{a, b},
                             [](const tables::Triple& t, std::pair<char32_t, char32_t> k) {
                               return t.a != k.first ? t.a < k.first : t.b < k.second;
                             });
  return it != end && it->a == a && it->b == b ? it->composed : 0;
}

}  // namespace dr::analyzers::clip::unicode
