// libFuzzer over a library's settings.json (catalog/library.h): any bytes as that file, then what `work` and `serve`
// do with the settings before any photo is read: the library and its catalog opened (the busy timeout), the tasks
// to queue, the folders photos may be added from, and a worker made for the tasks that need no model (the queue's
// retry policy, lease, stop deadline and per-task concurrency; the pdq and thumbs tasks' own settings).
//
// Findings: a crash, a sanitizer report (a float too large for an int, an assertion), a hang or unbounded memory;
// a failure that is not a sentence for the user (a LibraryError, or an app::Error; a task that waits says why in
// words, not in nlohmann::json's exception text).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "app/library_ops.h"
#include "app/session.h"
#include "app/work.h"
#include "catalog/library.h"
#include "image/decode.h"
#include "jobs/queue.h"

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "settings_fuzz: %s\n", why.c_str());
  std::abort();
}

const std::string& library_dir() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/darkroom-settings-fuzz-XXXXXX";
    if (!mkdtemp(tmpl)) fail("mkdtemp failed");
    dr::catalog::Library::create(std::string(tmpl) + "/library");
    fs::create_directories(std::string(tmpl) + "/models");
    return std::string(tmpl);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  dr::image::prepare_decoder();
  setenv("DARKROOM_DEVICE", "cpu", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& dir = library_dir();
  {
    std::ofstream out(dir + "/library/settings.json", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  }
  try {
    auto lib = dr::catalog::Library::open(dir + "/library");
    (void)dr::jobs::RetryPolicy::from_settings(lib.settings());
  } catch (const dr::catalog::LibraryError&) {
    return 0;
  }
  try {
    dr::app::Config config;
    config.library = dir + "/library";
    config.models_dir = dir + "/models";
    config.runtime.device = dr::runtime::DeviceRequest::parse("cpu");
    config.runtime.threads = 1;
    dr::app::Session s(config, true);
    (void)dr::app::tasks_for(s);
    (void)dr::app::library_roots(s, {});
    dr::app::WorkOptions w;
    w.until_idle = true;
    w.tasks = "pdq,thumbs";
    // What the worker tells the user (a task that waits, and why) is a sentence, not a library's exception text.
    w.say = [](const std::string& note) {
      if (note.find("json.exception") != std::string::npos) fail("a note that is not a sentence: " + note);
    };
    dr::app::Worker worker(s, w);
  } catch (const dr::app::Error&) {
  }
  return 0;
}
