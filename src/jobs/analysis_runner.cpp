#include "jobs/analysis_runner.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "runtime/model_store.h"

namespace dr::jobs {

AnalysisRunner::AnalysisRunner(std::map<std::string, analyzers::Task*> tasks, image::Limits limits,
                               std::map<std::string, int> concurrency)
    : tasks_(std::move(tasks)), limits_(limits) {
  for (const auto& [name, n] : concurrency) {
    if (n <= 0) continue;
    auto g = std::make_unique<Gate>();
    g->free = n;
    gates_[name] = std::move(g);
  }
}

nlohmann::json AnalysisRunner::models_json(const analyzers::Task& t) {
  auto j = nlohmann::json::array();
  for (const auto& m : t.models()) {
    j.push_back({{"id", m.id}, {"sha256", m.sha256}});
    if (!m.variant.empty()) j.back()["variant"] = m.variant;
  }
  return j;
}

std::string AnalysisRunner::local_path(const std::string& catalogued) const {
  const std::pair<std::string, std::string>* best = nullptr;
  for (const auto& m : path_map_) {
    const auto& from = m.first;
    bool under = catalogued.rfind(from, 0) == 0 &&
                 (catalogued.size() == from.size() || from.back() == '/' || catalogued[from.size()] == '/');
    if (under && (!best || from.size() > best->first.size())) best = &m;
  }
  return best ? best->second + catalogued.substr(best->first.size()) : catalogued;
}

static Outcome failed(std::string error, bool permanent) {
  Outcome o;
  o.kind = Outcome::Failed;
  o.error = std::move(error);
  o.permanent = permanent;
  return o;
}

void AnalysisRunner::run(const catalog::LeasedPhoto& leased, const std::function<void(size_t, Outcome)>& done,
                         const std::function<bool()>& cancelled) {
  catalog::LeasedPhoto photo = leased;
  if (!photo.path.empty()) photo.path = local_path(photo.path);
  const auto& jobs = photo.jobs;
  auto fail_all = [&](const std::string& error, bool permanent) {
    for (size_t i = 0; i < jobs.size(); ++i) done(i, failed(error, permanent));
  };
  if (photo.path.empty()) {
    fail_all(
        "the file is missing (none of its paths exist any more); run `darkroom add` on its folder when it is "
        "back, then `darkroom retry --failed`",
        true);
    return;
  }
  // A photo this machine cannot see because its folder is not there (a share not mounted here, a path map
  // missing) is left for another worker; a file gone from a folder that is there fails as missing.
  if (std::error_code ec; leave_unseen_ && !std::filesystem::exists(photo.path, ec)) {
    auto dir = std::filesystem::path(photo.path).parent_path();
    if (!std::filesystem::exists(dir, ec)) {
      Outcome o;
      o.kind = Outcome::Deferred;
      o.error = "this worker cannot see " + dir.string() +
                " (a shared folder not mounted here? `darkroom work --path-map FROM=TO` maps a path); its photos "
                "are left for other workers";
      for (size_t i = 0; i < jobs.size(); ++i) done(i, o);
      return;
    }
  }
#ifdef DARKROOM_TEST_HOOKS
  // Test builds: a decoder that crashes on the photos whose path contains $DARKROOM_TEST_CRASH_ON.
  if (const char* c = std::getenv("DARKROOM_TEST_CRASH_ON"); c && *c && photo.path.find(c) != std::string::npos)
    ::raise(SIGSEGV);
  // ... and one that never returns on the photos whose path contains $DARKROOM_TEST_HANG_ON.
  if (const char* h = std::getenv("DARKROOM_TEST_HANG_ON"); h && *h && photo.path.find(h) != std::string::npos)
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
#endif
  // Decode once, at the largest side any of these tasks wants (0: full resolution wins).
  int side = -1;
  for (const auto& l : jobs) {
    auto it = tasks_.find(l.task);
    if (it == tasks_.end()) continue;
    side = analyzers::decode_side(side, it->second->wanted_side());
  }
  analyzers::PhotoInput in;
  try {
    in = analyzers::read_photo(photo.path, side, limits_, true, photo.content_hash);
  } catch (const image::Error& e) {
    fail_all(e.what(), e.permanent());
    return;
  } catch (const std::bad_alloc&) {
    fail_all("out of memory while decoding " + photo.path, false);
    return;
  } catch (const std::exception& e) {
    fail_all(std::string("could not decode ") + photo.path + ": " + e.what(), false);
    return;
  }
  const auto& img = in.img;
  const auto& ro = in.opts;
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (cancelled()) {
      done(i, Outcome{Outcome::Released});
      continue;
    }
    auto it = tasks_.find(jobs[i].task);
    if (it == tasks_.end()) {
      done(i, failed("this worker cannot run the task '" + jobs[i].task + "'", false));
      continue;
    }
    Gate* gate = nullptr;
    if (auto g = gates_.find(jobs[i].task); g != gates_.end()) {
      gate = g->second.get();
      std::unique_lock lock(gate->mu);
      gate->cv.wait(lock, [&] { return gate->free > 0; });
      --gate->free;
    }
    Outcome o;
    try {
      o.result = it->second->run(img, ro);
      o.models = models_json(*it->second);
    } catch (const image::Error& e) {
      o = failed(e.what(), e.permanent());
    } catch (const analyzers::HostError& e) {
      o.kind = Outcome::Halted;
      o.error = e.what();
    } catch (const runtime::ModelError& e) {
      o = failed(e.what(), false);
    } catch (const std::exception& e) {
      o = failed("the " + jobs[i].task + " task failed on " + photo.path + ": " + e.what(), false);
    }
    if (gate) {
      std::lock_guard lock(gate->mu);
      ++gate->free;
      gate->cv.notify_one();
    }
    done(i, std::move(o));
  }
}

}  // namespace dr::jobs
