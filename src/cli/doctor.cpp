// darkroom doctor: the GPU found (or why none), and where each installed model runs and why.
#include <onnxruntime_cxx_api.h>

#include "cli/cli.h"

namespace dr::cli {
namespace {

nlohmann::json opt(const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(nullptr); }

void run_doctor(Globals& g) {
  auto store = model_store(g);
  runtime::Runtime rt(runtime_options(g));
  const auto& gpu = rt.gpu();
  nlohmann::json j;
  j["version"] = DARKROOM_VERSION;
  j["onnxruntime"] = Ort::GetVersionString();
  j["device_requested"] = rt.options().device.str();
  j["threads"] = rt.options().threads;
  j["models_dir"] = store.dir();
  j["gpu"] = {{"usable", gpu.usable},
              {"name", gpu.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(gpu.name)},
              {"driver", gpu.driver.empty() ? nlohmann::json(nullptr) : nlohmann::json(gpu.driver)},
              {"provider_library", gpu.provider_library},
              {"reason", gpu.reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(gpu.reason)}};
  nlohmann::json models = nlohmann::json::array(), missing = nlohmann::json::array();
  bool bad = false;
  for (auto& e : store.manifest().entries()) {
    const runtime::ModelFile* f = e.file("model");
    if (!f) continue;  // not an ONNX model (a tokenizer vocabulary)
    auto c = store.check(*f);
    if (!c.present) {
      if (e.default_install) missing.push_back({{"id", e.id}, {"file", c.path}, {"sha256", f->sha256}});
      continue;
    }
    nlohmann::json m = {{"id", e.id}, {"task", e.task}, {"file", c.path}, {"sha256_ok", c.sha256_ok}};
    if (!c.sha256_ok) {
      bad = true;
      m.update({{"provider_requested", nullptr},
                {"provider", nullptr},
                {"fallback_reason", "the file is corrupt (sha256 " + c.actual_sha256 + ", expected " + f->sha256 +
                                        "); reinstall it with: darkroom models install " + e.id},
                {"load_ms", nullptr},
                {"probe_ms", nullptr}});
      models.push_back(m);
      continue;
    }
    try {
      auto s = rt.open(e, c.path, c.actual_sha256);
      auto p = s->placement();
      m.update({{"provider_requested", p.provider_requested},
                {"provider", p.provider},
                {"fallback_reason", opt(p.fallback_reason)},
                {"load_ms", p.load_ms},
                {"probe_ms", p.probe_ms},
                {"probe_cached", p.probe_cached},
                {"gpu_slower", p.gpu_slower}});
      // What the probe timed (ms; null: not timed), for the choice between the GPU and the CPU.
      auto t = [](double v) { return v >= 0 ? nlohmann::json(v) : nlohmann::json(nullptr); };
      m["probe_times"] = {{"gpu_ms", t(p.times.gpu_ms)},
                          {"cpu_ms", t(p.times.cpu_ms)},
                          {"gpu_new_shape_ms", t(p.times.gpu_new_shape_ms)},
                          {"cpu_new_shape_ms", t(p.times.cpu_new_shape_ms)},
                          {"cpu_share", p.times.cpu_share}};
    } catch (const std::exception& ex) {
      bad = true;
      m.update({{"provider_requested", nullptr},
                {"provider", nullptr},
                {"fallback_reason", ex.what()},
                {"load_ms", nullptr},
                {"probe_ms", nullptr}});
    }
    models.push_back(m);
  }
  j["models"] = models;
  j["missing"] = missing;
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
