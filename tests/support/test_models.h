// Small ONNX models that tests build to stand in for weights that cannot be shipped: a DETR-shaped detector with
// known outputs and CLIP-shaped image and text encoders whose embedding geometry the tests control.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace dr::test {

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
