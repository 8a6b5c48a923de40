#include "analyzers/pdq/pdq_task.h"

#include <stdexcept>

#include "analyzers/pdq/pdq_hasher.h"

namespace dr::analyzers {

namespace {

class PdqTask : public Task {
 public:
  explicit PdqTask(bool dihedral) : dihedral_(dihedral) {}
  std::string name() const override { return "pdq"; }
  // The shared decode is only used when there is no file to read (see run); at this side it costs least.
  int wanted_side() const override { return kPdqWorkingSide; }
  // Not a model: the hashing rule, recorded with each hash so that a library hashed by an earlier rule is hashed
  // again once (`darkroom work` re-queues results whose record differs).
  std::vector<ModelRef> models() const override { return {ModelRef{"pdq", "", kPdqAlgorithm}}; }

  nlohmann::json run(const image::Decoded& img, const RunOptions& ro) override {
    thread_local pdq::Hasher hasher;  // scratch buffers, one per thread
    pdq::Result r;
    if (!ro.path.empty()) {
      // The file itself, as `darkroom hash` reads it: the pixels the reference hashes, so that the hash is the
      // reference's (its dihedral for the EXIF orientation), not one of pixels already resampled for other tasks.
      PdqOptions o;
      o.dihedral = dihedral_;
      o.limits.max_pixels = 0;  // the caller's decode has checked the file against its own limit
      r = pdq_hash_file(ro.path, o, hasher).result;
    } else {
      r = pdq_hash_rgb(img.rgb, dihedral_, hasher);
    }
    nlohmann::json j{{"hash", r.hash.hex()}, {"quality", r.quality}};
    if (dihedral_) {
      nlohmann::json d = nlohmann::json::array();
      for (const auto& h : r.dihedral) d.push_back(h.hex());
      j["dihedral"] = d;
    }
    return j;
  }

 private:
  bool dihedral_;
};

}  // namespace

std::unique_ptr<Task> make_pdq_task(TaskContext& ctx) {
  bool dihedral = false;
  if (auto it = ctx.settings.find("pdq"); it != ctx.settings.end() && it->is_object() && it->contains("dihedral")) {
    if (!(*it)["dihedral"].is_boolean()) throw std::invalid_argument("pdq setting 'dihedral' must be true or false");
    dihedral = (*it)["dihedral"].get<bool>();
  }
  return std::make_unique<PdqTask>(dihedral);
}

}  // namespace dr::analyzers
