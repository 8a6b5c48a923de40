#include "analyzers/clip/tokenizer.h"

#include <zlib.h>

#include <array>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "analyzers/clip/unicode.h"

namespace dr::analyzers::clip {
namespace {

using unicode::append_utf8;

// GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for themselves, the others get U+0100 onwards. The
// order of the list (printable ones first) is the order of the first 256 ids.
struct ByteTable {
  std::array<char32_t, 256> cp{};  // byte -> code point
  std::array<int32_t, 256> id{};   // byte -> vocabulary id (0..255)
  ByteTable() {
    int next_id = 0;
    auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
    for (int b = 0; b < 256; ++b)
      if (printable(b)) {
        cp[b] = char32_t(b);
        id[b] = next_id++;
      }
    int extra = 0;
    for (int b = 0; b < 256; ++b)
      if (!printable(b)) {
        cp[b] = char32_t(256 + extra++);
        id[b] = next_id++;
      }
  }
};
const ByteTable& bytes() {
  static const ByteTable t;
  return t;
}

constexpr std::u32string_view kStartText = U"<|startoftext|>";
constexpr std::u32string_view kEndText = U"<|endoftext|>";

struct Entity {
  const char32_t* name;
  char32_t cp;
};
// The named entities unescaped (HTML5 has about 2,200; these are the ones photo captions and queries use).
constexpr Entity kEntities[] = {
    {U"amp", U'&'},     {U"lt", U'<'},      {U"gt", U'>'},      {U"quot", U'"'},    {U"apos", U'\''},
    {U"nbsp", 0xA0},    {U"copy", 0xA9},    {U"reg", 0xAE},     {U"trade", 0x2122}, {U"hellip", 0x2026},
    {U"mdash", 0x2014}, {U"ndash", 0x2013}, {U"lsquo", 0x2018}, {U"rsquo", 0x2019}, {U"ldquo", 0x201C},
    {U"rdquo", 0x201D}, {U"laquo", 0xAB},   {U"raquo", 0xBB},   {U"deg", 0xB0},     {U"euro", 0x20AC},
    {U"pound", 0xA3},   {U"yen", 0xA5},     {U"cent", 0xA2},    {U"sect", 0xA7},    {U"middot", 0xB7},
    {U"times", 0xD7},   {U"divide", 0xF7},  {U"eacute", 0xE9},  {U"egrave", 0xE8},  {U"ecirc", 0xEA},
    {U"agrave", 0xE0},  {U"aacute", 0xE1},  {U"acirc", 0xE2},   {U"auml", 0xE4},    {U"ouml", 0xF6},
    {U"uuml", 0xFC},    {U"Auml", 0xC4},    {U"Ouml", 0xD6},    {U"Uuml", 0xDC},    {U"szlig", 0xDF},
    {U"ccedil", 0xE7},  {U"ntilde", 0xF1},  {U"oacute", 0xF3},  {U"iacute", 0xED},  {U"uacute", 0xFA},
};

bool is_digit(char32_t c, bool hex) {
  return (c >= '0' && c <= '9') || (hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'));
}

// &name; and &#N; / &#xH; (the semicolon optional after numbers and the legacy names amp, lt, gt, quot, nbsp,
// copy, reg, as browsers and Python's html.unescape accept them).
std::u32string unescape(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] != U'&') {
      out.push_back(s[i++]);
      continue;
    }
    if (i + 2 < s.size() && s[i + 1] == U'#') {
      bool hex = s[i + 2] == U'x' || s[i + 2] == U'X';
      size_t j = i + 2 + (hex ? 1 : 0), start = j;
      uint64_t v = 0;
      while (j < s.size() && is_digit(s[j], hex) && j - start < 10) {
        char32_t c = s[j] | 0x20;
        v = v * (hex ? 16 : 10) + (c <= '9' ? c - '0' : c - 'a' + 10);
        ++j;
      }
      if (j > start) {
        if (j < s.size() && s[j] == U';') ++j;
        out.push_back(v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) ? char32_t(0xFFFD) : char32_t(v));
        i = j;
        continue;
      }
    }
    bool done = false;
    for (auto& e : kEntities) {
      std::u32string_view name(e.name);
      if (s.substr(i + 1, name.size()) != name) continue;
      size_t end = i + 1 + name.size();
      bool semi = end < s.size() && s[end] == U';';
      bool legacy = name == U"amp" || name == U"lt" || name == U"gt" || name == U"quot" || name == U"nbsp" ||
                    name == U"copy" || name == U"reg";
      if (!semi && !legacy) continue;
      out.push_back(e.cp);
      i = end + (semi ? 1 : 0);
      done = true;
      break;
    }
    if (!done) out.push_back(s[i++]);
  }
  return out;
}

// The subset of ftfy.fix_text that CLIP's cleaning relies on for ordinary text.
std::u32string ftfy_subset(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  auto put = [&](char32_t c) {
    if (!out.empty())
      if (char32_t comp = unicode::compose(out.back(), c)) {
        out.back() = comp;
        return;
      }
    out.push_back(c);
  };
  for (char32_t c : s) {
    if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B)) {
      put(U'\'');
    } else if (c >= 0x201C && c <= 0x201F) {
      put(U'"');
    } else if (c >= 0xFF01 && c <= 0xFF5E) {
      put(c - 0xFEE0);  // full-width ASCII
    } else if (c == 0x3000) {
      put(U' ');
    } else if (c >= 0xFB00 && c <= 0xFB06) {
      static const char32_t* lig[] = {U"ff", U"fi", U"fl", U"ffi", U"ffl", U"\u017ft", U"st"};
      for (const char32_t* p = lig[c - 0xFB00]; *p; ++p) put(*p);
    } else if (c == 0x132 || c == 0x133) {
      put(c == 0x132 ? U'I' : U'i');
      put(c == 0x132 ? U'J' : U'j');
    } else {
      put(c);
    }
  }
  return out;
}

}  // namespace

Tokenizer Tokenizer::from_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open the CLIP vocabulary " + path);
  std::string text;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, size_t(n));
  int err = 0;
  const char* msg = gzerror(f, &err);
  std::string why = err < 0 ? std::string(msg) : std::string();
  gzclose(f);
  if (n < 0 || err < 0) throw std::runtime_error("cannot read the CLIP vocabulary " + path + " (" + why + ")");
  try {
    return from_merges(text);
  } catch (const std::exception& e) {
    throw std::runtime_error("the CLIP vocabulary " + path + " is malformed: " + e.what());
  }
}

Tokenizer Tokenizer::from_merges(std::string_view text, size_t merge_count) {
  Tokenizer t;
  t.vocab_.resize(512);
  const auto& bt = bytes();
  for (int b = 0; b < 256; ++b) {
    std::string sym;
    append_utf8(sym, bt.cp[b]);
    t.vocab_[bt.id[b]] = sym;
    t.vocab_[bt.id[b] + 256] = sym + "</w>";
  }
  for (int32_t i = 0; i < 512; ++i) t.ids_.emplace(t.vocab_[i], i);
  for (int b = 0; b < 256; ++b) {
    t.byte_id_[b] = bt.id[b];
    t.byte_end_id_[b] = bt.id[b] + 256;
  }
  size_t pos = text.find('\n');  // the first line is a header ("#version: 0.2")
  if (pos == std::string_view::npos) throw std::runtime_error("no merges after the header line");
  ++pos;
  while (t.merge_count_ < merge_count && pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos || sp == 0 || sp + 1 >= line.size())
      throw std::runtime_error("merge " + std::to_string(t.merge_count_ + 1) + " is not two symbols: '" +
                               std::string(line) + "'");
    auto a = t.ids_.find(std::string(line.substr(0, sp)));
    auto b = t.ids_.find(std::string(line.substr(sp + 1)));
    if (a == t.ids_.end() || b == t.ids_.end())
      throw std::runtime_error("merge " + std::to_string(t.merge_count_ + 1) + " ('" + std::string(line) +
                               "') uses a symbol no earlier line made");
    const int32_t rank = int32_t(t.merge_count_);
    t.ranks_.emplace(uint64_t(uint32_t(a->second)) << 32 | uint32_t(b->second), rank);
    std::string merged = std::string(line.substr(0, sp)) + std::string(line.substr(sp + 1));
    t.vocab_.push_back(merged);
    t.ids_.emplace(std::move(merged), 512 + rank);
    t.merged_id_.push_back(512 + rank);
    ++t.merge_count_;
  }
  if (t.merge_count_ < merge_count)
    throw std::runtime_error("it holds " + std::to_string(t.merge_count_) + " merges; " + std::to_string(merge_count) +
                             " expected");
  // The special tokens follow the merges: 49406 and 49407 with CLIP's 48,894 merges, and inside the vocabulary
  // with any other count (the 10-minute fuzzing campaign found ids 49406/49407 kept for a file of a few merges).
  t.start_ = int32_t(t.vocab_.size());
  t.vocab_.emplace_back("<|startoftext|>");
  t.end_ = int32_t(t.vocab_.size());
  t.vocab_.emplace_back("<|endoftext|>");
  return t;
}

Tokenizer Tokenizer::from_hf_json(const nlohmann::json& j) {
  constexpr int64_t kMaxId = 10'000'000;  // far above any BPE vocabulary; keeps a bad file from sizing tables
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    throw std::runtime_error("it has no \"model\" object");
  const nlohmann::json& m = j["model"];
  auto text = [&](const char* key) {  // a string field, "" when absent or of another type
    return m.contains(key) && m[key].is_string() ? m[key].get<std::string>() : std::string();
  };
  if (m.contains("type") && text("type") != "BPE")
    throw std::runtime_error("its model is " + (text("type").empty() ? m["type"].dump() : text("type")) +
                             ", not a BPE");
  if (text("end_of_word_suffix") != "</w>")
    throw std::runtime_error("its BPE does not mark word ends with \"</w>\" as CLIP's does");
  if (!m.contains("vocab") || !m["vocab"].is_object() || !m.contains("merges") || !m["merges"].is_array())
    throw std::runtime_error("its model has no \"vocab\" object or no \"merges\" list");
  Tokenizer t;
  for (auto& [sym, id] : m["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > kMaxId)
      throw std::runtime_error("the vocabulary id of '" + sym + "' is not a small non-negative integer");
    const auto i = size_t(id.get<int64_t>());
    if (i >= t.vocab_.size()) t.vocab_.resize(i + 1);
    t.vocab_[i] = sym;
    t.ids_[sym] = int32_t(i);
  }
  auto id_of = [&](const std::string& sym, const std::string& what) {
    auto it = t.ids_.find(sym);
    if (it == t.ids_.end()) throw std::runtime_error(what + " '" + sym + "' is not in the vocabulary");
    return it->second;
  };
  const auto& bt = bytes();
  for (int b = 0; b < 256; ++b) {
    std::string sym;
    append_utf8(sym, bt.cp[b]);
    t.byte_id_[b] = id_of(sym, "the byte symbol");
    t.byte_end_id_[b] = id_of(sym + "</w>", "the byte symbol");
  }
  for (const auto& merge : m["merges"]) {
    std::string left, right;
    if (merge.is_string()) {
      const std::string line = merge.get<std::string>();
      size_t sp = line.find(' ');
      if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size())
        throw std::runtime_error("merge " + std::to_string(t.merge_count_ + 1) + " is not two symbols: '" + line + "'");
      left = line.substr(0, sp);
      right = line.substr(sp + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      left = merge[0].get<std::string>();
      right = merge[1].get<std::string>();
    } else {
      throw std::runtime_error("merge " + std::to_string(t.merge_count_ + 1) + " is neither \"a b\" nor [a, b]");
    }
    const std::string what = "merge " + std::to_string(t.merge_count_ + 1) + ": the symbol";
    const int32_t a = id_of(left, what), b = id_of(right, what), ab = id_of(left + right, what);
    // The first occurrence of a pair has the lowest rank, as in the merges file.
    t.ranks_.emplace(uint64_t(uint32_t(a)) << 32 | uint32_t(b), int32_t(t.merge_count_));
    t.merged_id_.push_back(ab);
    ++t.merge_count_;
  }
  if (t.merge_count_ == 0) throw std::runtime_error("its merges list is empty");
  std::map<std::string, int32_t> special;
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& a : j["added_tokens"])
      if (a.is_object() && a.contains("content") && a["content"].is_string() && a.contains("id") &&
          a["id"].is_number_integer()) {
        const int64_t id = a["id"].get<int64_t>();
        if (id < 0 || id > kMaxId)
          throw std::runtime_error("the id of an added token is not a small non-negative integer");
        special[a["content"].get<std::string>()] = int32_t(id);
      }
  auto special_id = [&](const std::string& sym) {
    auto it = special.find(sym);
    return it != special.end() ? it->second : id_of(sym, "the special token");
  };
  t.start_ = special_id("<|startoftext|>");
  t.end_ = special_id("<|endoftext|>");
  for (int32_t id : {t.start_, t.end_})
    if (size_t(id) >= t.vocab_.size()) t.vocab_.resize(size_t(id) + 1);
  t.vocab_[size_t(t.start_)] = "<|startoftext|>";
  t.vocab_[size_t(t.end_)] = "<|endoftext|>";
  return t;
}

Tokenizer Tokenizer::from_hf_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the CLIP tokenizer " + path);
  try {
    return from_hf_json(nlohmann::json::parse(in));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("the CLIP tokenizer " + path + " is not valid JSON: " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("the CLIP tokenizer " + path + " is not a CLIP BPE tokenizer: " + e.what());
  }
}

std::string Tokenizer::clean(std::string_view text) {
  std::u32string s = unicode::decode_utf8(text);
  // ftfy unescapes HTML itself (when the text does not look like HTML), then fixes; CLIP unescapes twice more.
  if (s.find(U'<') == std::u32string::npos) s = unescape(s);
  s = ftfy_subset(s);
  s = unescape(unescape(s));
  std::u32string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char32_t c : s) {
    if (unicode::is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(U' ');
    pending_space = false;
    unicode::append_lower(out, c);
  }
  return unicode::encode_utf8(out);
}

std::vector<std::string> Tokenizer::split(std::string_view cleaned) {
  const std::u32string s = unicode::decode_utf8(cleaned);
  std::vector<std::string> out;
  size_t i = 0;
  auto take = [&](size_t len) {
    out.push_back(unicode::encode_utf8(std::u32string_view(s).substr(i, len)));
    i += len;
  };
  while (i < s.size()) {
    std::u32string_view rest = std::u32string_view(s).substr(i);
    if (rest.starts_with(kStartText)) {
      take(kStartText.size());
      continue;
    }
    if (rest.starts_with(kEndText)) {
      take(kEndText.size());
      continue;
    }
    if (rest[0] == U'\'' && rest.size() >= 2) {
      // 's | 't | 're | 've | 'm | 'll | 'd, in the pattern's order (case-insensitive).
      auto lc = [&](size_t k) { return k < rest.size() && rest[k] < 0x80 ? char32_t(rest[k] | 0x20) : char32_t(0); };
      size_t len = 0;
      char32_t c1 = lc(1), c2 = lc(2);
      if (c1 == U's' || c1 == U't' || c1 == U'm' || c1 == U'd')
        len = 2;
      else if ((c1 == U'r' || c1 == U'v') && c2 == U'e')
        len = 3;
      else if (c1 == U'l' && c2 == U'l')
        len = 3;
      if (len) {
        take(len);
        continue;
      }
    }
    char32_t c = rest[0];
    size_t len = 1;
    if (unicode::is_letter(c)) {
      while (len < rest.size() && unicode::is_letter(rest[len])) ++len;
      take(len);
    } else if (unicode::is_number(c)) {
      take(1);
    } else if (!unicode::is_space(c)) {
      while (len < rest.size() && !unicode::is_space(rest[len]) && !unicode::is_letter(rest[len]) &&
             !unicode::is_number(rest[len]))
        ++len;
      take(len);
    } else {
      ++i;
    }
  }
  return out;
}

std::vector<int32_t> Tokenizer::bpe(std::string_view piece) const {
  std::vector<int32_t> w;
  w.reserve(piece.size());
  for (unsigned char b : piece) w.push_back(byte_id_[b]);
  if (w.empty()) return w;
  w.back() = byte_end_id_[static_cast<unsigned char>(piece.back())];
  while (w.size() > 1) {
    int32_t best = INT32_MAX;
    for (size_t k = 0; k + 1 < w.size(); ++k) {
      auto it = ranks_.find(uint64_t(uint32_t(w[k])) << 32 | uint32_t(w[k + 1]));
      if (it != ranks_.end() && it->second < best) best = it->second;
    }
    if (best == INT32_MAX) break;
    // Merge every occurrence of that pair, left to right.
    const uint64_t key = [&] {
      for (size_t k = 0; k + 1 < w.size(); ++k) {
        uint64_t kk = uint64_t(uint32_t(w[k])) << 32 | uint32_t(w[k + 1]);
        auto it = ranks_.find(kk);
        if (it != ranks_.end() && it->second == best) return kk;
      }
      return uint64_t(0);
    }();
    const int32_t left = int32_t(key >> 32), right = int32_t(key & 0xFFFFFFFFu);
    std::vector<int32_t> next;
    next.reserve(w.size());
    for (size_t k = 0; k < w.size();) {
      if (k + 1 < w.size() && w[k] == left && w[k + 1] == right) {
        next.push_back(merged_id_[size_t(best)]);
        k += 2;
      } else {
        next.push_back(w[k++]);
      }
    }
    w.swap(next);
  }
  return w;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  for (auto& piece : split(clean(text))) {
    if (piece == "<|startoftext|>") {
      ids.push_back(start_);
    } else if (piece == "<|endoftext|>") {
      ids.push_back(end_);
    } else {
      auto b = bpe(piece);
      ids.insert(ids.end(), b.begin(), b.end());
    }
  }
  return ids;
}

Tokenizer::Tokens Tokenizer::tokenize(std::string_view text, size_t context) const {
  if (context < 2) throw std::invalid_argument("a CLIP context needs room for the start and end tokens");
  auto body = encode(text);
  Tokens t;
  t.ids.assign(context, 0);
  t.ids[0] = start_;
  size_t n = std::min(body.size(), context - 2);
  t.truncated = body.size() > n;
  for (size_t k = 0; k < n; ++k) t.ids[1 + k] = body[k];
  t.ids[1 + n] = end_;
  t.length = n + 2;
  return t;
}

std::string Tokenizer::token_text(int32_t id) const {
  return id >= 0 && size_t(id) < vocab_.size() ? vocab_[size_t(id)] : std::string();
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  // Symbol strings back to bytes: invert the byte table.
  const auto& bt = bytes();
  std::unordered_map<char32_t, unsigned char> back;
  for (int b = 0; b < 256; ++b) back[bt.cp[b]] = static_cast<unsigned char>(b);
  std::string out;
  for (int32_t id : ids) {
    if (id == end_) break;
    if (id == start_ || id < 0 || size_t(id) >= vocab_.size()) continue;
    std::string sym = vocab_[size_t(id)];
    bool eow = sym.size() >= 4 && sym.compare(sym.size() - 4, 4, "</w>") == 0;
    if (eow) sym.resize(sym.size() - 4);
    for (char32_t c : unicode::decode_utf8(sym)) out.push_back(char(back.count(c) ? back[c] : '?'));
    if (eow) out.push_back(' ');
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace dr::analyzers::clip
