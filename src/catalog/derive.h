// Searchable rows derived from a task's result JSON, written by the store in the same transaction as the result:
// documents for full-text search (OCR lines, object labels, file names, people's names), face rows and embedding
// rows. Each task registers a deriver; a later task (or a new signal of an existing one) adds its own with
// register_deriver() without touching the store. Derivers are pure: JSON in, rows out, no catalog access.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace dr::catalog {

// A full-text document about a photo. kind says what it is ("text", "label", "file", "person", ...) and is shown
// in a search result's `matched`.
struct Document {
  std::string kind, text;
  // For an object label: the best detection score of that label in the photo, and the largest box of it
  // (displayed pixels squared), so that search ranks a big, sure detection above a small, doubtful one.
  std::optional<double> score, area;
};

struct FaceRow {
  int64_t id = 0;  // assigned by the store
  int64_t photo_id = 0;
  float box[4] = {0, 0, 0, 0};  // x, y, w, h in displayed pixels
  float score = 0;
  nlohmann::json landmarks = nlohmann::json::array();  // [[x,y] x5]
  std::optional<float> quality;
  // The quality signals people clustering needs (a face too small or blurred never seeds a person): the shorter
  // side of the box in displayed pixels and the variance of the Laplacian of the aligned face.
  std::optional<float> size, blur;
  std::vector<float> embedding;
  std::optional<int64_t> person_id;
  bool pinned = false;  // placed in its person by the user (move, merge): clustering never changes it
};

struct EmbeddingRow {
  int64_t photo_id = 0;
  std::string model;
  std::vector<float> vector;
};

struct Derived {
  std::vector<Document> documents;
  std::vector<FaceRow> faces;
  std::vector<EmbeddingRow> embeddings;
};

// models: the result's models ([{"id","sha256"}]), for rows that are tied to a model (embeddings).
using Deriver = std::function<void(const nlohmann::json& result, const nlohmann::json& models, Derived& out)>;

// Registers (or replaces) the deriver of a task. The built-in ones cover "text", "objects", "faces" and "clip".
void register_deriver(const std::string& task, Deriver fn);
// Whether a task's results have derived rows at all (pdq's and thumbs' do not: nothing to replace for them).
bool has_deriver(const std::string& task);
// The rows for one task's result (nothing for a task without a deriver). Malformed parts are skipped, not fatal:
// the result JSON itself is always kept.
Derived derive(const std::string& task, const nlohmann::json& result, const nlohmann::json& models);

// Float32 vectors as stored in blobs (little-endian, as the machine writes them).
std::vector<uint8_t> to_blob(const std::vector<float>& v);
std::vector<float> from_blob(const std::vector<uint8_t>& b);

}  // namespace dr::catalog
