#include "app/models.h"

#include <onnxruntime_cxx_api.h>

namespace dr::app {
namespace {

nlohmann::json opt(const std::optional<std::string>& s) { return s ? nlohmann::json(*s) : nlohmann::json(nullptr); }

const char* status_word(const runtime::FileCheck& c) {
  return !c.present ? "missing" : (c.sha256_ok ? "ok" : "corrupt");
}

}  // namespace

nlohmann::json model_json(const runtime::ModelStore& store, const runtime::ModelEntry& e) {
  nlohmann::json files = nlohmann::json::array();
  bool installed = true;
  for (auto& f : e.files) {
    auto c = store.check(f);
    installed = installed && c.sha256_ok;
    files.push_back({{"name", f.name},
                     {"path", c.path},
                     {"sha256", f.sha256},
                     {"size", f.size},
                     {"url", f.url},
                     {"status", status_word(c)}});
  }
  return {{"id", e.id},
          {"task", e.task},
          {"role", e.role},
          {"family", e.family},
          {"licence", e.licence},
          {"default", e.default_install},
          {"installed", installed},
          {"files", files}};
}

nlohmann::json doctor_report(const runtime::ModelStore& store, runtime::Runtime& rt, bool& bad) {
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
  bad = false;
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
  return j;
}

}  // namespace dr::app
