// Shared by the faces tests: the real models (from the test model cache) and the real sample photos that setup
// installs (python3-skimage, opencv-doc).
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "analyzers/faces/faces.h"
#include "image/decode.h"
#include "runtime/model_store.h"
#include "runtime/runtime.h"
#include "support/cli.h"
#include "support/test_models.h"

namespace dr::analyzers::faces::testing {

inline std::string skimage(const std::string& name) { return test::skimage_sample(name); }
inline std::string opencv_doc(const std::string& name) { return test::opencv_sample(name); }

// One runtime and model store for the whole test binary (sessions are shared, as in the program).
struct Models {
  std::unique_ptr<runtime::Runtime> rt;
  std::unique_ptr<runtime::ModelStore> store;
  static Models& get() {
    static Models m = [] {
      Models x;
      x.rt = std::make_unique<runtime::Runtime>(test::cpu_options(2));
      x.store = std::make_unique<runtime::ModelStore>(DARKROOM_TEST_MODELS_DIR,
                                                      runtime::Manifest::load(DARKROOM_TEST_MODELS_DIR));
      return x;
    }();
    return m;
  }
  const runtime::ModelEntry& entry(const std::string& id) {
    auto e = store->manifest().find(id);
    if (!e) throw std::runtime_error("no manifest entry " + id);
    return *e;
  }
  std::shared_ptr<runtime::Session> open(const std::string& id) {
    auto& e = entry(id);
    return rt->open(e, store->require(e), e.onnx().sha256);
  }
  std::unique_ptr<FaceDetector> detector(const std::string& id = "face-detector/yunet-n", DetectorOptions o = {}) {
    return std::make_unique<FaceDetector>(open(id), entry(id), o);
  }
  std::unique_ptr<FaceEmbedder> embedder(const std::string& id = "face-embedder/mobilefacenet") {
    return std::make_unique<FaceEmbedder>(open(id), entry(id));
  }
  FaceAnalyzer analyzer(const std::string& det = "face-detector/yunet-n", DetectorOptions o = {}) {
    return FaceAnalyzer(detector(det, o), embedder());
  }
};

// The photo as 8-bit RGB, full size, orientation applied.
inline cv::Mat load_rgb(const std::string& path) {
  auto d = image::decode(path);
  return as_mat(d.rgb).clone();
}

}  // namespace dr::analyzers::faces::testing
