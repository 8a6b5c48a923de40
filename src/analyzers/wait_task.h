// Test builds only (DARKROOM_TEST_HOOKS): the "wait" task stands for an analysis without using the CPU, so that
// tests can run many workers (processes, machines) against one catalog. It sleeps $DARKROOM_TEST_WAIT_MS (200) and
// appends "CONTENT_HASH START_MS END_MS PID" to $DARKROOM_TEST_WAIT_LOG when set (one write per line: lines from
// many processes never mix), so a test can check that no photo was analysed by two workers at once.
#pragma once
#include <memory>

#include "analyzers/task.h"

namespace dr::analyzers {

std::unique_ptr<Task> make_wait_task(TaskContext& ctx);

}  // namespace dr::analyzers
