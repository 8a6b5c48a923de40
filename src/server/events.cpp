#include "server/events.h"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "jobs/queue.h"

namespace dr::server {

EventHub::EventHub(catalog::Store& store, int poll_ms) : store_(store), poll_ms_(poll_ms) {
  thread_ = std::thread([this] { loop(); });
}

EventHub::~EventHub() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

size_t EventHub::listeners() {
  std::lock_guard lock(mu_);
  std::erase_if(sinks_, [](const auto& s) { return !s->open(); });
  return sinks_.size();
}

std::string EventHub::progress_event() {
  auto c = jobs::Queue(store_).counts();
  nlohmann::json j = {
      {"photos", c.photos}, {"jobs", c.jobs}, {"by_task", c.by_task}, {"pending_photos", store_.pending_photos()}};
  return "event: progress\ndata: " + j.dump() + "\n\n";
}

void EventHub::subscribe(std::shared_ptr<EventSink> sink) {
  std::string first;
  try {
    first = "retry: 2000\n\n" + progress_event();
  } catch (const std::exception& e) {
    first = "event: error\ndata: " + nlohmann::json{{"error", e.what()}}.dump() + "\n\n";
  }
  sink->send(first);
  {
    std::lock_guard lock(mu_);
    sinks_.push_back(std::move(sink));
  }
  cv_.notify_all();
}

void EventHub::broadcast(const std::string& data) {
  std::lock_guard lock(mu_);
  std::erase_if(sinks_, [&](const auto& s) { return !s->send(data); });
}

void EventHub::loop() {
  int64_t since = store_.clock_ms();
  std::map<int64_t, int64_t> recent;  // job id -> updated_ms, for changes read near the cursor already
  auto last_beat = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(poll_ms_));
    if (stop_) break;
    std::erase_if(sinks_, [](const auto& s) { return !s->open(); });
    if (sinks_.empty()) {
      since = store_.clock_ms();
      recent.clear();
      continue;
    }
    lock.unlock();
    std::string out;
    try {
      // Changes are read with a second of overlap: a write stamped just before the previous read may have
      // committed after it. `recent` drops what was sent already.
      auto changes = store_.job_changes(since - 1000, 5000);
      for (const auto& ch : changes) {
        auto it = recent.find(ch.job_id);
        if (it != recent.end() && it->second == ch.updated_ms) continue;
        recent[ch.job_id] = ch.updated_ms;
        since = std::max(since, ch.updated_ms);
        out += "event: job\ndata: " +
               nlohmann::json{{"id", ch.job_id},
                              {"photo_id", ch.photo_id},
                              {"task", ch.task},
                              {"state", catalog::to_string(ch.state)}}
                   .dump() +
               "\n\n";
      }
      std::erase_if(recent, [&](const auto& kv) { return kv.second < since - 2000; });
      if (!out.empty()) out += progress_event();
    } catch (const std::exception& e) {
      out = "event: error\ndata: " + nlohmann::json{{"error", e.what()}}.dump() + "\n\n";
    }
    auto now = std::chrono::steady_clock::now();
    if (out.empty() && now - last_beat > std::chrono::seconds(15)) out = ": still here\n\n";
    if (!out.empty()) {
      last_beat = now;
      broadcast(out);
    }
    lock.lock();
  }
}

}  // namespace dr::server
