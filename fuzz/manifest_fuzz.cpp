// libFuzzer over a user's model manifest (<models>/manifest.d/*.json, runtime/model_store.h): any bytes as such a
// file, loaded over the built-in manifest as every command loads it, then read as the commands and the analyzers
// read an entry before any model runs: its files and where they lie in the cache, the choice of a task's models,
// `models list`'s JSON, the input facts of the face and text models, and the int8 ranges.
//
// Findings: a crash, a sanitizer report, a hang or unbounded memory; a load failure that is not a ModelError (one
// sentence naming the file); an entry accepted whose file would lie outside the model cache; a reader of an
// accepted entry that throws anything but a ModelError.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "analyzers/faces/faces.h"
#include "analyzers/task.h"
#include "analyzers/text/detector.h"
#include "app/models.h"
#include "runtime/model_store.h"
#include "runtime/runtime.h"

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "manifest_fuzz: %s\n", why.c_str());
  std::abort();
}

const std::string& models_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/darkroom-manifest-fuzz-XXXXXX";
    if (!mkdtemp(tmpl)) fail("mkdtemp failed");
    fs::create_directories(std::string(tmpl) + "/manifest.d");
    return std::string(tmpl);
  }();
  return dir;
}

bool inside(const std::string& path, const std::string& dir) {
  auto rel = fs::path(path).lexically_normal().lexically_relative(fs::path(dir).lexically_normal());
  return !rel.empty() && *rel.begin() != ".." && rel.is_relative();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = models_dir();
  {
    std::ofstream out(dir + "/manifest.d/user.json", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  }
  std::optional<dr::runtime::Manifest> manifest;
  try {
    manifest = dr::runtime::Manifest::load(dir);
  } catch (const dr::runtime::ModelError& e) {
    if (std::string(e.what()).find("manifest.d/user.json") == std::string::npos) fail("an error that names no file");
    return 0;
  }
  dr::runtime::ModelStore store(dir, *manifest);
  try {
    for (const auto& e : manifest->entries()) {
      for (const auto& f : e.files)
        if (!inside(store.path_of(f), dir)) fail("the file " + f.path + " of " + e.id + " lies outside the cache");
      try {
        (void)e.onnx();
      } catch (const dr::runtime::ModelError&) {
      }
      (void)manifest->pick(e.task, e.role);
      (void)dr::app::model_json(store, e).dump();
      (void)dr::analyzers::faces::InputFacts::from_manifest(e.input);
      (void)dr::analyzers::text::Normalize::from_input(e.input);
      (void)dr::runtime::int8_ranges(e);
    }
    (void)dr::analyzers::available_tasks(store, true);
  } catch (const dr::runtime::ModelError&) {
  }
  return 0;
}
