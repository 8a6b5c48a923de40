// A task is one kind of analysis (pdq, faces, objects, text, clip). Each analyzer under src/analyzers/<task>/ turns
// pixels into plain structs; its task adapter (one per analyzer) turns those into the JSON that `analyze` prints
// and the catalog stores, under the keys of DESIGN.md's contract. Tasks know nothing of the catalog or the queue.
#pragma once
#include <algorithm>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "image/decode.h"
#include "runtime/model_store.h"
#include "runtime/runtime.h"

namespace dr::analyzers {

// What a task needs to build itself: the runtime, the store (verified model files) and the settings
// (a JSON object; keys are task-specific, e.g. {"faces": {"min_score": 0.6}}).
struct TaskContext {
  runtime::Runtime& rt;
  const runtime::ModelStore& store;
  nlohmann::json settings = nlohmann::json::object();
};

struct RunOptions {
  bool embeddings = false;  // include embedding vectors in the JSON (analyze --embeddings; always on in a library)
  // The photo's file, when there is one: for a task that reads it itself (pdq hashes the pixels the reference
  // hasher decodes, not the shared decode's). Empty for pixels that come from elsewhere.
  std::string path;
  // Decodes the photo again at full resolution, displayed orientation, for a task that finds details too small in
  // the pixels it was given (text: lines a few pixels tall in a photo decoded smaller). Empty when there is no
  // file to read again; may throw image::Error.
  std::function<image::Decoded()> full_resolution;
  // The photo's content hash (sha256 of its bytes) when it is known (in a library): what the files a task writes
  // beside the catalog are named by (the thumbs task's).
  std::string content_hash;
};

// RunOptions::full_resolution for a photo file: the same limits, no reduction.
inline std::function<image::Decoded()> redecoder(const std::string& path, const image::Limits& limits) {
  return [path, limits] {
    image::DecodeOptions o;
    o.limits = limits;
    return image::decode(path, o);
  };
}

// A model a task's results depend on; recorded with each result so that a new model re-queues the photo.
struct ModelRef {
  std::string id, sha256;
  // How it ran, when that changes its results: "int8" (runtime::Session::int8), else empty (and not recorded, so
  // that results recorded before the field existed stay current).
  std::string variant;
};

// An error of this machine, not of the photo: the disk a task writes to is full or read-only. The worker pool gives
// the job back (the attempt not counted) and stops with this sentence; `darkroom work` goes on once it is fixed.
class HostError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Whether `err` (an errno) means the disk is full or cannot be written (ENOSPC, EDQUOT, EROFS).
bool is_host_errno(int err);

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  // The longest side, in pixels, that this task wants the photo decoded at (0 = full resolution).
  virtual int wanted_side() const = 0;
  virtual std::vector<ModelRef> models() const { return {}; }
  // Thread-safe. Coordinates in the result are in the displayed image's pixels (use img.to_display()).
  virtual nlohmann::json run(const image::Decoded& img, const RunOptions& opts) = 0;
};

// The side to decode at for several tasks, folded one task at a time: start from -1 (no task yet), then
// side = decode_side(side, task.wanted_side()). The largest wanted side wins; 0 (full resolution) beats any size.
inline int decode_side(int side_so_far, int wanted) {
  return (side_so_far == 0 || wanted == 0) ? 0 : std::max(side_so_far, wanted);
}

// A photo decoded once for several tasks, and the options they run with: decoded at `side` (the largest any of them
// wants, folded with decode_side; negative: no decode), its path, the full-resolution re-decoder and, when known, its
// content hash. What `analyze` and the library's runner both do before running tasks. Throws image::Error.
struct PhotoInput {
  image::Decoded img;
  RunOptions opts;
};
PhotoInput read_photo(const std::string& path, int side, const image::Limits& limits, bool embeddings,
                      std::string content_hash = {});

// Every task darkroom knows, in the order `analyze` runs them: pdq, faces, objects, text, clip.
const std::vector<std::string>& known_tasks();
// Throws std::invalid_argument ("unknown task 'x' (known: ...)") for an unknown name, and runtime::ModelError when
// the task's model is not installed.
std::unique_ptr<Task> make_task(const std::string& name, TaskContext& ctx);
// Tasks whose models are installed (pdq always): the default for `add` (library: also the tasks that write into a
// library, thumbs) and `analyze`.
std::vector<std::string> available_tasks(const runtime::ModelStore& store, bool library = false);
// "pdq,faces" -> {"pdq","faces"}, checked against known_tasks().
std::vector<std::string> parse_task_list(const std::string& csv);

}  // namespace dr::analyzers
