// The "text" task: OCR of a photo with PP-OCR models (detector, 0/180 classifier, recognizer), as the JSON of
// DESIGN.md's contract: {"lines": [{"text", "score", "box": [[x,y] x4]}], "full"}, coordinates in the displayed image.
//
// Settings (TaskContext::settings["text"], all optional):
//   "detector", "classifier", "recognizer": a manifest id for that role (another language's recognizer with its own
//                     key file is added through <models>/manifest.d and chosen here); "classifier": false turns the
//                     orientation step off
//   "side":           the longest side the photo is decoded at (default 1600; 0 = full size); the detector sees at
//                     most "limit_side" pixels, the recognizer reads lines cropped from the decoded image
//   "limit_side", "thresh", "box_thresh", "unclip_ratio": the DB detector's parameters (PaddleOCR's defaults)
//   "drop_score":     lines recognised with a lower confidence are dropped (default 0.5)
#pragma once
#include <memory>

#include "analyzers/task.h"
#include "analyzers/text/ocr.h"

namespace dr::analyzers {

std::unique_ptr<Task> make_text_task(TaskContext& ctx);

namespace text {
// The task's JSON for a result whose boxes are in pixels of an image `to_display` times smaller than the displayed one.
nlohmann::json to_json(const OcrResult& r, double to_display);
}  // namespace text

}  // namespace dr::analyzers
