#pragma once
// Logging: spdlog with one pattern for the whole tool.
#include <spdlog/spdlog.h>

namespace clickprompt::core {
void init_logging(bool verbose = false);
}  // namespace clickprompt::core
