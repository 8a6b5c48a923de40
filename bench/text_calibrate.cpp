// Calibrates the text recognizer's int8 ranges (graph_rewrite.h): reads the given images with the float pipeline
// and records, for every Conv, BatchNormalization, Add, Mul and HardSigmoid output of the rewritten recognizer's
// convolutional trunk (graph_rewrite.h, expose_float_outputs) and for its input, the values between the 0.1th and
// the 99.9th percentile of what the lines of those images made. Prints
// {"tensor": [lowest, highest], ...}: the "ranges" of the manifest entry's "int8" object.
//
// Usage: text_calibrate --models DIR [--tail 0.001] image...   (bench/text_calibration_images.py makes the images;
// BENCHMARKS.md)
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "analyzers/text/ocr.h"
#include "image/decode.h"
#include "runtime/graph_rewrite.h"
#include "runtime/model_store.h"
#include "runtime/runtime.h"

using namespace dr;

int main(int argc, char** argv) {
  std::string models = ".models";
  double tail = 0.001;  // the share of values left out at either end
  std::vector<std::string> images;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--models") == 0 && i + 1 < argc)
      models = argv[++i];
    else if (std::strcmp(argv[i], "--tail") == 0 && i + 1 < argc)
      tail = std::atof(argv[++i]);
    else
      images.emplace_back(argv[i]);
  }
  if (images.empty()) {
    std::cerr << "usage: text_calibrate --models DIR [--tail 0.001] image...\n";
    return 2;
  }
  image::prepare_decoder();
  try {
    runtime::ModelStore store(models, runtime::Manifest::load(models));
    runtime::Options o;
    o.device = runtime::DeviceRequest::parse("cpu");
    o.int8 = false;  // the float pipeline is the reference
    runtime::Runtime rt(o);
    auto pick = [&](const char* role) -> const runtime::ModelEntry& {
      const runtime::ModelEntry* e = store.manifest().pick("text", role);
      if (!e) throw std::runtime_error(std::string("no text ") + role + " in the manifest");
      return *e;
    };
    auto open = [&](const runtime::ModelEntry& e) {
      auto s = rt.open(e, store.require(e), e.onnx().sha256);
      return analyzers::text::Model{[s](std::vector<Ort::Value>& in) { return s->run(in); },
                                    analyzers::text::Normalize::from_input(e.input)};
    };
    const runtime::ModelEntry& rec = pick("recognizer");

    // The recognizer as the runtime loads it (rewritten), with its intermediate tensors exposed.
    std::ifstream in(store.require(rec), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    std::string bytes = buf.str();
    if (auto r = runtime::rewrite_graph(bytes)) bytes = std::move(*r);
    auto exposed = runtime::expose_float_outputs(bytes);
    if (!exposed) throw std::runtime_error("the recognizer cannot be read");
    Ort::SessionOptions so;
    so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_DISABLE_ALL);  // every tensor as the graph has it
    Ort::Session session(rt.env(), exposed->data(), exposed->size(), so);
    Ort::AllocatorWithDefaultOptions alloc;
    const std::string input = session.GetInputNameAllocated(0, alloc).get();
    std::vector<std::string> names;
    for (size_t i = 0; i < session.GetOutputCount(); ++i)
      names.push_back(session.GetOutputNameAllocated(i, alloc).get());
    std::vector<const char*> out_names;
    for (auto& n : names) out_names.push_back(n.c_str());
    const char* in_names[] = {input.c_str()};

    std::map<std::string, std::vector<float>> samples;
    auto sample = [&](const std::string& name, const float* p, size_t n) {
      auto& s = samples[name];
      const size_t step = std::max<size_t>(1, n / 4000);
      for (size_t k = (n / 2) % step; k < n; k += step) s.push_back(p[k]);
    };
    analyzers::text::Model rec_model{[&](std::vector<Ort::Value>& x) {
                                       const auto& info = x[0].GetTensorTypeAndShapeInfo();
                                       sample(input, x[0].GetTensorData<float>(), info.GetElementCount());
                                       auto outs = session.Run(Ort::RunOptions{nullptr}, in_names, x.data(), 1,
                                                               out_names.data(), out_names.size());
                                       for (size_t i = 0; i < outs.size(); ++i) {
                                         const auto& oi = outs[i].GetTensorTypeAndShapeInfo();
                                         if (oi.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
                                           sample(names[i], outs[i].GetTensorData<float>(), oi.GetElementCount());
                                       }
                                       return outs;  // the model's own outputs come first
                                     },
                                     analyzers::text::Normalize::from_input(rec.input)};
    analyzers::text::OcrOptions opts;
    opts.rec_height = rec.input.value("height", opts.rec_height);
    analyzers::text::Ocr ocr(open(pick("detector")), open(pick("classifier")), std::move(rec_model),
                             analyzers::text::Charset::load(store.require(rec, "keys")), opts);
    size_t lines = 0;
    for (const auto& path : images) {
      image::Decoded img = image::decode(path);
      cv::Mat rgb(img.rgb.height, img.rgb.width, CV_8UC3, img.rgb.pixels.data());
      lines += ocr.run(rgb).lines.size();
    }
    nlohmann::json ranges = nlohmann::json::object();
    for (auto& [name, v] : samples) {
      std::sort(v.begin(), v.end());
      auto at = [&](double q) { return v[std::min(v.size() - 1, size_t(q * double(v.size())))]; };
      ranges[name] = {at(tail), at(1.0 - tail)};
    }
    std::cerr << lines << " lines read from " << images.size() << " images; " << ranges.size() << " tensors\n";
    std::cout << ranges.dump() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "text_calibrate: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
