// The pdq task of `analyze` and of library jobs: {"hash": hex, "quality": q}, plus "dihedral": [8 hex] when the
// settings ask for it ({"pdq": {"dihedral": true}}).
#pragma once
#include <memory>

#include "analyzers/task.h"

namespace dr::analyzers {

std::unique_ptr<Task> make_pdq_task(TaskContext& ctx);

}  // namespace dr::analyzers
