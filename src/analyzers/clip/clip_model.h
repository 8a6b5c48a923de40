// A CLIP model as the public exports ship it: an OpenCLIP / Immich-style folder
//   <folder>/visual/model.onnx          image [N,3,S,S] float -> embedding [N,D]
//   <folder>/textual/model.onnx         token ids [N,C] (int64, or int32 as Immich's exports take) -> [N,D]
//   <folder>/config.json                optional: OpenCLIP's {"embed_dim", "vision_cfg": {"image_size"},
//                                       "text_cfg": {"context_length"}}
//   <folder>/visual/preprocess_cfg.json optional: {"size", "mean", "std", "interpolation", "resize_mode"}
//   <folder>/textual/tokenizer.json     optional: the model's own tokenizer (Hugging Face format, CLIP's BPE)
// with the tokenizer of clip/tokenizer.h: the folder's tokenizer.json when it has one, else OpenAI's BPE vocabulary
// (which the OpenAI and most OpenCLIP models share).
#pragma once
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "analyzers/clip/tokenizer.h"
#include "image/decode.h"
#include "runtime/runtime.h"

namespace dr::analyzers::clip {

struct Preprocess {
  int size = 224;                                                      // square input side
  std::array<float, 3> mean = {0.48145466f, 0.4578275f, 0.40821073f};  // CLIP's, on RGB scaled to 0..1
  std::array<float, 3> std = {0.26862954f, 0.26130258f, 0.27577711f};
  bool bicubic = true;  // else bilinear
  // Reads a preprocess_cfg.json (missing keys keep their defaults); throws runtime::ModelError when malformed.
  static Preprocess from_json(const nlohmann::json& j);
};

// Shortest side to cfg.size (large reductions first averaged down to twice the size, so that bicubic does not
// alias), centre crop, RGB / 255, minus mean, over std. Returns 3 x size x size floats, planar.
std::vector<float> preprocess(const image::Rgb& img, const Preprocess& cfg);

// L2-normalises in place (a zero vector stays zero).
void l2_normalise(std::vector<float>& v);

struct ModelFiles {
  std::string visual, textual;     // .onnx paths (required)
  std::string config, preprocess;  // optional JSON files ("" = none)
  std::string tokenizer;           // optional tokenizer.json ("" = the shared BPE vocabulary)
  std::string visual_sha256, textual_sha256;
  std::string id;  // the manifest id, for sessions and messages
};

// The files of a model folder as laid out above; throws runtime::ModelError naming the missing file.
ModelFiles folder_files(const std::string& folder);

class Model {
 public:
  // Opens both encoders through the runtime and checks their shapes against each other (same D, image input
  // [N,3,S,S], token input [N,C]); a mismatch is a runtime::ModelError that says which file is wrong.
  Model(runtime::Runtime& rt, const ModelFiles& files, std::shared_ptr<const Tokenizer> tokenizer);

  int dim() const { return dim_; }
  size_t context() const { return context_; }
  const Preprocess& preprocess_config() const { return pre_; }
  const ModelFiles& files() const { return files_; }
  const Tokenizer& tokenizer() const { return *tok_; }

  // Unit-length embeddings.
  std::vector<float> encode_image(const image::Rgb& img) const;
  struct Text {
    std::vector<float> embedding;
    bool truncated = false;  // the text was longer than the context; its end was not seen by the model
    size_t tokens = 0;       // tokens used, start and end included
  };
  Text encode_text(std::string_view text) const;

 private:
  ModelFiles files_;
  std::shared_ptr<const Tokenizer> tok_;
  std::shared_ptr<runtime::Session> visual_, textual_;
  Preprocess pre_;
  size_t context_ = Tokenizer::kContext;
  bool text_int32_ = false;
  int dim_ = 0;
};

}  // namespace dr::analyzers::clip
