#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <string>

namespace clickprompt::core {
void init_logging(bool verbose) {
  static bool done = false;
  if (!done) {
    auto logger = spdlog::stderr_color_mt("clickprompt");
    spdlog::set_default_logger(logger);
    done = true;
  }
  // Workers of a distributed run (RANK set) say which rank speaks.
  const char* rank = std::getenv("RANK");
  const char* world = std::getenv("WORLD_SIZE");
  if (rank && world && std::atoi(world) > 1)
    spdlog::set_pattern(std::string("[%H:%M:%S] [rank ") + rank + "] %^%l%$ %v");
  else
    spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
}
}  // namespace clickprompt::core
