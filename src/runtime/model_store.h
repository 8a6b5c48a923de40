// The model store: the manifest of every model darkroom knows, the cache folder that holds their files, sha256
// checks and installation (from local mirrors, then from each file's public URL).
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace dr::runtime {

struct ModelFile {
  std::string name;    // role inside the model: "model", "keys", "visual", "textual", ...
  std::string path;    // relative path inside the model cache, e.g. "faces/yunet_n_dynamic.onnx"
  std::string sha256;  // 64 lowercase hex digits
  uint64_t size = 0;
  std::string url;
};

struct ModelEntry {
  std::string id;      // "face-detector/yunet-n"
  std::string task;    // "faces", "objects", "text", "clip"
  std::string role;    // what the model does inside its task: "detector", "recognizer", "classifier", ...
  std::string family;  // decoding family: "yunet", "scrfd", "arcface", "yolox", "detr", "ppocr-det", ...
  std::string licence;
  bool default_install = false;  // installed by `models install` without an ID
  std::vector<ModelFile> files;
  nlohmann::json input;  // input facts: size, colour order, scale, mean/std, layout ...
  nlohmann::json raw;    // the whole entry, for family-specific keys

  const ModelFile* file(const std::string& name) const;
  const ModelFile& onnx() const;  // the file named "model" (throws when absent)
};

class Manifest {
 public:
  // The manifest compiled into the binary, plus every *.json in <models_dir>/manifest.d (a user's own models).
  static Manifest load(const std::string& models_dir);
  static Manifest parse(const nlohmann::json& j);
  const std::vector<ModelEntry>& entries() const { return entries_; }
  const ModelEntry* find(const std::string& id) const;
  std::vector<const ModelEntry*> for_task(const std::string& task) const;
  // The model a task uses for a role: `chosen` (an id from the settings) when not empty, else the first entry
  // marked default for (task, role). Null when there is none.
  const ModelEntry* pick(const std::string& task, const std::string& role, const std::string& chosen = {}) const;

 private:
  std::vector<ModelEntry> entries_;
};

// A missing or corrupt model: the message is one sentence naming the file, the expected sha256 and the command
// that installs it.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FileCheck {
  std::string path;  // absolute
  bool present = false;
  bool sha256_ok = false;
  std::string actual_sha256;  // empty when absent
};

class ModelStore {
 public:
  ModelStore(std::string dir, Manifest manifest);
  // --models DIR, else $DARKROOM_MODELS, else $XDG_CACHE_HOME/darkroom/models, else ~/.cache/darkroom/models.
  static std::string default_dir();

  const std::string& dir() const { return dir_; }
  const Manifest& manifest() const { return manifest_; }
  std::string path_of(const ModelFile& f) const;

  // Checks a file's sha256. Results are remembered per (path, size, mtime) in <dir>/.verified so that a model is
  // not hashed again on every start.
  FileCheck check(const ModelFile& f) const;
  bool installed(const ModelEntry& e) const;  // every file present with the right sha256
  // The absolute path of a file of the model, verified; throws ModelError when missing or corrupt.
  std::string require(const ModelEntry& e, const std::string& file_name = "model") const;

  // Installs one model: each file is taken from the first mirror folder that holds it (same relative path, or
  // the same base name) with the right sha256, else downloaded from its URL (with curl). Returns a line per file.
  std::vector<std::string> install(const ModelEntry& e, const std::vector<std::string>& mirrors) const;

 private:
  std::string dir_;
  Manifest manifest_;
};

}  // namespace dr::runtime
