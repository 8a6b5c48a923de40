// The darkroom command line: global options and the helpers every subcommand shares. One file per subcommand;
// each defines a register_<name>(CLI::App&, Globals&) listed in main.cpp. The CLI only wires subsystems together.
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "runtime/model_store.h"
#include "runtime/runtime.h"

namespace dr::cli {

struct Globals {
  std::string library;            // --library / DARKROOM_LIBRARY
  std::string models;             // --models / DARKROOM_MODELS
  std::string device = "auto";    // --device / DARKROOM_DEVICE
  std::string cuda_provider;      // --cuda-provider / DARKROOM_CUDA_PROVIDER
  int threads = 0;                // --threads (0: all cores)
  bool int8 = false;              // --int8 / DARKROOM_INT8: models with calibrated ranges run in int8 on the CPU
  bool no_graph_rewrite = false;  // --no-graph-rewrite / DARKROOM_NO_GRAPH_REWRITE: models loaded as they are
  bool json = false;              // --json
  bool quiet = false;             // --quiet: no progress output
  int exit_code = 0;              // set by the subcommand that ran
};

// An error the user can act on: printed as "darkroom: <message>" with exit status `code`.
class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& m, int code = 2) : std::runtime_error(m), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

int threads(const Globals& g);  // resolved: --threads or the number of cores
std::string models_dir(const Globals& g);
runtime::ModelStore model_store(const Globals& g);
runtime::Options runtime_options(const Globals& g);

// Prints one JSON value on a line of stdout and flushes (one object per line for scripts).
void print_json_line(const nlohmann::json& j);

#define DARKROOM_COMMANDS(X) \
  X(analyze)                 \
  X(hash)                    \
  X(init)                    \
  X(add)                     \
  X(work)                    \
  X(status)                  \
  X(show)                    \
  X(search)                  \
  X(people)                  \
  X(dupes)                   \
  X(retry)                   \
  X(models)                  \
  X(doctor)                  \
  X(probe)                   \
  X(clip)                    \
  X(similar)                 \
  X(serve)                   \
  X(token)                   \
  X(migrate)                 \
  X(check)                   \
  X(backup)

#define DARKROOM_DECLARE(name) void register_##name(CLI::App& app, Globals& g);
DARKROOM_COMMANDS(DARKROOM_DECLARE)
#undef DARKROOM_DECLARE

}  // namespace dr::cli
