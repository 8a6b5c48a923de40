#include "analyzers/text/text_task.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <stdexcept>

namespace dr::analyzers {
namespace text {

nlohmann::json to_json(const OcrResult& r, double to_display) {
  auto tenth = [](double v) { return std::round(v * 10) / 10; };
  nlohmann::json lines = nlohmann::json::array();
  for (auto& l : r.lines) {
    nlohmann::json box = nlohmann::json::array();
    for (auto& p : l.box) box.push_back({tenth(p.x * to_display), tenth(p.y * to_display)});
    lines.push_back({{"text", l.text}, {"score", std::round(double(l.score) * 1e4) / 1e4}, {"box", box}});
  }
  return {{"lines", lines}, {"full", r.full}};
}

}  // namespace text

namespace {

using runtime::ModelEntry;

const ModelEntry& pick(const runtime::ModelStore& store, const std::string& role, const std::string& chosen) {
  const ModelEntry* e = store.manifest().pick("text", role, chosen);
  if (!e) {
    if (!chosen.empty())
      throw runtime::ModelError("the text " + role + " '" + chosen +
                                "' is not in the manifest; `darkroom models list` shows the known models");
    throw runtime::ModelError("the manifest has no default text " + role);
  }
  if (e->task != "text" || e->role != role)
    throw runtime::ModelError("the model " + e->id + " is not a text " + role + " (task " + e->task + ", role " +
                              e->role + ")");
  return *e;
}

class TextTask : public Task {
 public:
  explicit TextTask(TaskContext& ctx) {
    const nlohmann::json s = ctx.settings.value("text", nlohmann::json::object());
    auto id = [&](const char* key) {
      return s.contains(key) && s[key].is_string() ? s[key].get<std::string>() : std::string();
    };
    const bool classify = !(s.contains("classifier") && s["classifier"].is_boolean() && !s["classifier"].get<bool>());

    const ModelEntry& det = pick(ctx.store, "detector", id("detector"));
    const ModelEntry& rec = pick(ctx.store, "recognizer", id("recognizer"));
    text::OcrOptions o;
    o.det.limit_side = det.input.value("limit_side", o.det.limit_side);
    o.det.multiple = det.input.value("multiple", o.det.multiple);
    o.det.limit_side = s.value("limit_side", o.det.limit_side);
    o.det.thresh = s.value("thresh", o.det.thresh);
    o.det.box_thresh = s.value("box_thresh", o.det.box_thresh);
    o.det.unclip_ratio = s.value("unclip_ratio", o.det.unclip_ratio);
    o.drop_score = s.value("drop_score", o.drop_score);
    o.space_from_blank = s.value("space_from_blank", o.space_from_blank);
    // Small sans-serif text keeps its spaces with crop_margin_min_height 16, small serif text loses letters with
    // it: a choice per library (BENCHMARKS.md, "Text").
    o.crop_margin = s.value("crop_margin", o.crop_margin);
    o.crop_margin_min_height = s.value("crop_margin_min_height", o.crop_margin_min_height);
    o.fine_below = s.value("fine_below", o.fine_below);
    if (s.contains("reread_glued")) {
      if (!s["reread_glued"].is_boolean())
        throw std::invalid_argument("text setting 'reread_glued' must be true or false");
      o.reread_glued = s["reread_glued"].get<bool>();
    }
    o.rec_height = rec.input.value("height", o.rec_height);
    o.classify = classify;
    side_ = s.value("side", side_);
    if (side_ < 0) throw std::invalid_argument("text setting 'side' must be 0 (full size) or a positive number");

    auto open = [&](const ModelEntry& e) {
      auto session = ctx.rt.open(e, ctx.store.require(e, "model"), e.onnx().sha256);
      models_.push_back({{e.id, e.onnx().sha256}, session});
      return text::Model{[session](std::vector<Ort::Value>& in) { return session->run(in); },
                         text::Normalize::from_input(e.input), [session] { return session->on_gpu(); }};
    };
    text::Model det_model = open(det);
    std::optional<text::Model> cls_model;
    if (classify) {
      const ModelEntry& cls = pick(ctx.store, "classifier", id("classifier"));
      if (cls.input.contains("size") && cls.input["size"].size() == 2) {
        o.cls_height = cls.input["size"][0].get<int>();
        o.cls_width = cls.input["size"][1].get<int>();
      }
      cls_model = open(cls);
    }
    text::Model rec_model = open(rec);
    if (models_.back().session->on_gpu()) o.rec_batch = 8;
    bool space_last = true;
    if (rec.raw.contains("output") && rec.raw["output"].contains("ctc"))
      space_last = rec.raw["output"]["ctc"].value("space_last", true);
    const std::string keys = ctx.store.require(rec, "keys");
    if (auto* kf = rec.file("keys")) models_.push_back({{rec.id + "#keys", kf->sha256}, nullptr});
    ocr_ = std::make_unique<text::Ocr>(std::move(det_model), std::move(cls_model), std::move(rec_model),
                                       text::Charset::load(keys, space_last), o);
  }

  std::string name() const override { return "text"; }
  int wanted_side() const override { return side_; }
  std::vector<ModelRef> models() const override {
    std::vector<ModelRef> refs;
    for (const auto& [ref, session] : models_) {
      refs.push_back(ref);
      if (session && session->int8()) refs.back().variant = "int8";
    }
    return refs;
  }

  nlohmann::json run(const image::Decoded& img, const RunOptions& opts) override {
    if (img.rgb.width <= 0 || img.rgb.height <= 0) return text::to_json({}, 1.0);
    // The pixels are only read: wrapping them avoids a copy.
    cv::Mat rgb(img.rgb.height, img.rgb.width, CV_8UC3, const_cast<uint8_t*>(img.rgb.pixels.data()));
    // A photo decoded smaller than it is: small lines are cut from the full-resolution pixels, decoded on demand.
    image::Decoded full;
    std::function<cv::Mat()> full_rgb;
    if (opts.full_resolution && img.rgb.width < img.info.display_width)
      full_rgb = [&]() -> cv::Mat {
        try {
          full = opts.full_resolution();
        } catch (const std::exception& e) {
          spdlog::warn("text: small lines are read from the reduced photo: {}", e.what());
          return {};
        }
        return cv::Mat(full.rgb.height, full.rgb.width, CV_8UC3, full.rgb.pixels.data());
      };
    text::OcrResult r = ocr_->run(rgb, full_rgb);
    spdlog::debug(
        "text: {} boxes ({} cut from the full-resolution photo, decoded in {:.1f} ms), {} lines; detect {:.1f} ms, "
        "classify {:.1f} ms, recognize {:.1f} ms ({} glued lines read again{})",
        r.timings.boxes, r.timings.fine_crops, r.timings.fine_decode_ms, r.lines.size(), r.timings.detect_ms,
        r.timings.classify_ms, r.timings.recognize_ms, r.timings.rereads,
        r.timings.margin_page ? "; small lines read with the margin" : "");
    return text::to_json(r, img.to_display());
  }

 private:
  int side_ = 1600;
  struct Used {
    ModelRef ref;
    std::shared_ptr<runtime::Session> session;  // null for a key file
  };
  std::vector<Used> models_;
  std::unique_ptr<text::Ocr> ocr_;
};

}  // namespace

std::unique_ptr<Task> make_text_task(TaskContext& ctx) { return std::make_unique<TextTask>(ctx); }

}  // namespace dr::analyzers
