#include "support/test_models.h"

#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "support/onnx_builder.h"

namespace fs = std::filesystem;

namespace dr::test {

using namespace onnx;

void write_detr_model(const std::string& path, size_t queries, size_t classes, const std::vector<float>& logits,
                      const std::vector<float>& boxes) {
  Graph g;
  const int64_t q = int64_t(queries), c = int64_t(classes);
  g.inputs.push_back({"pixel_values", kFloat, {1, 3, -1, -1}});
  g.nodes.push_back({"Constant", {}, {"logits"}, {attr_tensor("value", floats("logits_value", {1, q, c}, logits))}});
  g.nodes.push_back({"Constant", {}, {"pred_boxes"}, {attr_tensor("value", floats("boxes_value", {1, q, 4}, boxes))}});
  g.outputs.push_back({"logits", kFloat, {1, q, c}});
  g.outputs.push_back({"pred_boxes", kFloat, {1, q, 4}});
  g.save(path);
}

void write_clip_folder(const std::string& dir, const ClipFolderOptions& o) {
  const int64_t d = 4, s = o.image_size, ctx = 77, vocab = 49408;
  fs::create_directories(fs::path(dir) / "visual");
  fs::create_directories(fs::path(dir) / "textual");

  Graph v;
  if (o.bad_visual_input) {
    v.inputs.push_back({"image", kFloat, {-1, 3}});
    v.nodes.push_back({"MatMul", {"image", "w"}, {"embedding"}, {}});
  } else {
    v.inputs.push_back({"image", kFloat, {-1, 3, s, s}});
    v.nodes.push_back({"ReduceMean", {"image"}, {"means"}, {attr_ints("axes", {2, 3}), attr_int("keepdims", 0)}});
    v.nodes.push_back({"MatMul", {"means", "w"}, {"projected"}, {}});
    v.nodes.push_back({"Add", {"projected", "b"}, {"embedding"}, {}});
  }
  v.initializers.push_back(floats("w", {3, d}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}));
  v.initializers.push_back(floats("b", {d}, {0, 0, 0, 0.1f}));
  v.outputs.push_back({"embedding", kFloat, {-1, d}});
  v.save((fs::path(dir) / "visual" / "model.onnx").string());

  if (o.with_textual) {
    const int64_t td = d + o.text_dim_extra;
    std::vector<float> table(size_t(vocab * td), 0.f);
    auto set = [&](int id, std::vector<float> e) {
      for (size_t k = 0; k < e.size(); ++k) table[size_t(id * td) + k] = e[k];
    };
    set(kRedToken, {1, -1, -1, 0});
    set(kGreenToken, {-1, 1, -1, 0});
    set(kBlueToken, {-1, -1, 1, 0});
    Graph t;
    t.inputs.push_back({"text", o.int32_text ? kInt32 : kInt64, {-1, ctx}});
    t.initializers.push_back(floats("table", {vocab, td}, table));
    t.nodes.push_back({"Gather", {"table", "text"}, {"rows"}, {attr_int("axis", 0)}});
    t.nodes.push_back({"ReduceMean", {"rows"}, {"embedding"}, {attr_ints("axes", {1}), attr_int("keepdims", 0)}});
    t.outputs.push_back({"embedding", kFloat, {-1, td}});
    t.save((fs::path(dir) / "textual" / "model.onnx").string());
  }
  if (o.with_config) {
    std::ofstream(fs::path(dir) / "config.json")
        << R"({"embed_dim": 4, "vision_cfg": {"image_size": )" << s
        << R"(, "layers": 1}, "text_cfg": {"context_length": 77, "vocab_size": 49408}})";
  }
  if (o.with_preprocess) {
    std::ofstream(fs::path(dir) / "visual" / "preprocess_cfg.json")
        << R"({"size": [)" << s << ", " << s
        << R"(], "mode": "RGB", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "interpolation": "bicubic",
              "resize_mode": "shortest"})";
  }
}

void write_solid_png(const std::string& path, int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  auto be32 = [](std::string& out, uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(char((v >> s) & 0xFF));
  };
  auto chunk = [&](std::string& out, const char* type, const std::string& data) {
    be32(out, uint32_t(data.size()));
    std::string body = std::string(type, 4) + data;
    out += body;
    be32(out, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
  };
  std::string ihdr;
  be32(ihdr, uint32_t(width));
  be32(ihdr, uint32_t(height));
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  std::string raw;
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: none
    for (int x = 0; x < width; ++x) raw += {char(r), char(g), char(b)};
  }
  uLongf n = compressBound(uLong(raw.size()));
  std::string z(n, '\0');
  compress(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(raw.data()), uLong(raw.size()));
  z.resize(n);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  std::ofstream(path, std::ios::binary) << png;
}

}  // namespace dr::test
