// The "objects" task: the manifest's object detector (YOLOX or DETR family), boxes in the displayed image.
// Settings: {"objects": {"model": "<manifest id>", "min_score": 0.45}}.
#pragma once
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/objects/detection.h"
#include "analyzers/task.h"

namespace dr::analyzers {

std::unique_ptr<Task> make_objects_task(TaskContext& ctx);

namespace objects {

// One detector ready to run: what the task uses, and what tests and benchmarks call directly.
class Detector {
 public:
  // Opens the model of `entry` (family "yolox" or "detr") through the runtime; `min_score` < 0 takes the
  // manifest's output.score_threshold (or the family's default). Throws runtime::ModelError for an unknown family
  // or a model whose inputs and outputs do not have the family's shapes.
  Detector(runtime::Runtime& rt, const runtime::ModelEntry& entry, const std::string& path, const std::string& sha256,
           float min_score = -1);
  // Boxes in img's pixels, best first.
  std::vector<Detection> detect(const image::Rgb& img) const;
  int wanted_side() const { return wanted_side_; }
  float min_score() const { return min_score_; }
  const std::string& family() const { return family_; }
  const runtime::Session& session() const { return *session_; }

 private:
  std::vector<Detection> detect_yolox(const image::Rgb& img) const;
  std::vector<Detection> detect_detr(const image::Rgb& img) const;

  std::shared_ptr<runtime::Session> session_;
  std::string family_, model_id_;
  int width_ = 0, height_ = 0;           // YOLOX input size
  int shortest_ = 800, longest_ = 1333;  // DETR resize
  float pad_ = 114;
  bool rgb_ = false;
  std::array<float, 3> mean_{}, std_{1, 1, 1};
  float scale_ = 1;
  std::vector<int> strides_;
  float min_score_ = 0.45f, nms_iou_ = 0.45f;
  int wanted_side_ = 0;
};

}  // namespace objects
}  // namespace dr::analyzers
