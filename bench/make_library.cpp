// Not a benchmark: makes a synthetic library of many photos for the server's benchmarks (bench/serve_bench.sh, the
// page's), fast: photo rows with dates over 20 years, a path each (the files need not exist), and done jobs with
// results for pdq (random hashes), objects (COCO labels with scores and boxes), text (a few words for one photo in
// five) and thumbs, whose files are hard links to the thumbnails of a few real sample photos. Results go through
// Store::complete, so the derived rows (search documents) are the real ones.
//
//   build/bench/make_library --library /tmp/lib100k --photos 100000 [--seed 1]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "analyzers/objects/coco.h"
#include "analyzers/thumbs/thumbs_task.h"
#include "catalog/library.h"
#include "image/decode.h"
#include "image/thumbnail.h"
#include "jobs/queue.h"
#include "util/sha256.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kSamples[] = {"astronaut.png",       "chelsea.png",           "coffee.png", "camera.png", "rocket.jpg",
                          "motorcycle_left.png", "hubble_deep_field.jpg", "retina.jpg", "coins.png",  "page.png"};
const char* kWords[] = {"harbour", "market",   "station", "coffee",  "menu",    "street", "bakery", "museum",
                        "exit",    "platform", "closed",  "welcome", "parking", "hotel",  "garden", "library"};

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  long photos = 100000;
  unsigned seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--library")
      dir = argv[i + 1];
    else if (a == "--photos")
      photos = std::atol(argv[i + 1]);
    else if (a == "--seed")
      seed = unsigned(std::atol(argv[i + 1]));
  }
  if (dir.empty() || photos <= 0) {
    std::fprintf(stderr, "usage: make_library --library DIR --photos N [--seed S]\n");
    return 2;
  }
  if (fs::exists(fs::path(dir) / "catalog.db")) {
    std::fprintf(stderr, "make_library: %s already holds a library; give a new folder\n", dir.c_str());
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  dr::catalog::Library::create(dir);
  auto lib = dr::catalog::Library::open(dir);
  auto store = lib.open_store();
  dr::jobs::Queue queue(*store);
  std::string thumbs = lib.thumbs_dir();

  // The real thumbnails every synthetic photo's files link to.
  struct Source {
    std::string grid, preview;
    int width, height;
    json result;
  };
  std::vector<Source> sources;
  const fs::path source_dir = fs::path(thumbs) / "sources";
  fs::create_directories(source_dir);
  for (const char* name : kSamples) {
    std::string path = std::string("/usr/lib/python3/dist-packages/skimage/data/") + name;
    if (!fs::exists(path)) continue;
    dr::image::DecodeOptions o;
    o.max_side = dr::analyzers::kPreviewSide;
    auto img = dr::image::decode(path, o);
    auto grid = dr::image::webp_thumbnail(img.rgb, dr::analyzers::kGridShortSide, dr::analyzers::kGridLongSide);
    auto preview = dr::image::webp_thumbnail(img.rgb, 0, dr::analyzers::kPreviewSide);
    Source s;
    s.grid = (source_dir / (std::string(name) + "-grid.webp")).string();
    s.preview = (source_dir / (std::string(name) + "-preview.webp")).string();
    std::ofstream(s.grid, std::ios::binary) << grid.bytes;
    std::ofstream(s.preview, std::ios::binary) << preview.bytes;
    s.width = img.info.display_width;
    s.height = img.info.display_height;
    s.result = {{"grid", {{"width", grid.width}, {"height", grid.height}, {"bytes", grid.bytes.size()}}},
                {"preview", {{"width", preview.width}, {"height", preview.height}, {"bytes", preview.bytes.size()}}}};
    sources.push_back(std::move(s));
  }
  if (sources.empty()) {
    std::fprintf(stderr, "make_library: no sample photos (python3-skimage); run scripts/setup.sh\n");
    return 1;
  }

  std::mt19937 rng(seed);
  auto pick = [&](int n) { return int(rng() % unsigned(n)); };
  const auto& labels = dr::analyzers::objects::coco80_names();
  const std::vector<std::string> tasks = {"pdq", "objects", "text", "thumbs"};
  const long chunk = 500;
  for (long first = 0; first < photos; first += chunk) {
    long last = std::min(photos, first + chunk);
    std::vector<std::pair<int64_t, const Source*>> made;
    store->batch([&] {
      for (long i = first; i < last; ++i) {
        const Source& src = sources[size_t(pick(int(sources.size())))];
        dr::catalog::PhotoFacts f;
        f.content_hash =
            dr::util::sha256_hex("darkroom synthetic photo " + std::to_string(seed) + " " + std::to_string(i));
        f.size = 2'000'000 + rng() % 3'000'000;
        f.format = "jpeg";
        f.width = src.width;
        f.height = src.height;
        char date[32];
        std::snprintf(date, sizeof date, "%04d-%02d-%02dT%02d:%02d:%02d", 2006 + pick(20), 1 + pick(12), 1 + pick(28),
                      pick(24), pick(60), pick(60));
        f.taken_at = date;
        f.file_date = std::string(date, 10);
        f.camera_make = "Synthetic";
        int64_t id = store->add_photo(f);
        std::string path = "/bench/photos/" + std::string(date, 4) + "/IMG_" + std::to_string(i) + ".jpg";
        store->put_path(path, id, f.size, int64_t(i), 1);
        queue.enqueue(id, tasks);
        made.emplace_back(id, &src);
        for (const char* size : {"grid", "preview"}) {
          auto link = *dr::analyzers::thumbnail_path(thumbs, f.content_hash, size);
          fs::create_directories(fs::path(link).parent_path());
          std::error_code ec;  // a file already there (the same synthetic library made before): kept
          fs::create_hard_link(size == std::string("grid") ? src.grid : src.preview, link, ec);
        }
      }
      // Every job done, with a result.
      for (;;) {
        auto leased = queue.lease("make_library", 1000, {});
        if (leased.empty()) break;
        for (const auto& lp : leased) {
          const Source* src = nullptr;
          for (const auto& [id, s] : made)
            if (id == lp.photo_id) src = s;
          for (const auto& l : lp.jobs) {
            json r;
            if (l.task == "pdq") {
              std::string hex;
              for (int k = 0; k < 64; ++k) hex += "0123456789abcdef"[rng() % 16];
              r = {{"hash", hex}, {"quality", 60 + pick(41)}};
            } else if (l.task == "objects") {
              r = json::array();
              for (int k = pick(4); k > 0; --k) {
                double w = 20 + pick(src->width / 2), h = 20 + pick(src->height / 2);
                json o;
                o["label"] = std::string(labels[size_t(pick(int(labels.size())))]);
                o["score"] = 0.3 + 0.7 * double(rng() % 1000) / 1000.0;
                o["box"] = {double(pick(src->width / 2)), double(pick(src->height / 2)), w, h};
                r.push_back(o);
              }
            } else if (l.task == "text") {
              json lines = json::array();
              std::string full;
              if (pick(5) == 0)
                for (int k = 1 + pick(3); k > 0; --k) {
                  std::string t = std::string(kWords[pick(16)]) + " " + kWords[pick(16)];
                  lines.push_back({{"text", t}, {"score", 0.9}, {"box", {{0, 0}, {100, 0}, {100, 20}, {0, 20}}}});
                  full += (full.empty() ? "" : "\n") + t;
                }
              r = {{"lines", lines}, {"full", full}};
            } else {
              r = src->result;
            }
            queue.complete(l, r, json::array());
          }
        }
      }
    });
    std::fprintf(stderr, "\rmake_library: %ld of %ld photos", last, photos);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "\nmake_library: %ld photos in %s, %.0f s\n", photos, dir.c_str(), secs);
  return 0;
}
