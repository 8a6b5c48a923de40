#include "catalog/derive.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

namespace dr::catalog {
namespace {

std::vector<float> floats(const nlohmann::json& j) {
  std::vector<float> v;
  if (!j.is_array()) return v;
  v.reserve(j.size());
  for (const auto& x : j) {
    if (!x.is_number()) return {};
    v.push_back(x.get<float>());
  }
  return v;
}

// "text": {"lines": [{"text","score","box"}], "full"}: one document per line, so `matched` shows the line.
void derive_text(const nlohmann::json& r, const nlohmann::json&, Derived& out) {
  if (!r.is_object() || !r.contains("lines") || !r["lines"].is_array()) return;
  for (const auto& line : r["lines"])
    if (line.is_object() && line.contains("text") && line["text"].is_string() &&
        !line["text"].get<std::string>().empty())
      out.documents.push_back({"text", line["text"].get<std::string>()});
}

// "objects": [{"label","score","box"}]: one document per distinct label, with its best score and largest box.
void derive_objects(const nlohmann::json& r, const nlohmann::json&, Derived& out) {
  if (!r.is_array()) return;
  std::map<std::string, size_t> seen;  // label -> its document
  for (const auto& o : r) {
    if (!o.is_object() || !o.contains("label") || !o["label"].is_string()) continue;
    auto label = o["label"].get<std::string>();
    double score = o.contains("score") && o["score"].is_number() ? o["score"].get<double>() : 0;
    double area = 0;
    if (o.contains("box") && o["box"].is_array() && o["box"].size() == 4 && o["box"][2].is_number() &&
        o["box"][3].is_number())
      area = std::max(0.0, o["box"][2].get<double>()) * std::max(0.0, o["box"][3].get<double>());
    auto [it, fresh] = seen.try_emplace(label, out.documents.size());
    if (fresh) {
      out.documents.push_back({"label", label, score, area});
      continue;
    }
    auto& d = out.documents[it->second];
    d.score = std::max(*d.score, score);
    d.area = std::max(*d.area, area);
  }
}

// "faces": [{"box","score","landmarks","embedding","quality"...}]: one face row each.
void derive_faces(const nlohmann::json& r, const nlohmann::json&, Derived& out) {
  if (!r.is_array()) return;
  for (const auto& f : r) {
    if (!f.is_object() || !f.contains("box") || !f["box"].is_array() || f["box"].size() != 4) continue;
    FaceRow row;
    for (int i = 0; i < 4; ++i) row.box[i] = f["box"][i].is_number() ? f["box"][i].get<float>() : 0.f;
    if (f.contains("score") && f["score"].is_number()) row.score = f["score"].get<float>();
    if (f.contains("landmarks") && f["landmarks"].is_array()) row.landmarks = f["landmarks"];
    if (f.contains("quality")) {
      const auto& q = f["quality"];
      if (q.is_number())
        row.quality = q.get<float>();
      else if (q.is_object() && q.contains("score") && q["score"].is_number())
        row.quality = q["score"].get<float>();
      if (q.is_object() && q.contains("size") && q["size"].is_number()) row.size = q["size"].get<float>();
      if (q.is_object() && q.contains("blur") && q["blur"].is_number()) row.blur = q["blur"].get<float>();
    }
    if (f.contains("embedding")) row.embedding = floats(f["embedding"]);
    out.faces.push_back(std::move(row));
  }
}

// "clip": {"dim": N, "embedding": [...]}: one embedding row, keyed by the model that made it.
void derive_clip(const nlohmann::json& r, const nlohmann::json& models, Derived& out) {
  if (!r.is_object() || !r.contains("embedding")) return;
  EmbeddingRow row;
  row.vector = floats(r["embedding"]);
  if (row.vector.empty()) return;
  if (models.is_array() && !models.empty() && models[0].is_object() && models[0].contains("id"))
    row.model = models[0]["id"].get<std::string>();
  if (r.contains("model") && r["model"].is_string()) row.model = r["model"].get<std::string>();
  out.embeddings.push_back(std::move(row));
}

struct Registry {
  std::mutex mu;
  std::map<std::string, Deriver> fns{
      {"text", derive_text}, {"objects", derive_objects}, {"faces", derive_faces}, {"clip", derive_clip}};
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_deriver(const std::string& task, Deriver fn) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.fns[task] = std::move(fn);
}

bool has_deriver(const std::string& task) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  return r.fns.count(task) > 0;
}

Derived derive(const std::string& task, const nlohmann::json& result, const nlohmann::json& models) {
  Deriver fn;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.fns.find(task);
    if (it == r.fns.end()) return {};
    fn = it->second;
  }
  Derived out;
  fn(result, models, out);
  return out;
}

std::vector<uint8_t> to_blob(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(float));
  if (!v.empty()) std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<float> from_blob(const std::vector<uint8_t>& b) {
  std::vector<float> v(b.size() / sizeof(float));
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(float));
  return v;
}

}  // namespace dr::catalog
