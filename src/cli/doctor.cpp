// darkroom doctor: the GPU found (or why none), and where each installed model runs and why.
#include <onnxruntime_cxx_api.h>

#include "app/models.h"
#include "cli/cli.h"

namespace dr::cli {
namespace {

void run_doctor(Globals& g) {
  auto store = model_store(g);
  runtime::Runtime rt(runtime_options(g));
  const auto& gpu = rt.gpu();
  bool bad = false;
  auto j = app::doctor_report(store, rt, bad);
  const auto& models = j["models"];
  const auto& missing = j["missing"];
  if (g.json) {
    print_json_line(j);
  } else {
    std::printf("darkroom %s, ONNX Runtime %s, %d threads, device %s\n", DARKROOM_VERSION,
                Ort::GetVersionString().c_str(), rt.options().threads, rt.options().device.str().c_str());
    if (gpu.usable)
      std::printf("GPU: %s (driver %s), provider %s\n", gpu.name.c_str(), gpu.driver.c_str(),
                  gpu.provider_library.c_str());
    else
      std::printf("GPU: none usable: %s\n", gpu.reason.c_str());
    std::printf("models (%s):\n", store.dir().c_str());
    for (auto& m : models) {
      std::string prov = m["provider"].is_null() ? "not loadable" : m["provider"].get<std::string>();
      std::printf("  %-38s %-22s", m["id"].get<std::string>().c_str(), prov.c_str());
      if (m["load_ms"].is_number()) std::printf(" load %6.1f ms", m["load_ms"].get<double>());
      if (m["probe_ms"].is_number() && m["probe_ms"].get<double>() > 0)
        std::printf("  probe %6.1f ms", m["probe_ms"].get<double>());
      std::printf("\n");
      if (m.contains("probe_times") && m["probe_times"]["gpu_ms"].is_number()) {
        auto& t = m["probe_times"];
        std::printf("      a run: GPU %.2f ms, CPU %.2f ms", t["gpu_ms"].get<double>(), t["cpu_ms"].get<double>());
        if (t["cpu_share"].get<double>() < 1)
          std::printf(" on %.0f%% of the cores", 100 * t["cpu_share"].get<double>());
        if (t["gpu_new_shape_ms"].is_number())
          std::printf("; at a new shape: GPU %.1f ms, CPU %.1f ms", t["gpu_new_shape_ms"].get<double>(),
                      t["cpu_new_shape_ms"].get<double>());
        std::printf("\n");
      }
      if (!m["fallback_reason"].is_null())
        std::printf("      why: %s\n", m["fallback_reason"].get<std::string>().c_str());
    }
    for (auto& m : missing)
      std::printf("  %-38s not installed (darkroom models install %s)\n", m["id"].get<std::string>().c_str(),
                  m["id"].get<std::string>().c_str());
  }
  g.exit_code = bad ? 1 : 0;
}

}  // namespace

void register_doctor(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("doctor", "show the GPU found and where each installed model runs, and why");
  cmd->callback([&g] { run_doctor(g); });
}

}  // namespace dr::cli
