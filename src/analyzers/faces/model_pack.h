// InsightFace model packs (a folder such as ~/.insightface/models/buffalo_l) used as they are. Each .onnx file in the
// folder is classified by its inputs and outputs, never by its name (output shapes as one run on a small black image
// gives them, since exports often leave them symbolic):
//   - a detector of the SCRFD family: one [N,3,H,W] input; score, box and landmark outputs for each stride (last
//     dimensions 1, 4 and 10, the same number of each);
//   - a recogniser: one [N,3,112,112] input and one [N,D] output.
// Anything else (buffalo_l's gender/age and 2D/3D landmark models) is skipped with the reason. The models found get
// manifest entries made on the spot (id "face-detector/pack-<sha256 prefix>", family, InputFacts of InsightFace:
// RGB, (x - 127.5) / 128 for the detector and (x - 127.5) / 127.5 for the recogniser), used directly: nothing is
// copied into the model cache and no manifest.d file is written.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "runtime/model_store.h"
#include "runtime/runtime.h"

namespace dr::analyzers::faces {

struct PackModel {
  runtime::ModelEntry entry;
  std::string path;    // absolute
  std::string sha256;  // of the file, recorded with every result it makes
};

struct ModelPack {
  std::string dir;
  std::optional<PackModel> detector, recognizer;
  std::vector<std::string> skipped;  // "file.onnx: why", for the log and for doctor
};

// Classifies every .onnx file in `dir` (sha256s are remembered in <dir>/.verified when the folder is writable).
// Throws runtime::ModelError when the folder cannot be read or holds no usable detector or recogniser. When it holds
// several of a kind, the first in file-name order is used, as InsightFace's FaceAnalysis does; the others are
// listed in `skipped`.
ModelPack scan_model_pack(const std::string& dir, Ort::Env& env);

}  // namespace dr::analyzers::faces
