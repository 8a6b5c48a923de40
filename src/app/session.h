// The layer under both faces of darkroom, the command line (src/cli/) and the server (src/server/): a Session owns
// one library's store and creates what is costly (the model store, the runtime, the search signals, the duplicate
// index) only when an operation first needs it, then keeps it for the next one. Operations live beside it, one
// header per subject (photos.h, search.h, dupes.h, people.h, library_ops.h, work.h); each returns plain structs with
// to_json(), whose keys are those of the CLI's --json output. The CLI prints text from them; `serve` sends the JSON.
//
// A Session is safe to use from several threads (the server's): the store serialises its own calls, and every
// cache here has its own lock.
#pragma once
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "catalog/library.h"
#include "catalog/store.h"
#include "jobs/queue.h"
#include "runtime/model_store.h"
#include "runtime/runtime.h"

namespace dr::app {

// An error the user (or an API client) can act on. The CLI prints the sentence (exit status 2); the server maps
// the kind to a status code (BadInput 400, NotFound 404, Conflict 409, Unavailable 503).
class Error : public std::runtime_error {
 public:
  enum Kind { BadInput, NotFound, Conflict, Unavailable };
  Error(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct Config {
  std::string library;     // the library's folder (empty: catalog::Library::default_dir())
  std::string models_dir;  // empty: runtime::ModelStore::default_dir()
  runtime::Options runtime;
  int threads = 1;  // resolved: --threads or the number of cores
};

class Search;     // search.h
class DupeCache;  // dupes.h

class Session {
 public:
  // Opens the library (Error::NotFound saying how to create one) and its catalog; `write`: the caller changes it,
  // so a read-only library is refused up front (Error::Conflict).
  Session(Config config, bool write);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const Config& config() const { return config_; }
  const catalog::Library& library() const { return library_; }
  catalog::Store& store() { return *store_; }
  // The library's job queue, with its settings' retry policy and lease time: the only way to its jobs.
  jobs::Queue& queue() { return *queue_; }
  // The model cache, read on first use.
  const runtime::ModelStore& models();
  // ONNX Runtime with the session's options, started on first use (the CLIP text encoder needs it).
  runtime::Runtime& runtime();

  Search& search();    // search.h
  DupeCache& dupes();  // dupes.h
  // Where thumbnails and face crops are kept: <library>/thumbs.
  std::string thumbs_dir() const;

 private:
  Config config_;
  catalog::Library library_;
  std::unique_ptr<catalog::Store> store_;
  std::unique_ptr<jobs::Queue> queue_;
  std::mutex mu_;
  std::optional<runtime::ModelStore> models_;
  std::unique_ptr<runtime::Runtime> runtime_;
  std::unique_ptr<Search> search_;
  std::unique_ptr<DupeCache> dupes_;
};

// A photo named by a path (as catalogued: absolute) or by its id; Error::NotFound when unknown.
int64_t resolve_photo(catalog::Store& store, const std::string& arg);
// A positive id from text ("12"); Error::BadInput naming `what` otherwise.
int64_t parse_id(const std::string& what, const std::string& text);

}  // namespace dr::app
