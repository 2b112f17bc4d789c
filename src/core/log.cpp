#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace clickprompt::core {
void init_logging(bool verbose) {
  static bool done = false;
  if (!done) {
    auto logger = spdlog::stderr_color_mt("clickprompt");
    spdlog::set_default_logger(logger);
    done = true;
  }
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}
}  // namespace clickprompt::core
