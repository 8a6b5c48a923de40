#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "cli/cli.h"

namespace dr::cli {

int threads(const Globals& g) {
  return g.threads > 0 ? g.threads : int(std::max(1u, std::thread::hardware_concurrency()));
}

std::string models_dir(const Globals& g) { return g.models.empty() ? runtime::ModelStore::default_dir() : g.models; }

runtime::ModelStore model_store(const Globals& g) {
  std::string dir = models_dir(g);
  return runtime::ModelStore(dir, runtime::Manifest::load(dir));
}

runtime::Options runtime_options(const Globals& g) {
  runtime::Options o;
  try {
    o.device = runtime::DeviceRequest::parse(g.device);
    if (const char* a = std::getenv("DARKROOM_CUDNN_ALGO_SEARCH"); a && *a)
      o.cudnn_conv_algo_search = runtime::Options::parse_cudnn_conv_algo_search(a);
  } catch (const std::invalid_argument& e) {
    throw UserError(e.what());
  }
  o.threads = threads(g);
  o.cuda_provider = g.cuda_provider;
  o.rewrite_graphs = !g.no_graph_rewrite;
  o.int8 = g.int8;
  o.probe_cache = (std::filesystem::path(models_dir(g)) / ".probe-cache.json").string();
  return o;
}

void print_json_line(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace dr::cli
