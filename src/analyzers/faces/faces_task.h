// The "faces" task: the faces analyzer behind the Task interface, printing DESIGN.md's `faces` key.
#pragma once
#include "analyzers/task.h"

namespace dr::analyzers {

// Settings under "faces" (all optional):
//   detector, embedder   manifest ids (default: the manifest's defaults, YuNet and MobileFaceNet)
//   model_pack           a folder of InsightFace models (e.g. ~/.insightface/models/buffalo_l), used as it is; its
//                        detector and recogniser replace the manifest's (see analyzers/faces/model_pack.h)
//   max_side             the detector's longest side (default 640); decode_side: the photo's (default 2 x max_side)
//   min_score, min_size, nms_iou, max_faces   see analyzers/faces/faces.h, DetectorOptions
std::unique_ptr<Task> make_faces_task(TaskContext& ctx);

// One face as DESIGN.md's JSON: box, score, landmarks, quality, and embedding when `embedding` is true.
namespace faces {
struct Face;
}
nlohmann::json face_json(const faces::Face& f, bool embedding);

}  // namespace dr::analyzers
