#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "app/session.h"
#include "cli/cli.h"
#include "image/decode.h"
#include "runtime/model_store.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

using namespace dr::cli;

namespace {

int run(int argc, char** argv);

// Ends the process without the exit handlers (static destructors): a thread ONNX Runtime starts for itself may
// still read what they free (ASan saw a heap-use-after-free at exit in `work`, in 2 of about 20 runs under load).
// Everything a command owns is destroyed by the time it returns; the output is flushed here, and under the
// sanitizers their leak check runs first, as it would at exit.
[[noreturn]] void finish(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
#if defined(__SANITIZE_ADDRESS__)
  __lsan_do_leak_check();
#endif
  std::_Exit(code);
}

}  // namespace

int main(int argc, char** argv) { finish(run(argc, argv)); }

namespace {

int run(int argc, char** argv) {
  // Two malloc arenas rather than glibc's eight per core: the threads of the workers, libvips and ONNX Runtime
  // otherwise each grow their own. Peak RSS of `work` with every default task on 12-MP photos, two threads: 553-591
  // MiB with glibc's default, 510 with 2, 481 with 1, at the same speed (BENCHMARKS.md, "Memory"). Before any thread;
  // a MALLOC_ARENA_MAX of the user's wins.
  if (!std::getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 2);
  dr::image::prepare_decoder();  // before any thread reads the environment
  Globals g;
  CLI::App app{"darkroom: analyses photo libraries (PDQ duplicates, faces and people, objects, text, CLIP search)"};
  app.set_version_flag("--version", std::string("darkroom ") + DARKROOM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options are accepted before or after the subcommand
  app.add_option("--library", g.library, "library folder (default ~/.local/share/darkroom)")
      ->envname("DARKROOM_LIBRARY");
  app.add_option("--models", g.models, "model cache folder (default ~/.cache/darkroom/models)")
      ->envname("DARKROOM_MODELS");
  app.add_option("--device", g.device, "auto, cpu, cuda or cuda:N (default auto)")->envname("DARKROOM_DEVICE");
  app.add_option("--cuda-provider", g.cuda_provider,
                 "path of libonnxruntime_providers_cuda.so (default: beside libonnxruntime)")
      ->envname("DARKROOM_CUDA_PROVIDER");
  app.add_option("--threads", g.threads, "worker and inference threads (default: all cores)")
      ->check(CLI::Range(0, 1024));
  app.add_flag("--no-graph-rewrite", g.no_graph_rewrite,
               "load models exactly as they are, without the exact graph rewrites that speed up small ones")
      ->envname("DARKROOM_NO_GRAPH_REWRITE");
  app.add_flag("--int8", g.int8,
               "on the CPU, run the models that have calibrated int8 ranges (the text recognizer) in int8: about "
               "twice as fast, and less exact")
      ->envname("DARKROOM_INT8");
  app.add_flag("--json", g.json, "print results as JSON");
  app.add_flag("-q,--quiet", g.quiet, "no progress output");

#define DARKROOM_REGISTER(name) register_##name(app, g);
  DARKROOM_COMMANDS(DARKROOM_REGISTER)
#undef DARKROOM_REGISTER

  spdlog::set_default_logger(spdlog::stderr_color_st("darkroom"));  // stdout is for results
  spdlog::set_pattern("darkroom: %v");
  spdlog::set_level(spdlog::level::warn);
  if (const char* lvl = std::getenv("DARKROOM_LOG")) spdlog::set_level(spdlog::level::from_str(lvl));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 like the other errors a user can act on (CLI11's
    // own codes, 105-109, say nothing to a script).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const UserError& e) {
    std::fflush(stdout);
    std::cerr << "darkroom: " << e.what() << "\n";
    return e.code();
  } catch (const dr::app::Error& e) {
    std::fflush(stdout);
    std::cerr << "darkroom: " << e.what() << "\n";
    return 2;
  } catch (const dr::runtime::ModelError& e) {
    std::fflush(stdout);
    std::cerr << "darkroom: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::cerr << "darkroom: " << e.what() << "\n";
    return 2;
  }
  return g.exit_code;
}

}  // namespace
