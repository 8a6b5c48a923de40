#include "search/library_search.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "util/utf8.h"

namespace dr::search {
namespace {

bool word_char(unsigned char c) { return std::isalnum(c) || c >= 0x80; }

// "YYYY", "YYYY-MM" or "YYYY-MM-DD" with a year 1800..2999, a month 01..12 and a day 01..31.
bool is_date(const std::string& w) {
  auto digits = [&](size_t at, size_t n) {
    if (at + n > w.size()) return -1;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(w[i]))) return -1;
      v = v * 10 + (w[i] - '0');
    }
    return v;
  };
  if (w.size() != 4 && w.size() != 7 && w.size() != 10) return false;
  int y = digits(0, 4);
  if (y < 1800 || y > 2999) return false;
  if (w.size() == 4) return true;
  int m = w[4] == '-' ? digits(5, 2) : -1;
  if (m < 1 || m > 12) return false;
  if (w.size() == 7) return true;
  int d = w[7] == '-' ? digits(8, 2) : -1;
  return d >= 1 && d <= 31;
}

struct Term {
  std::string text;
  bool phrase = false, prefix = false;
};

std::vector<Term> terms_of(const std::string& q) {
  std::vector<Term> out;
  size_t i = 0;
  while (i < q.size()) {
    if (q[i] == '"') {
      size_t end = q.find('"', i + 1);
      if (end == std::string::npos) end = q.size();
      std::string words;
      for (size_t k = i + 1; k < end; ++k) words += word_char(static_cast<unsigned char>(q[k])) ? q[k] : ' ';
      std::istringstream ss(words);
      std::string w, joined;
      while (ss >> w) joined += (joined.empty() ? "" : " ") + w;
      if (!joined.empty()) out.push_back({joined, true, false});
      i = end + 1;
      continue;
    }
    if (!word_char(static_cast<unsigned char>(q[i]))) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < q.size() && word_char(static_cast<unsigned char>(q[i]))) ++i;
    Term t{q.substr(start, i - start)};
    if (i < q.size() && q[i] == '*') t.prefix = true;
    out.push_back(t);
  }
  return out;
}

class TextSignal : public Signal {
 public:
  std::string name() const override { return "text"; }
  std::vector<SearchHit> find(catalog::Store& store, const std::string& query, size_t limit) override {
    // Date words are the date signal's; the rest must all be in one document, else any of them counts.
    std::string words = query;
    auto dates = date_terms(query);
    if (!dates.empty()) {
      std::string rest;
      std::istringstream ss(query);
      std::string w;
      while (ss >> w)
        if (std::find(dates.begin(), dates.end(), w) == dates.end()) rest += w + " ";
      if (!to_fts_query(rest).empty()) words = rest;
    }
    std::string all = to_fts_query(words);
    if (all.empty()) return {};
    // Object labels are the label signal's (ranked by their detections), not words read in photos.
    auto docs = store.search_documents(all, limit * 4, "label");
    // Scores: a line with every word 0.5 to 1 (by bm25, relative to the best), words glued together 0.45 (see
    // glued()), a photo with only some of the words 0 to 0.4.
    double base = 0.5, span = 0.5;
    if (docs.empty()) {
      docs = store.search_documents(to_fts_query(words, " OR "), limit * 4, "label");
      base = 0;
      span = 0.4;
    }
    std::map<int64_t, SearchHit> by_photo;
    std::vector<int64_t> order;
    double best = 0;
    for (const auto& d : docs) {
      auto [it, fresh] = by_photo.try_emplace(d.photo_id);
      if (fresh) order.push_back(d.photo_id);
      auto& h = it->second;
      h.photo_id = d.photo_id;
      h.score += d.score;
      std::string m = d.kind + ": " + d.text;
      if (std::find(h.matched.begin(), h.matched.end(), m) == h.matched.end()) h.matched.push_back(m);
      best = std::max(best, h.score);
    }
    std::vector<SearchHit> out;
    for (auto id : order) {
      auto h = by_photo[id];
      h.score = base + span * (best > 0 ? h.score / best : 1.0);
      out.push_back(std::move(h));
    }
    for (auto& h : glued(store, words, limit))
      if (!by_photo.count(h.photo_id)) out.push_back(std::move(h));
    return out;
  }

 private:
  // OCR of small text sometimes loses a line's spaces ("harbourwindowbluecity"): photos whose text has every query
  // word (a phrase without its spaces) inside such a run of glued letters, scored 0.45, below any line that has
  // all the words and above photos that have only some. A word counts only inside a run of 24 characters or more,
  // longer than nearly every real word, so that "nation" does not find "internationalisation"; words shorter than 4
  // characters are left out of this check ("the lighthouse" finds "...thelighthousecafe..."), and a query of only
  // such words is not looked for this way. Lengths are in characters; letters are compared in ASCII lower case.
  static std::vector<SearchHit> glued(catalog::Store& store, const std::string& words, size_t limit) {
    auto lower = [](std::string s) {
      for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
      return s;
    };
    std::vector<std::string> subs;
    for (const auto& t : terms_of(words)) {
      std::string w;
      for (char c : t.text)
        if (c != ' ') w += c;
      if (util::utf8_length(w) >= 4)
        subs.push_back(lower(w));  // shorter ones ("the", "at") are too common inside other words
    }
    if (subs.empty()) return {};
    auto inside_runs = [&](const std::string& text) {
      std::istringstream tokens(lower(text));
      std::vector<std::string> runs;
      for (std::string tok; tokens >> tok;)
        if (util::utf8_length(tok) >= 24) runs.push_back(tok);
      for (const auto& w : subs) {
        bool inside = false;
        for (const auto& r : runs) inside = inside || (r.size() > w.size() && r.find(w) != std::string::npos);
        if (!inside) return false;
      }
      return true;
    };
    std::map<int64_t, SearchHit> by_photo;
    std::vector<int64_t> order;
    for (const auto& d : store.search_substrings(subs, "text", inside_runs, limit * 4)) {
      auto [it, fresh] = by_photo.try_emplace(d.photo_id, SearchHit{d.photo_id, 0.45, {}});
      if (fresh) order.push_back(d.photo_id);
      std::string m = d.kind + ": " + d.text;
      if (std::find(it->second.matched.begin(), it->second.matched.end(), m) == it->second.matched.end())
        it->second.matched.push_back(m);
    }
    std::vector<SearchHit> out;
    for (auto id : order) out.push_back(std::move(by_photo[id]));
    return out;
  }
};

class DateSignal : public Signal {
 public:
  std::string name() const override { return "date"; }
  std::vector<SearchHit> find(catalog::Store& store, const std::string& query, size_t limit) override {
    std::vector<SearchHit> out;
    for (const auto& d : date_terms(query))
      for (const auto& [id, date] : store.photos_by_date(d, limit)) out.push_back({id, 1.0, {"date: " + date}});
    return out;
  }
};

// People's names: every photo with a face of a person whose name has all the query's words (a name is short, so a
// photo of the person named is as good a hit as there is).
class PersonSignal : public Signal {
 public:
  std::string name() const override { return "person"; }
  std::vector<SearchHit> find(catalog::Store& store, const std::string& query, size_t limit) override {
    std::vector<SearchHit> out;
    for (const auto& [id, name] : store.photos_of_people_named(query)) {
      if (out.size() >= limit) break;
      out.push_back({id, 1.0, {"person: " + name}});
    }
    return out;
  }
};

}  // namespace

std::string to_fts_query(const std::string& query, const std::string& join) {
  std::string out;
  for (const auto& t : terms_of(query)) {
    if (!out.empty()) out += join;
    out += "\"" + t.text + "\"";
    if (t.prefix) out += "*";
  }
  return out;
}

std::vector<std::string> date_terms(const std::string& query) {
  std::vector<std::string> out;
  std::istringstream ss(query);
  std::string w;
  while (ss >> w)
    if (is_date(w)) out.push_back(w);
  return out;
}

std::vector<SearchHit> search_library(catalog::Store& store, const std::string& query, size_t limit,
                                      const std::vector<Signal*>& extra) {
  if (terms_of(query).empty()) throw std::invalid_argument("the search query is empty; give some words or a date");
  TextSignal text;
  DateSignal date;
  PersonSignal person;
  std::vector<Signal*> signals = {&text, &date, &person};
  signals.insert(signals.end(), extra.begin(), extra.end());
  std::map<int64_t, SearchHit> merged;
  for (auto* signal : signals) {
    for (auto& h : signal->find(store, query, limit)) {
      auto& m = merged[h.photo_id];
      m.photo_id = h.photo_id;
      m.score += h.score;
      for (auto& s : h.matched)
        if (std::find(m.matched.begin(), m.matched.end(), s) == m.matched.end()) m.matched.push_back(s);
    }
  }
  std::vector<SearchHit> out;
  for (auto& [id, h] : merged) out.push_back(std::move(h));
  std::stable_sort(out.begin(), out.end(), [](const SearchHit& a, const SearchHit& b) { return a.score > b.score; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace dr::search
