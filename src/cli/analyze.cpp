// darkroom analyze: no catalog; one JSON object per file and line, in the order given (DESIGN.md's contract).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "analyzers/task.h"
#include "cli/cli.h"
#include "util/sha256.h"

namespace dr::cli {
namespace {

struct AnalyzeArgs {
  std::string tasks;
  bool embeddings = false;
  uint64_t max_pixels = image::Limits{}.max_pixels;
  std::vector<std::string> settings;  // --set task.key=value
  std::vector<std::string> files;
};

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json analyze_one(const std::string& path, std::vector<std::unique_ptr<analyzers::Task>>& tasks, int side,
                           const AnalyzeArgs& a, bool& failed) {
  nlohmann::json j = {{"path", path}};
  nlohmann::json timings = nlohmann::json::object();
  try {
    auto t0 = std::chrono::steady_clock::now();
    image::Limits limits;
    limits.max_pixels = a.max_pixels;
    // The thumbs task names its files by the content hash; no other task needs it.
    bool thumbs = std::any_of(tasks.begin(), tasks.end(), [](const auto& t) { return t->name() == "thumbs"; });
    std::string hash;
    try {
      if (thumbs) hash = util::sha256_file(path);
    } catch (const std::exception& e) {
      throw image::Error(e.what());
    }
    auto in = analyzers::read_photo(path, side, limits, a.embeddings, hash);
    const auto& img = in.img;
    const auto& ro = in.opts;
    timings["decode"] = ms_since(t0);
    j["width"] = img.info.display_width;
    j["height"] = img.info.display_height;
    std::vector<std::string> errors;
    for (auto& t : tasks) {
      auto t1 = std::chrono::steady_clock::now();
      try {
        j[t->name()] = t->run(img, ro);
      } catch (const std::exception& e) {
        errors.push_back(t->name() + " failed: " + e.what());
      }
      timings[t->name()] = ms_since(t1);
    }
    j["timings_ms"] = timings;
    if (!errors.empty()) {
      std::string msg;
      for (auto& e : errors) msg += (msg.empty() ? "" : "; ") + e;
      j["error"] = msg;
      failed = true;
    }
  } catch (const image::Error& e) {
    j["error"] = e.what();
    failed = true;
  }
  return j;
}

// "faces.min_score=0.5" -> {"faces": {"min_score": 0.5}}: the value is read as JSON when it is JSON (numbers, true),
// else kept as a string (paths).
nlohmann::json parse_settings(const std::vector<std::string>& items) {
  nlohmann::json j = nlohmann::json::object();
  for (auto& item : items) {
    auto eq = item.find('=');
    auto dot = item.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq)
      throw UserError("--set takes TASK.KEY=VALUE (for example faces.min_score=0.5), not '" + item + "'");
    std::string value = item.substr(eq + 1);
    nlohmann::json v = nlohmann::json::parse(value, nullptr, false);
    j[item.substr(0, dot)][item.substr(dot + 1, eq - dot - 1)] = v.is_discarded() ? nlohmann::json(value) : v;
  }
  return j;
}

void run_analyze(Globals& g, const AnalyzeArgs& a) {
  auto store = model_store(g);
  std::vector<std::string> names;
  try {
    names = a.tasks.empty() ? analyzers::available_tasks(store) : analyzers::parse_task_list(a.tasks);
  } catch (const std::invalid_argument& e) {
    throw UserError(e.what());
  }
  // libvips starts on the other core while the models load (image::warm_up).
  std::jthread warm(image::warm_up);  // joined on the way out too, should loading throw
  runtime::Runtime rt(runtime_options(g));
  analyzers::TaskContext ctx{rt, store, parse_settings(a.settings)};
  std::vector<std::unique_ptr<analyzers::Task>> tasks;
  int side = -1;  // the largest side any task wants; 0 (full size) wins
  for (auto& n : names) {
    tasks.push_back(analyzers::make_task(n, ctx));
    side = analyzers::decode_side(side, tasks.back()->wanted_side());
  }
  if (side < 0) side = 0;
  warm.join();

  // Files are analysed by a pool of threads and printed in the order given.
  size_t n = a.files.size();
  std::vector<std::optional<nlohmann::json>> results(n);
  std::atomic<size_t> next{0};
  std::atomic<bool> any_failed{false};
  std::mutex mu;
  std::condition_variable cv;
  int workers = std::max(1, std::min<int>(threads(g), int(n)));
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w)
    pool.emplace_back([&] {
      for (size_t i; (i = next++) < n;) {
        bool failed = false;
        auto j = analyze_one(a.files[i], tasks, side, a, failed);
        if (failed) any_failed = true;
        std::lock_guard lock(mu);
        results[i] = std::move(j);
        cv.notify_all();
      }
    });
  for (size_t i = 0; i < n; ++i) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return results[i].has_value(); });
    auto j = std::move(*results[i]);
    results[i].reset();
    lock.unlock();
    print_json_line(j);
  }
  for (auto& t : pool) t.join();
  g.exit_code = any_failed ? 1 : 0;
}

}  // namespace

void register_analyze(CLI::App& app, Globals& g) {
  auto a = std::make_shared<AnalyzeArgs>();
  auto* cmd = app.add_subcommand("analyze", "analyse photos without a library; one JSON object per file and line");
  cmd->add_option("--tasks", a->tasks, "comma-separated tasks (default: every task whose models are installed)");
  cmd->add_flag("--embeddings", a->embeddings, "include embedding vectors");
  cmd->add_option("--max-pixels", a->max_pixels, "refuse images with more pixels than this (checked before decoding)");
  cmd->add_option("--set", a->settings,
                  "a task setting, TASK.KEY=VALUE, repeatable (e.g. faces.min_score=0.5, "
                  "faces.model_pack=~/.insightface/models/buffalo_l)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("files", a->files, "photos")->required();
  cmd->callback([&g, a] { run_analyze(g, *a); });
}

}  // namespace dr::cli
