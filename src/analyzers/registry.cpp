// The one list of tasks. Each analyzer adds its line here.
#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "analyzers/clip/clip_task.h"
#include "analyzers/faces/faces_task.h"
#include "analyzers/objects/objects_task.h"
#include "analyzers/pdq/pdq_task.h"
#include "analyzers/task.h"
#include "analyzers/text/text_task.h"
#include "analyzers/thumbs/thumbs_task.h"
#include "analyzers/wait_task.h"

namespace dr::analyzers {
namespace {

struct Entry {
  const char* name;
  std::unique_ptr<Task> (*make)(TaskContext&);
  // Model tasks: the manifest's task name whose default models must be installed. Empty: needs no model.
  const char* model_task;
  bool library_only = false;  // writes files into a library (no default for `analyze`)
  bool by_default = true;     // among the default tasks when its models are installed
};

// In the order `analyze` runs them.
const std::vector<Entry>& entries() {
  static const std::vector<Entry> list = {
      {"pdq", &make_pdq_task, ""},
      {"faces", make_faces_task, "faces"},
      {"objects", &make_objects_task, "objects"},
      {"text", &make_text_task, "text"},
      {"clip", &make_clip_task, "clip"},
      {"thumbs", &make_thumbs_task, "", true},
#ifdef DARKROOM_TEST_HOOKS
      {"wait", &make_wait_task, "", true, false},  // test builds only: a task that waits (analyzers/wait_task.h)
#endif
  };
  return list;
}

std::string joined_names() {
  std::string s;
  for (auto& e : entries()) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

}  // namespace

const std::vector<std::string>& known_tasks() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (auto& e : entries()) v.push_back(e.name);
    return v;
  }();
  return names;
}

std::unique_ptr<Task> make_task(const std::string& name, TaskContext& ctx) {
  for (auto& e : entries())
    if (name == e.name) return e.make(ctx);
  throw std::invalid_argument("unknown task '" + name + "' (known: " + joined_names() + ")");
}

std::vector<std::string> available_tasks(const runtime::ModelStore& store, bool library) {
  std::vector<std::string> out;
  for (auto& e : entries()) {
    if ((e.library_only && !library) || !e.by_default) continue;
    if (!*e.model_task) {
      out.push_back(e.name);
      continue;
    }
    auto models = store.manifest().for_task(e.model_task);
    // Every default model installed, and at least one model of the task (a task whose models are all optional,
    // like clip's, is available only once one of them is installed).
    bool ok = !models.empty() && std::all_of(models.begin(), models.end(), [&](const runtime::ModelEntry* m) {
      return !m->default_install || store.installed(*m);
    }) && std::any_of(models.begin(), models.end(), [&](const runtime::ModelEntry* m) { return store.installed(*m); });
    if (ok) out.push_back(e.name);
  }
  return out;
}

std::vector<std::string> parse_task_list(const std::string& csv) {
  std::vector<std::string> out;
  std::stringstream ss(csv);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    auto& known = known_tasks();
    if (std::find(known.begin(), known.end(), item) == known.end())
      throw std::invalid_argument("unknown task '" + item + "' (known: " + joined_names() + ")");
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  if (out.empty()) throw std::invalid_argument("no task given (known: " + joined_names() + ")");
  return out;
}

}  // namespace dr::analyzers
