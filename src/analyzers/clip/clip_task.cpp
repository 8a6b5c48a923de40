#include "analyzers/clip/clip_task.h"

#include <filesystem>
#include <map>
#include <mutex>

namespace fs = std::filesystem;

namespace dr::analyzers {
namespace clip {

namespace {

// Tokenizers are loaded once per file version and process (the vocabulary takes tens of milliseconds to read).
std::shared_ptr<const Tokenizer> cached(const std::string& path, Tokenizer (*load)(const std::string&)) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  const auto mtime = fs::last_write_time(path, ec).time_since_epoch().count();
  const std::string key = path + '\n' + std::to_string(size) + '\n' + std::to_string(mtime);
  std::lock_guard lock(mu);
  auto& t = cache[key];
  if (!t) {
    try {
      t = std::make_shared<const Tokenizer>(load(path));
    } catch (const std::runtime_error& e) {
      throw runtime::ModelError(e.what());
    }
  }
  return t;
}

}  // namespace

std::shared_ptr<const Tokenizer> load_tokenizer(const runtime::ModelStore& store) {
  const auto* entry = store.manifest().pick("clip-tokenizer", "tokenizer");
  if (!entry) throw runtime::ModelError("the manifest lists no CLIP tokenizer (task clip-tokenizer)");
  return cached(store.require(*entry, "vocab"), &Tokenizer::from_gzip);
}

std::shared_ptr<const Tokenizer> tokenizer_for(const ModelFiles& files, const runtime::ModelStore& store) {
  if (!files.tokenizer.empty()) return cached(files.tokenizer, &Tokenizer::from_hf_json_file);
  return load_tokenizer(store);
}

std::shared_ptr<Model> load_model(runtime::Runtime& rt, const runtime::ModelStore& store, const std::string& chosen) {
  const auto* entry = store.manifest().pick("clip", "encoder", chosen);
  std::string listed;
  if (!entry) {
    // CLIP models are not installed by default: take the first one that is installed.
    for (const auto* e : store.manifest().for_task("clip")) {
      if (e->role != "encoder") continue;
      listed += (listed.empty() ? "" : ", ") + e->id;
      if (!entry && store.installed(*e)) entry = e;
    }
  }
  if (!entry)
    throw runtime::ModelError(
        "no CLIP model is installed: CLIP weights do not ship with darkroom. " +
        (listed.empty() ? std::string()
                        : "`darkroom models install ID` downloads one the manifest lists (" + listed +
                              "; about 600 MB for ViT-B/32); ") +
        "or put an OpenCLIP / Immich-style folder (visual/model.onnx, textual/model.onnx) under the model cache and "
        "describe it in <models>/manifest.d/clip.json (see README, \"CLIP search needs a real model\")");
  if (!entry->file("visual") || !entry->file("textual"))
    throw runtime::ModelError("CLIP model " + entry->id + " must name two files, \"visual\" and \"textual\"");
  ModelFiles f;
  f.id = entry->id;
  f.visual = store.require(*entry, "visual");
  f.textual = store.require(*entry, "textual");
  f.visual_sha256 = entry->file("visual")->sha256;
  f.textual_sha256 = entry->file("textual")->sha256;
  // Configs: verified when the entry names them, else taken from the folder when it has them.
  fs::path folder = fs::path(f.visual).parent_path().parent_path();
  if (entry->file("config"))
    f.config = store.require(*entry, "config");
  else if (fs::is_regular_file(folder / "config.json"))
    f.config = (folder / "config.json").string();
  if (entry->file("preprocess"))
    f.preprocess = store.require(*entry, "preprocess");
  else if (fs::is_regular_file(folder / "visual" / "preprocess_cfg.json"))
    f.preprocess = (folder / "visual" / "preprocess_cfg.json").string();
  if (entry->file("tokenizer"))
    f.tokenizer = store.require(*entry, "tokenizer");
  else if (fs::is_regular_file(folder / "textual" / "tokenizer.json"))
    f.tokenizer = (folder / "textual" / "tokenizer.json").string();
  return std::make_shared<Model>(rt, f, tokenizer_for(f, store));
}

}  // namespace clip

namespace {

class ClipTask : public Task {
 public:
  explicit ClipTask(TaskContext& ctx) {
    auto settings = ctx.settings.value("clip", nlohmann::json::object());
    model_ = clip::load_model(ctx.rt, ctx.store, settings.value("model", std::string()));
  }
  std::string name() const override { return "clip"; }
  // Enough pixels for the shortest side to reach the model's size on photos up to 4:1.
  int wanted_side() const override { return model_->preprocess_config().size * 4; }
  std::vector<ModelRef> models() const override {
    return {{model_->files().id, model_->files().visual_sha256}};  // the stored embeddings depend on the image side
  }
  nlohmann::json run(const image::Decoded& img, const RunOptions& opts) override {
    auto emb = model_->encode_image(img.rgb);
    nlohmann::json out = {{"dim", emb.size()}};
    if (opts.embeddings) out["embedding"] = emb;
    return out;
  }

 private:
  std::shared_ptr<clip::Model> model_;
};

}  // namespace

std::unique_ptr<Task> make_clip_task(TaskContext& ctx) { return std::make_unique<ClipTask>(ctx); }

}  // namespace dr::analyzers
