// Faces: detection with five landmarks (YuNet, or the InsightFace SCRFD family), alignment to the ArcFace 112x112
// template, quality signals and an L2-normalised embedding (MobileFaceNet, or an ArcFace-family recogniser).
// Pixels in, plain structs out: nothing here knows the catalog, the queue or JSON.
#pragma once
#include <opencv2/core.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "image/decode.h"
#include "runtime/model_store.h"
#include "runtime/runtime.h"

namespace dr::analyzers::faces {

// How a model wants its input tensor: what the manifest's "input" object says. value = (pixel * scale - mean) / std
// per channel, channels in `colour` order (RGB or BGR), NCHW.
struct InputFacts {
  bool bgr = false;
  float scale = 1.0f;
  std::array<float, 3> mean{0, 0, 0}, std{1, 1, 1};
  int multiple = 32;  // detectors: the padded input's sides are multiples of this
  static InputFacts from_manifest(const nlohmann::json& input);
};

// Fills `out` (3 planes of img.cols x img.rows) from an 8-bit RGB image.
void to_planar(const cv::Mat& rgb, const InputFacts& f, float* out, int plane_stride_w, int plane_stride_h);

struct Quality {
  float size = 0;     // the shorter side of the box, in displayed-image pixels
  float blur = 0;     // variance of the Laplacian of the aligned 112x112 grey face (higher is sharper)
  float frontal = 0;  // 1 for a frontal face, towards 0 as it turns away (from the landmarks' symmetry)
};

struct Face {
  cv::Rect2f box;                          // x, y, w, h; clipped to the image
  float score = 0;                         // detector confidence, 0..1
  std::array<cv::Point2f, 5> landmarks{};  // eye (image left), eye (image right), nose, mouth left, mouth right
  Quality quality;
  std::vector<float> embedding;  // L2-normalised; empty unless asked for
};

// ---- detection -----------------------------------------------------------------------------------------------

// Defaults chosen by measurement on the 235 sample photos (opencv-doc, skimage, the PDQ test data), every detection
// at score >= 0.3 looked at by eye: see BENCHMARKS.md, "Faces".
struct DetectorOptions {
  int max_side = 640;      // the detector sees the image with its longest side at most this (never enlarged)
  float min_score = -1;    // below 0: the family's default (YuNet 0.7, SCRFD 0.5)
  float min_size = 16.0f;  // the shorter side of a box in the detector's input pixels; smaller ones are dropped
  float nms_iou = 0.3f;    // boxes overlapping a better one by more than this are dropped
  int max_faces = 1000;    // kept after NMS, best first
};

enum class DetectorFamily { YuNet, Scrfd };
float default_min_score(DetectorFamily f);

class FaceDetector {
 public:
  // family from the manifest entry ("yunet" or "scrfd"); input facts from its "input" object.
  FaceDetector(std::shared_ptr<runtime::Session> session, const runtime::ModelEntry& entry, DetectorOptions opts);
  // Faces in `img`'s pixels, best first. Quality and embedding are left empty.
  std::vector<Face> detect(const image::Rgb& img) const;
  // The same on an 8-bit RGB cv::Mat (no copy of the pixels is kept).
  std::vector<Face> detect(const cv::Mat& rgb) const;
  const DetectorOptions& options() const { return opts_; }
  DetectorFamily family() const { return family_; }

 private:
  std::shared_ptr<runtime::Session> session_;
  DetectorFamily family_;
  InputFacts facts_;
  DetectorOptions opts_;
  int fixed_w_ = 0, fixed_h_ = 0;  // a model with a fixed input size: the image is fitted inside it
};

// Greedy non-maximum suppression: `faces` sorted by score, best first, overlaps above `iou` removed.
void nms(std::vector<Face>& faces, float iou);

// ---- alignment and quality -----------------------------------------------------------------------------------

// The standard ArcFace 112x112 positions of the five landmarks.
const std::array<cv::Point2f, 5>& arcface_template();

// The least-squares similarity transform (rotation, uniform scale, translation; no reflection) taking `src` onto
// `dst`, as a 2x3 matrix (Umeyama 1991 for two dimensions, in closed form).
cv::Matx23d similarity_transform(const std::array<cv::Point2f, 5>& src, const std::array<cv::Point2f, 5>& dst);

// The face warped onto the ArcFace template: 112x112, 8-bit RGB. Parts outside the image are black.
cv::Mat align_face(const cv::Mat& rgb, const std::array<cv::Point2f, 5>& landmarks);

// Blur and frontalness of an aligned face (size is filled by the caller, who knows the display scale).
Quality measure_quality(const cv::Mat& aligned_rgb, const std::array<cv::Point2f, 5>& landmarks);

// ---- embedding -----------------------------------------------------------------------------------------------

class FaceEmbedder {
 public:
  FaceEmbedder(std::shared_ptr<runtime::Session> session, const runtime::ModelEntry& entry);
  int dim() const { return dim_; }
  // One L2-normalised vector per aligned 112x112 RGB face. Batches when the model takes a batch, else one by one.
  std::vector<std::vector<float>> embed(const std::vector<cv::Mat>& aligned) const;

 private:
  std::shared_ptr<runtime::Session> session_;
  InputFacts facts_;
  int dim_ = 0;
  bool batched_ = false;
  int side_ = 112;
};

// Cosine similarity of two L2-normalised vectors.
float cosine(const std::vector<float>& a, const std::vector<float>& b);

// ---- the whole analysis --------------------------------------------------------------------------------------

// Detect, then for each face: align, measure quality, and embed when `embed` is true. Coordinates are scaled by
// `to_display` (the decoded image's pixels to the displayed image's).
class FaceAnalyzer {
 public:
  FaceAnalyzer(std::unique_ptr<FaceDetector> detector, std::unique_ptr<FaceEmbedder> embedder);
  std::vector<Face> analyze(const cv::Mat& rgb, double to_display, bool embed) const;
  std::vector<Face> analyze(const image::Decoded& img, bool embed) const;
  const FaceDetector& detector() const { return *detector_; }
  const FaceEmbedder* embedder() const { return embedder_.get(); }

 private:
  std::unique_ptr<FaceDetector> detector_;
  std::unique_ptr<FaceEmbedder> embedder_;
};

// A read-only cv::Mat over decoded pixels (no copy).
cv::Mat as_mat(const image::Rgb& img);

}  // namespace dr::analyzers::faces
