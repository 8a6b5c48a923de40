// SIGINT / SIGTERM for long-running commands: the first asks for a graceful stop (stop leasing, finish or release
// what is in hand); the second ends the process at once (its leases expire and return to the queue).
#pragma once

namespace dr::jobs {

void install_stop_handlers();
bool stop_requested();
int stop_signal();  // the signal that asked for the stop (0: none)

}  // namespace dr::jobs
