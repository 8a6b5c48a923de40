// The model cache as `models` and `doctor` report it: each known model's files and state, and where each installed
// model runs and why.
#pragma once
#include <nlohmann/json.hpp>

#include "runtime/model_store.h"
#include "runtime/runtime.h"

namespace dr::app {

// {"version","onnxruntime","device_requested","threads","models_dir","gpu": {...}, "models": [...], "missing": [...]}
// Loads (and probes) every installed model; `bad` is set when one is corrupt or cannot be loaded.
// One manifest entry: {"id","task","role","family","licence","default","installed","files": [{"name","path",
// "sha256","size","url","status": "ok"|"missing"|"corrupt"}]}.
nlohmann::json model_json(const runtime::ModelStore& models, const runtime::ModelEntry& e);

nlohmann::json doctor_report(const runtime::ModelStore& models, runtime::Runtime& rt, bool& bad);

}  // namespace dr::app
