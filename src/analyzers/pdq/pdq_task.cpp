#include "analyzers/pdq/pdq_task.h"

#include "analyzers/pdq/pdq_hasher.h"

namespace dr::analyzers {

namespace {

class PdqTask : public Task {
 public:
  explicit PdqTask(bool dihedral) : dihedral_(dihedral) {}
  std::string name() const override { return "pdq"; }
  // The hash needs little: a photo decoded with its longest side near 512 hashes within a few bits of the
  // reference (see BENCHMARKS.md, PDQ); larger input is area-averaged down first.
  int wanted_side() const override { return kPdqWorkingSide; }

  nlohmann::json run(const image::Decoded& img, const RunOptions&) override {
    thread_local pdq::Hasher hasher;  // scratch buffers, one per thread
    const pdq::Result r = pdq_hash_rgb(img.rgb, dihedral_, hasher);
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
  if (auto it = ctx.settings.find("pdq"); it != ctx.settings.end() && it->is_object())
    dihedral = it->value("dihedral", false);
  return std::make_unique<PdqTask>(dihedral);
}

}  // namespace dr::analyzers
