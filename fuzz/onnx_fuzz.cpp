// libFuzzer over darkroom's own reader of ONNX model files: the protobuf wire format (runtime/wire.h) and the graph
// rewrites done before ONNX Runtime loads a model (runtime/graph_rewrite.h), on any bytes, as a model named in a
// user's manifest.d may hold. Each input runs through rewrite_graph (float), rewrite_graph with int8 ranges for
// every tensor the graph names (the last byte picks how the ranges look) and expose_float_outputs (calibration).
//
// Findings: a crash, a sanitizer report, a hang or unbounded memory; a rewritten model that darkroom's own reader
// cannot read back, or whose second rewrite fails to read it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "runtime/graph_rewrite.h"
#include "runtime/wire.h"

namespace {

namespace wire = dr::runtime::wire;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "onnx_fuzz: %s\n", why.c_str());
  std::abort();
}

// The names of a model's node inputs and outputs (ModelProto.graph = 7, GraphProto.node = 1, NodeProto.input = 1
// and output = 2), read leniently: whatever parses.
void names(std::string_view model, std::vector<std::string>& out) {
  auto fs = wire::parse(model);
  if (!fs) return;
  for (const auto& g : *fs) {
    if (g.num != 7 || g.wire != wire::Bytes) continue;
    auto gs = wire::parse(g.bytes);
    if (!gs) continue;
    for (const auto& n : *gs) {
      if (n.num != 1 || n.wire != wire::Bytes) continue;
      auto ns = wire::parse(n.bytes);
      if (!ns) continue;
      for (const auto& x : *ns)
        if ((x.num == 1 || x.num == 2) && x.wire == wire::Bytes && out.size() < 4096) out.emplace_back(x.bytes);
    }
  }
}

void check_model(const std::string& out, const char* what) {
  auto fs = wire::parse(out);
  if (!fs) fail(std::string(what) + " wrote a model its own reader cannot read");
  int graphs = 0;
  for (const auto& f : *fs) graphs += f.num == 7 && f.wire == wire::Bytes;
  if (graphs != 1) fail(std::string(what) + " wrote a model with " + std::to_string(graphs) + " graphs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view model(reinterpret_cast<const char*>(data), size);
  const uint8_t flags = size ? data[size - 1] : 0;

  dr::runtime::RewriteStats stats;
  if (auto out = dr::runtime::rewrite_graph(model, &stats)) {
    check_model(*out, "rewrite_graph");
    // What was rewritten can be read and rewritten again (a second load of the same file meets the same reader).
    (void)dr::runtime::rewrite_graph(*out);
  }

  // int8: a range for every name the graph uses, as a manifest's calibration gives them; the flags make them
  // ordinary, degenerate (lo == hi), huge, or not finite, which a hand-written manifest may hold too.
  std::vector<std::string> tensor_names;
  names(model, tensor_names);
  dr::runtime::Int8Ranges ranges;
  const float inf = std::numeric_limits<float>::infinity();
  static const std::pair<float, float> kinds[] = {{-1.f, 6.f}, {0.f, 0.f},     {-3e38f, 3e38f}, {-inf, inf},
                                                  {2.f, 1.f},  {-1e-30f, 0.f}, {0.f, 255.f},    {-6.f, 6.f}};
  for (size_t k = 0; k < tensor_names.size(); ++k) ranges[tensor_names[k]] = kinds[(flags + k * (flags >> 3)) % 8];
  if (auto out = dr::runtime::rewrite_graph(model, nullptr, &ranges)) check_model(*out, "rewrite_graph (int8)");

  if (auto out = dr::runtime::expose_float_outputs(model)) check_model(*out, "expose_float_outputs");
  return 0;
}
