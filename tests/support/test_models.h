// Small ONNX models that tests build to stand in for weights that cannot be shipped: a DETR-shaped detector with
// known outputs and CLIP-shaped image and text encoders whose embedding geometry the tests control.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace dr::test {

// Runtime options for tests: the CPU only, `threads` intra-op threads, graph rewrites as the program does them. Each
// test file keeps its own Runtime (sessions are cached by model id, and test models reuse ids across files).
inline runtime::Options cpu_options(int threads = 1, bool rewrite_graphs = true) {
  runtime::Options o;
  o.device.kind = runtime::DeviceRequest::Cpu;
  o.threads = threads;
  o.rewrite_graphs = rewrite_graphs;
  return o;
}

// A DETR export's interface (pixel_values [1,3,H,W] -> logits [1,Q,C], pred_boxes [1,Q,4]) that ignores the image
// and returns these values. logits.size() == Q * C, boxes.size() == Q * 4.
void write_detr_model(const std::string& path, size_t queries, size_t classes, const std::vector<float>& logits,
                      const std::vector<float>& boxes);

// Token ids of the words the CLIP test models know (from the real vocabulary: "red</w>", "green</w>", "blue</w>").
constexpr int kRedToken = 736, kGreenToken = 1901, kBlueToken = 1746;

struct ClipFolderOptions {
  int image_size = 224;
  int text_dim_extra = 0;         // > 0: the text encoder gives D + this (a broken pair)
  bool int32_text = false;        // token ids as int32, as Immich's exports take them
  bool with_config = true;        // config.json (OpenCLIP's)
  bool with_preprocess = false;   // visual/preprocess_cfg.json with mean 0.5, std 0.5
  bool with_textual = true;       // false: the folder lacks textual/model.onnx
  bool bad_visual_input = false;  // the image encoder takes [N,3] instead of an image
};

// Writes a solid-colour RGB PNG (8-bit, no interlace), encoded here with zlib.
void write_solid_png(const std::string& path, int width, int height, uint8_t r, uint8_t g, uint8_t b);

// Writes an OpenCLIP / Immich-style folder with D = 4:
//   visual:  the mean of each normalised channel over the image, (r, g, b) -> (r, g, b, 0.1)
//   textual: the mean over the 77 positions of a table lookup where red -> (1,-1,-1,0), green -> (-1,1,-1,0),
//            blue -> (-1,-1,1,0) and every other id -> 0
// so that a red photo's embedding is nearest to the text "red", and so on.
void write_clip_folder(const std::string& dir, const ClipFolderOptions& o = {});

}  // namespace dr::test
