// GET /api/events: a server-sent event stream of the library's work, read from the catalog, so that it shows the
// work of this process's workers and of `darkroom work` processes elsewhere alike. Twice a second, while anyone
// listens, the jobs whose state changed are sent as "job" events ({"id","photo_id","task","state"}), followed by
// one "progress" event (jobs by state and by task, photos, photos still pending); a comment every 15 s keeps
// proxies from closing a quiet stream. A new listener gets a "progress" event at once.
#pragma once
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "catalog/store.h"
#include "server/http.h"

namespace dr::server {

class EventHub {
 public:
  explicit EventHub(catalog::Store& store, int poll_ms = 500);
  ~EventHub();
  void subscribe(std::shared_ptr<EventSink> sink);
  size_t listeners();

 private:
  void loop();
  std::string progress_event();
  void broadcast(const std::string& data);

  catalog::Store& store_;
  int poll_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::shared_ptr<EventSink>> sinks_;
  std::thread thread_;
};

}  // namespace dr::server
