// The hidden `darkroom __probe`: the child process in which a model meets the GPU for the first time (a provider
// may kill the process that runs it). Spawned by runtime::Runtime; not for people.
#include "cli/cli.h"

namespace dr::cli {

void register_probe(CLI::App& app, Globals& g) {
  struct Args {
    std::string model, input, device, provider_lib, out;
    runtime::Options settings;  // the parent's threads, rewrite_graphs and cudnn_conv_algo_search; defaults otherwise
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("__probe", "");
  cmd->group("");  // hidden
  cmd->add_option("--model", a->model)->required();
  cmd->add_option("--input", a->input)->required();
  cmd->add_option("--device", a->device)->required();
  cmd->add_option("--provider-lib", a->provider_lib)->required();
  cmd->add_option("--out", a->out)->required();
  // The session settings of the parent, so that the child runs the graph the parent will run.
  cmd->add_option("--rewrite", a->settings.rewrite_graphs);
  cmd->add_option("--cudnn-algo-search", a->settings.cudnn_conv_algo_search);
  cmd->add_option("--threads", a->settings.threads);
  cmd->callback([&g, a] {
    g.exit_code = runtime::Runtime::probe_child(a->model, a->input, a->device, a->provider_lib, a->out, a->settings);
  });
}

}  // namespace dr::cli
