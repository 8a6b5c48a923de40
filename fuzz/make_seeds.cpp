// Writes the fuzz targets' seed corpora, one folder per target under OUT, from files already on the machine: Debian's
// sample photos (opencv-doc, python3-skimage) and ../shared/testdata reduced to a few dozen pixels and written in
// every format darkroom reads (and a few it refuses), the small installed models and hand-made ONNX graphs with
// the patterns the rewrites look for, CLIP's vocabulary, the built-in manifest, the default settings, and the
// requests of docs/API.md. Nothing is downloaded; seeds stay small so that a target runs thousands of inputs a
// second.
//   make_seeds OUT [SHARED_DIR] [MODELS_DIR]
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>
#include <vips/vips8>

#include "catalog/library.h"
#include "support/onnx_builder.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path out_root;
int written = 0;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  if (bytes.empty()) return;  // a saver this libvips lacks
  fs::create_directories(out_root / target);
  std::ofstream(out_root / target / name, std::ios::binary) << bytes;
  ++written;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string gunzip(const fs::path& p) {
  std::string text;
  gzFile f = gzopen(p.c_str(), "rb");
  if (!f) return text;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, size_t(n));
  gzclose(f);
  return text;
}

// ---- images ----------------------------------------------------------------------------------------------------

std::string save(const vips::VImage& im, const char* suffix) {
  void* buf = nullptr;
  size_t len = 0;
  try {
    im.write_to_buffer(suffix, &buf, &len);
  } catch (const vips::VError&) {
    vips_error_clear();
    return {};  // a saver this libvips lacks (heif without an encoder, say)
  }
  std::string s(static_cast<const char*>(buf), len);
  g_free(buf);
  return s;
}

void images(const std::vector<fs::path>& sources) {
  int k = 0;
  for (const auto& src : sources) {
    if (!fs::exists(src)) continue;
    const std::string stem = std::to_string(k++) + "-" + src.stem().string();
    // Small files go in as they are (their own headers, EXIF and quirks).
    if (fs::file_size(src) <= 16 * 1024) put("image", stem + src.extension().string(), read(src));
    vips::VImage im;
    try {
      // In memory: a thumbnail straight from the file can be read only once (sequential access), and it is saved
      // in several formats.
      im = vips::VImage::thumbnail(src.c_str(), 48).copy_memory();
    } catch (const vips::VError&) {
      vips_error_clear();
      continue;
    }
    if (im.bands() > 3 && im.interpretation() == VIPS_INTERPRETATION_CMYK)
      im = im.colourspace(VIPS_INTERPRETATION_sRGB);
    auto rgb = im.bands() >= 3 ? im.extract_band(0, vips::VImage::option()->set("n", 3)) : im;
    // Without ICC profiles, which would make the seeds hundreds of KB (libvips' CMYK profile is 960 KB).
    auto no_profile = [](vips::VImage i) {
      i = i.copy();
      i.remove(VIPS_META_ICC_NAME);
      return i;
    };
    rgb = no_profile(rgb);
    if (k % 3 == 0) {
      put("image", stem + ".jpg", save(rgb, ".jpg[Q=70,strip]"));
      auto rotated = rgb.copy();
      rotated.set(VIPS_META_ORIENTATION, 6);
      put("image", stem + "-exif6.jpg", save(rotated, ".jpg[Q=60]"));
      put("image", stem + "-progressive.jpg", save(rgb, ".jpg[Q=50,interlace,strip]"));
      put("image", stem + "-444.jpg", save(rgb, ".jpg[Q=80,no_subsample,strip]"));
    } else if (k % 3 == 1) {
      put("image", stem + ".png", save(rgb, ".png"));
      put("image", stem + "-16.png", save(rgb.cast(VIPS_FORMAT_USHORT) * 257, ".png"));
      put("image", stem + "-palette.png", save(rgb, ".png[palette,bitdepth=4]"));
      put("image", stem + "-alpha.png", save(rgb.bandjoin(255 - rgb.extract_band(0)), ".png[interlace]"));
      put("image", stem + "-grey.png", save(rgb.colourspace(VIPS_INTERPRETATION_B_W), ".png"));
      put("image", stem + ".gif", save(rgb, ".gif"));
    } else {
      put("image", stem + ".webp", save(rgb, ".webp[Q=50]"));
      put("image", stem + "-lossless.webp", save(rgb.bandjoin(128), ".webp[lossless]"));
      put("image", stem + ".tif", save(rgb, ".tif[compression=lzw]"));
      put("image", stem + "-tiled.tif", save(rgb, ".tif[tile,tile_width=16,tile_height=16,compression=deflate]"));
      put("image", stem + "-jpeg.tif", save(rgb, ".tif[compression=jpeg,Q=50]"));
      put("image", stem + "-cmyk.tif", save(no_profile(rgb.colourspace(VIPS_INTERPRETATION_CMYK)), ".tif"));
      put("image", stem + ".heic", save(rgb, ".heic[Q=30,compression=hevc]"));
      put("image", stem + ".avif", save(rgb, ".avif[Q=30]"));
    }
  }
  // Formats libvips reads and darkroom should not (refused before a loader reads them).
  auto tiny = vips::VImage::black(8, 8).cast(VIPS_FORMAT_UCHAR) + 100;
  put("image", "tiny.ppm", save(tiny, ".ppm"));
  put("image", "tiny.v", save(tiny, ".v"));
  put("image", "tiny.svg",
      "<svg xmlns='http://www.w3.org/2000/svg' width='8' height='8'><rect width='8' height='8'/></svg>");
  put("image", "tiny.csv", "1,2,3\n4,5,6\n");
  put("image", "tiny.mat", "2 2\n1 2\n3 4\n");
  put("image", "not-an-image.txt", "hello");
  // A JPEG that claims to be 60000 x 60000 (the pixel limit refuses it before decoding).
  std::string big = save(tiny.extract_band(0), ".jpg");
  for (size_t i = 0; i + 8 < big.size(); ++i)
    if (uint8_t(big[i]) == 0xFF && uint8_t(big[i + 1]) == 0xC0) {
      big[i + 5] = char(0xEA), big[i + 6] = char(0x60), big[i + 7] = char(0xEA), big[i + 8] = char(0x60);
      break;
    }
  put("image", "claims-60000x60000.jpg", big);
}

// ---- ONNX ------------------------------------------------------------------------------------------------------

void onnx(const std::string& models) {
  namespace ox = dr::test::onnx;
  // The small installed models, apart: at a few hundred KB each they run about ten times a second, so only a
  // campaign starts from them (fuzz/README.md).
  for (const char* small : {"faces/yunet_n_dynamic.onnx", "ocr/ch_ppocr_mobile_v2.0_cls_infer.onnx"})
    if (fs::exists(fs::path(models) / small))
      put("onnx-models", fs::path(small).filename().string(), read(fs::path(models) / small));
  // Hard-swish as paddle2onnx writes it, both orders.
  for (bool div_first : {false, true}) {
    ox::Graph g;
    g.inputs = {{"X", ox::kFloat, {1, 4, 8, 8}}};
    g.outputs = {{"Z", ox::kFloat, {1, 4, 8, 8}}};
    g.initializers = {ox::floats("three", {}, {3.f}), ox::floats("zero", {}, {0.f}), ox::floats("six", {}, {6.f}),
                      ox::floats("w", {4, 4, 1, 1}, std::vector<float>(16, 0.5f)), ox::floats("b", {4}, {1, 2, 3, 4})};
    g.nodes.push_back({"Conv", {"X", "w", "b"}, {"X1"}});
    g.nodes.push_back({"Add", {"X1", "three"}, {"A"}});
    g.nodes.push_back({"Clip", {"A", "zero", "six"}, {"C"}});
    if (div_first) {
      g.nodes.push_back({"Div", {"C", "six"}, {"D"}});
      g.nodes.push_back({"Mul", {"D", "X1"}, {"Z"}});
    } else {
      g.nodes.push_back({"Mul", {"X1", "C"}, {"M"}});
      g.nodes.push_back({"Div", {"M", "six"}, {"Z"}});
    }
    put("onnx", div_first ? "hard-swish-div-first.onnx" : "hard-swish.onnx", g.serialize());
  }
  // Scalar affines after and before convolutions (padded and not), one left over, a BatchNormalization.
  {
    ox::Graph g;
    g.inputs = {{"X", ox::kFloat, {1, 2, 6, 6}}};
    g.outputs = {{"Y", ox::kFloat, {-1, 2, -1, -1}}};
    g.initializers = {ox::floats("s", {1}, {2.f}),
                      ox::floats("t", {}, {0.5f}),
                      ox::floats("w", {2, 2, 3, 3}, std::vector<float>(36, 0.1f)),
                      ox::floats("w2", {2, 2, 1, 1}, {1, 0, 0, 1}),
                      ox::floats("b2", {2}, {0, 1}),
                      ox::floats("g", {2}, {1, 1}),
                      ox::floats("beta", {2}, {0, 0}),
                      ox::floats("mean", {2}, {0, 0}),
                      ox::floats("var", {2}, {1, 1})};
    g.nodes.push_back({"Mul", {"X", "s"}, {"M1"}});
    g.nodes.push_back({"Add", {"M1", "t"}, {"A1"}});
    g.nodes.push_back({"Conv", {"A1", "w"}, {"C1"}, {ox::attr_ints("pads", {0, 0, 0, 0})}});
    g.nodes.push_back({"Mul", {"C1", "s"}, {"M2"}});
    g.nodes.push_back({"Add", {"M2", "t"}, {"A2"}});
    g.nodes.push_back({"Conv", {"A2", "w2", "b2"}, {"C2"}, {ox::attr_ints("pads", {1, 1, 1, 1})}});
    g.nodes.push_back(
        {"BatchNormalization", {"C2", "g", "beta", "mean", "var"}, {"B"}, {ox::attr_float("epsilon", 1e-5f)}});
    g.nodes.push_back({"HardSigmoid", {"B"}, {"H"}, {ox::attr_float("alpha", 1.f / 6), ox::attr_float("beta", 0.5f)}});
    g.nodes.push_back({"Mul", {"B", "H"}, {"S"}});
    g.nodes.push_back({"Relu", {"S"}, {"R"}});
    g.nodes.push_back({"Mul", {"R", "s"}, {"M3"}});
    g.nodes.push_back({"Add", {"M3", "t"}, {"Y"}});
    put("onnx", "affine.onnx", g.serialize());
    put("onnx", "affine-opset9.onnx", g.serialize(9));
  }
  // An opset-9 Slice (attributes, not inputs) and a Constant node.
  {
    ox::Graph g;
    g.inputs = {{"X", ox::kFloat, {1, 4, 8, 8}}};
    g.outputs = {{"Y", ox::kFloat, {1, 2, 8, 8}}};
    g.nodes.push_back({"Constant", {}, {"k"}, {ox::attr_tensor("value", ox::floats("kv", {}, {2.f}))}});
    g.nodes.push_back({"Mul", {"X", "k"}, {"M"}});
    g.nodes.push_back(
        {"Slice",
         {"M"},
         {"Y"},
         {ox::attr_ints("starts", {0}), ox::attr_ints("ends", {2147483647}), ox::attr_ints("axes", {1})}});
    put("onnx", "slice-opset9.onnx", g.serialize(9));
    g.nodes.back().attributes = {ox::attr_ints("starts", {-4}), ox::attr_ints("ends", {-1}),
                                 ox::attr_ints("axes", {-3})};
    put("onnx", "slice-opset9-negative.onnx", g.serialize(9));
  }
}

// ---- the tokenizer -----------------------------------------------------------------------------------------------

void tokenizer(const std::string& models) {
  // A vocabulary with GPT-2's 256 byte symbols (printable bytes stand for themselves, the others for U+0100 on),
  // each also as a word's end, as every CLIP tokenizer.json has them.
  json vocab = json::object();
  int id = 0;
  auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
  std::vector<std::string> symbols;
  for (int b = 0, extra = 0; b < 256; ++b) {
    const unsigned cp = printable(b) ? unsigned(b) : 256u + unsigned(extra++);
    std::string u;
    if (cp < 0x80) {
      u += char(cp);
    } else {
      u += char(0xC0 | (cp >> 6));
      u += char(0x80 | (cp & 0x3F));
    }
    symbols.push_back(u);
  }
  for (const auto& u : symbols) vocab[u] = id++;
  for (const auto& u : symbols) vocab[u + "</w>"] = id++;
  vocab["th"] = id++;
  vocab["the</w>"] = id++;
  vocab["<|startoftext|>"] = id++;
  vocab["<|endoftext|>"] = id++;
  json tj = {
      {"model", {{"type", "BPE"}, {"end_of_word_suffix", "</w>"}, {"vocab", vocab}, {"merges", {"t h", "th e</w>"}}}},
      {"added_tokens",
       {{{"id", id - 2}, {"content", "<|startoftext|>"}}, {{"id", id - 1}, {"content", "<|endoftext|>"}}}}};
  put("tokenizer", "tokenizer-letters.json", std::string(1, '\0') + tj.dump());
  tj["model"]["merges"] = json::array({json::array({"t", "h"}), json::array({"th", "e</w>"})});
  put("tokenizer", "tokenizer-pairs.json", std::string(1, '\0') + tj.dump());
  std::string merges = "#version: 0.2\n";
  std::string clip = gunzip(fs::path(models) / "clip" / "bpe_simple_vocab_16e6.txt.gz");
  if (!clip.empty()) {
    std::istringstream in(clip);
    std::string line;
    std::getline(in, line);
    for (int n = 0; n < 300 && std::getline(in, line); ++n) merges += line + "\n";
  } else {
    merges += "t h\nth e</w>\n";
  }
  put("tokenizer", "merges.txt", std::string(1, '\1') + merges);
  int q = 0;
  for (const char* text : {"a photo of a cat", "two dogs on the beach at sunset", "Café Crème &amp; &#x1F600; &nbsp;",
                           "don't stop 'til you're done", "<|startoftext|>hello<|endoftext|>", "２０１９年の写真",
                           "ＦＵＬＬ ｗｉｄｔｈ ﬁnance", "İstanbul ΣΊΣΥΦΟΣ", "a\tb\nc\u3000d", "!!!???..."})
    put("tokenizer", "text-" + std::to_string(q++) + ".txt", std::string(1, '\2') + text);
}

// ---- the manifest and the settings -------------------------------------------------------------------------------

void manifest_and_settings() {
  const json m = json::parse(read(fs::path(DARKROOM_SOURCE_DIR) / "models" / "manifest.json"));
  put("manifest", "builtin.json", m.dump(1));
  int k = 0;
  for (const auto& e : m["models"])
    put("manifest", "entry-" + std::to_string(k++) + ".json", json{{"models", {e}}}.dump());
  put("manifest", "empty.json", R"({"models": []})");

  json s = dr::catalog::Library::default_settings();
  put("settings", "default.json", s.dump(2));
  s["roots"] = {"/tmp", "/nonexistent"};
  s["tasks"] = {"pdq", "thumbs"};
  s["queue"]["task_concurrency"] = {{"faces", 1}};
  s["analyzers"] = {{"text", {{"limit_side", 1280}, {"reread_glued", true}}},
                    {"faces", {{"min_score", 0.6}}},
                    {"pdq", {{"dihedral", true}}},
                    {"thumbs", {{"quality", 70}}}};
  put("settings", "full.json", s.dump());
  put("settings", "partial.json", R"({"queue": {"max_attempts": 3}, "busy_timeout_ms": 500})");
  put("settings", "empty.json", "{}");
}

// ---- HTTP ----------------------------------------------------------------------------------------------------------

std::string request(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::string& extra = {}) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n";
  if (method != "GET" && method != "HEAD") r += "X-Darkroom: 1\r\n";
  r += extra;
  if (!body.empty()) r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

void http(const std::string& api_md) {
  int k = 0;
  auto add = [&](const std::string& bytes) { put("http", "request-" + std::to_string(k++) + ".http", bytes); };
  // Every call docs/API.md shows ("GET /api/...", "POST /api/... {body}" in its tables and headings).
  std::regex call(R"(`(GET|POST|PUT|DELETE) (/api/[^` ]*)`(?:[^`\n]*`(\{[^`]*\})`)?)");
  for (std::sregex_iterator it(api_md.begin(), api_md.end(), call), end; it != end; ++it) {
    std::string target = std::regex_replace((*it)[2].str(), std::regex(R"(\{[a-z_]+\})"), "1");
    const std::string method = (*it)[1].str();
    add(request(method, target, method == "GET" ? "" : (*it)[3].str()));  // a GET's braces are its answer
  }
  add(request("GET", "/api/photos?limit=2&has=faces,text&from=2019&to=2030-12&task=pdq&state=done"));
  add(request("GET", "/api/photos?cursor=2019-07-04T10:12:00~39&label=cat&person=1"));
  add(request("GET", "/api/search?q=caf%C3%A9+cr%C3%A8me&limit=5"));
  add(request("GET", "/api/dupes?distance=31"));
  add(request("GET", "/api/thumbs/0000000000000000000000000000000000000000000000000000000000000000/grid", {},
              "If-None-Match: \"x\"\r\n"));
  add(request("GET", "/api/faces/1/thumb"));
  add(request("GET", "/api/people/1"));
  add(request("POST", "/api/people/1/name", R"({"name": "Ada"})"));
  add(request("POST", "/api/dupes/dismiss", R"({"key": "1-2"})"));
  add(request("POST", "/api/retry", R"({"failed": true, "photos": [1]})"));
  add(request("POST", "/api/photos", R"({"path": "/tmp", "tasks": "pdq"})"));
  add(request("POST", "/api/session", R"({"token": "drt_fuzz"})"));
  add(request("GET", "/api/status", {}, "Authorization: Bearer drt_fuzz\r\n"));
  add(request("GET", "/api/status", {}, "Cookie: a=b; darkroom_session=abc\r\n"));
  add(request("POST", "/api/people/recluster", {}, "Origin: http://127.0.0.1:8080\r\n"));
  add(request("GET", "/"));
  add(request("GET", "/people"));
  add(request("HEAD", "/api/version"));
  add(request("GET", "/api/status") + request("GET", "/api/people"));  // two on one connection
  add("POST /api/retry HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-Darkroom: 1\r\nTransfer-Encoding: chunked\r\n"
      "Content-Type: application/json\r\n\r\n5\r\n{\"fai\r\n9\r\nled\":true}\r\n0\r\n\r\n");
  add("GET /api/status HTTP/1.0\r\n\r\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_seeds OUT [SHARED_DIR] [MODELS_DIR]\n");
    return 2;
  }
  out_root = argv[1];
  const std::string shared = argc > 2 ? argv[2] : DARKROOM_SHARED_DIR;
  const std::string models = argc > 3 ? argv[3] : "";
  if (VIPS_INIT(argv[0])) return 1;
  const fs::path opencv = "/usr/share/doc/opencv-doc/examples/data",
                 skimage = "/usr/lib/python3/dist-packages/skimage/data";
  images({fs::path(shared) / "testdata/pdq/misc-images/small.jpg",
          fs::path(shared) / "testdata/pdq/misc-images/wee.jpg",
          fs::path(shared) / "testdata/pdq/bridge-mods/shrink-a-lot.jpg",
          fs::path(shared) / "testdata/pdq/bridge-mods/square-128x128.jpg",
          fs::path(shared) / "testdata/pdq/misc-images/modes/CMYK.jpg",
          fs::path(shared) / "testdata/pdq/misc-images/modes/P.png",
          fs::path(shared) / "testdata/pdq/misc-images/modes/LA.png",
          fs::path(shared) / "testdata/pdq/misc-images/modes/HSV.webp",
          fs::path(shared) / "testdata/pdq/reg-test-input/exif-rotn/exif-rotn-6.jpg",
          opencv / "LinuxLogo.jpg",
          opencv / "opencv-logo.png",
          opencv / "butterfly.jpg",
          skimage / "chelsea.png",
          skimage / "truncated.jpg",
          skimage / "no_time_for_that_tiny.gif",
          skimage / "multipage.tif",
          skimage / "chessboard_GRAY_U16.tif",
          skimage / "palette_color.png",
          skimage / "foo3x5x4indexed.png",
          skimage / "logo.png"});
  onnx(models);
  tokenizer(models);
  manifest_and_settings();
  http(read(fs::path(DARKROOM_SOURCE_DIR) / "docs" / "API.md"));
  std::printf("make_seeds: %d seeds under %s\n", written, out_root.c_str());
  vips_shutdown();
  return 0;
}
