#include "analyzers/faces/faces_task.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "analyzers/faces/faces.h"
#include "analyzers/faces/model_pack.h"

namespace dr::analyzers {
namespace {

// Rounded to 1/k (dividing last keeps 12.3 printing as 12.3).
double round_to(double v, double k) { return std::round(v * k) / k; }

class FacesTask : public Task {
 public:
  explicit FacesTask(TaskContext& ctx) {
    auto s = ctx.settings.value("faces", nlohmann::json::object());
    faces::DetectorOptions dopts;
    dopts.max_side = s.value("max_side", dopts.max_side);
    dopts.min_score = s.value("min_score", dopts.min_score);
    dopts.min_size = s.value("min_size", dopts.min_size);
    dopts.nms_iou = s.value("nms_iou", dopts.nms_iou);
    dopts.max_faces = s.value("max_faces", dopts.max_faces);
    decode_side_ = s.value("decode_side", 2 * dopts.max_side);

    std::optional<faces::ModelPack> pack;
    if (auto dir = s.value("model_pack", std::string()); !dir.empty()) {
      pack = faces::scan_model_pack(dir, ctx.rt.env());
      for (auto& why : pack->skipped) spdlog::info("face model pack: {}", why);
    }
    // A model from the pack when it has one of that kind, else the manifest's choice.
    auto open = [&](const std::optional<faces::PackModel>& from_pack, const char* role,
                    const std::string& chosen) -> std::pair<std::shared_ptr<runtime::Session>, runtime::ModelEntry> {
      if (from_pack) {
        models_.push_back({from_pack->entry.id, from_pack->sha256});
        return {ctx.rt.open(from_pack->entry, from_pack->path, from_pack->sha256), from_pack->entry};
      }
      const runtime::ModelEntry* e = ctx.store.manifest().pick("faces", role, chosen);
      if (!e) throw runtime::ModelError(std::string("no face ") + role + " in the manifest; `darkroom models list`");
      std::string path = ctx.store.require(*e);
      models_.push_back({e->id, e->onnx().sha256});
      return {ctx.rt.open(*e, path, e->onnx().sha256), *e};
    };
    auto [det_session, det_entry] =
        open(pack ? pack->detector : std::nullopt, "detector", s.value("detector", std::string()));
    auto [emb_session, emb_entry] =
        open(pack ? pack->recognizer : std::nullopt, "embedder", s.value("embedder", std::string()));
    analyzer_ = std::make_unique<faces::FaceAnalyzer>(
        std::make_unique<faces::FaceDetector>(det_session, det_entry, dopts),
        std::make_unique<faces::FaceEmbedder>(emb_session, emb_entry));
  }

  std::string name() const override { return "faces"; }
  int wanted_side() const override { return decode_side_; }
  std::vector<ModelRef> models() const override { return models_; }

  nlohmann::json run(const image::Decoded& img, const RunOptions& opts) override {
    auto found = analyzer_->analyze(img, opts.embeddings);
    nlohmann::json out = nlohmann::json::array();
    for (auto& f : found) out.push_back(face_json(f, opts.embeddings));
    return out;
  }

 private:
  int decode_side_ = 0;
  std::vector<ModelRef> models_;
  std::unique_ptr<faces::FaceAnalyzer> analyzer_;
};

}  // namespace

nlohmann::json face_json(const faces::Face& f, bool embedding) {
  auto px = [](double v) { return round_to(v, 10); };
  nlohmann::json lm = nlohmann::json::array();
  for (auto& p : f.landmarks) lm.push_back({px(p.x), px(p.y)});
  nlohmann::json j = {{"box", {px(f.box.x), px(f.box.y), px(f.box.width), px(f.box.height)}},
                      {"score", round_to(f.score, 1e4)},
                      {"landmarks", lm},
                      {"quality",
                       {{"size", px(f.quality.size)},
                        {"blur", round_to(f.quality.blur, 10)},
                        {"frontal", round_to(f.quality.frontal, 1e3)}}}};
  if (embedding) j["embedding"] = f.embedding;
  return j;
}

std::unique_ptr<Task> make_faces_task(TaskContext& ctx) { return std::make_unique<FacesTask>(ctx); }

}  // namespace dr::analyzers
