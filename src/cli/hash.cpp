// darkroom hash [--exact] [--dihedral] FILE...: PDQ hashes as the reference hasher prints them (HASH,QUALITY,PATH;
// with --dihedral the 8 variants then QUALITY,PATH). Files are hashed by --threads workers and printed in the order
// given. Loads no model and starts no runtime; libvips only starts for a file that is not a plain JPEG.
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "analyzers/pdq/pdq_hasher.h"
#include "cli/cli.h"

namespace dr::cli {

namespace {

struct HashArgs {
  bool exact = false;
  bool dihedral = false;
  uint64_t max_pixels = image::Limits{}.max_pixels;
  std::vector<std::string> files;
};

struct Outcome {
  std::optional<analyzers::PdqFileHash> hash;
  std::string error;
};

std::string format_line(const std::string& path, const analyzers::PdqFileHash& h, bool dihedral, bool json) {
  const pdq::Result& r = h.result;
  if (json) {
    nlohmann::json j{{"path", path}, {"hash", r.hash.hex()}, {"quality", r.quality}};
    if (dihedral) {
      nlohmann::json d = nlohmann::json::array();
      for (const auto& v : r.dihedral) d.push_back(v.hex());
      j["dihedral"] = d;
    }
    return j.dump() + "\n";
  }
  std::string line;
  if (dihedral) {
    for (const auto& v : r.dihedral) line += v.hex() + ",";
  } else {
    line = r.hash.hex() + ",";
  }
  return line + std::to_string(r.quality) + "," + path + "\n";
}

void run_hash(Globals& g, const HashArgs& args) {
  analyzers::PdqOptions opts;
  opts.exact = args.exact;
  opts.dihedral = args.dihedral;
  opts.limits.max_pixels = args.max_pixels;

  const size_t n = args.files.size();
  std::vector<Outcome> results(n);
  std::vector<char> done(n, 0);
  std::mutex mu;
  size_t next_to_print = 0;
  bool any_failed = false;
  std::atomic<size_t> next{0};

  // Prints every finished result that is next in line, so output streams in the order given.
  auto flush_ready = [&] {
    while (next_to_print < n && done[next_to_print]) {
      const Outcome& o = results[next_to_print];
      const std::string& path = args.files[next_to_print];
      if (o.hash) {
        const std::string line = format_line(path, *o.hash, args.dihedral, g.json);
        std::fwrite(line.data(), 1, line.size(), stdout);
      } else {
        any_failed = true;
        std::fflush(stdout);
        std::cerr << "darkroom: " << o.error << "\n";
        if (g.json) print_json_line({{"path", path}, {"error", o.error}});
      }
      results[next_to_print] = Outcome{};  // free it
      next_to_print++;
    }
    std::fflush(stdout);
  };

  auto worker = [&] {
    pdq::Hasher hasher;
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= n) break;
      Outcome o;
      try {
        o.hash = analyzers::pdq_hash_file(args.files[i], opts, hasher);
      } catch (const image::Error& e) {
        o.error = e.what();
      } catch (const std::bad_alloc&) {
        o.error = args.files[i] + ": out of memory while decoding";
      } catch (const std::exception& e) {
        o.error = args.files[i] + ": " + e.what();
      }
      std::lock_guard lock(mu);
      results[i] = std::move(o);
      done[i] = 1;
      flush_ready();
    }
  };

  const int nthreads = int(std::min<size_t>(size_t(std::max(1, threads(g))), std::max<size_t>(1, n)));
  if (nthreads == 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < nthreads; t++) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (any_failed) g.exit_code = 1;
}

}  // namespace

void register_hash(CLI::App& app, Globals& g) {
  auto args = std::make_shared<HashArgs>();
  CLI::App* cmd = app.add_subcommand(
      "hash", "PDQ hashes of photos: HASH,QUALITY,PATH lines like the reference hasher (exit status 1 if any failed)");
  cmd->add_flag("--exact", args->exact,
                "the reference's behaviour to the letter: EXIF orientation ignored (the photo as stored), JPEGs "
                "decoded in full (slower); the default hashes the same pixels, as displayed");
  cmd->add_flag("--dihedral", args->dihedral,
                "print the 8 dihedral hashes (original, rot90, rot180, rot270, flipX, flipY, flipPlus1, flipMinus1) "
                "then QUALITY,PATH");
  cmd->add_option("--max-pixels", args->max_pixels,
                  "refuse images with more pixels than this, checked from the header before decoding (0: no limit)");
  cmd->add_option("files", args->files, "image files")->required();
  cmd->callback([&g, args] { run_hash(g, *args); });
}

}  // namespace dr::cli
