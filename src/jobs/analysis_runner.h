// The Runner that analyses photos: decodes each photo once, at the largest side its leased tasks want
// (shrink-on-load, EXIF orientation applied), then runs every task on those pixels. Failures become outcomes:
// a file that is not an image, truncated or a pixel bomb fails at once (permanent); anything else is retried.
// Per-task concurrency limits keep heavy tasks from running on every thread at once.
#pragma once
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "analyzers/task.h"
#include "image/decode.h"
#include "jobs/worker_pool.h"

namespace dr::jobs {

class AnalysisRunner : public Runner {
 public:
  // tasks: by name, created once per process and shared by all threads. concurrency: task -> most threads running
  // it at once (absent: no limit).
  AnalysisRunner(std::map<std::string, analyzers::Task*> tasks, image::Limits limits = {},
                 std::map<std::string, int> concurrency = {});
  // Paths as this machine sees them: a catalogued path starting with `from` is read at `to` + the rest (workers
  // that mount a shared library's folders elsewhere: `work --path-map FROM=TO`). The longest match wins.
  void map_paths(std::vector<std::pair<std::string, std::string>> map) { path_map_ = std::move(map); }
  std::string local_path(const std::string& catalogued) const;
  // For a library several machines share: a photo whose folder this machine does not have is left for another
  // worker (Outcome::Deferred) instead of failing as missing.
  void leave_unseen_to_others(bool on) { leave_unseen_ = on; }
  void run(const catalog::LeasedPhoto& photo, const std::function<void(size_t, Outcome)>& done,
           const std::function<bool()>& cancelled) override;

  // The JSON stored with a result: [{"id","sha256"}] of the task's models.
  static nlohmann::json models_json(const analyzers::Task& t);

 private:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    int free = 0;
  };
  std::map<std::string, analyzers::Task*> tasks_;
  image::Limits limits_;
  std::map<std::string, std::unique_ptr<Gate>> gates_;
  std::vector<std::pair<std::string, std::string>> path_map_;
  bool leave_unseen_ = false;
};

}  // namespace dr::jobs
