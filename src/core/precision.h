#pragma once
// Numeric precision of a run: "fp32" (default) or "bf16" (autocast: matrix
// products in bfloat16, parameters, optimizer state and losses in float32).
#include <string>

namespace clickprompt::core {

// Validates a precision name; throws Error with a suggestion otherwise.
std::string check_precision(const std::string& precision);

// Enables bfloat16 autocast for the device type in scope when precision is
// "bf16"; a no-op for "fp32". Nests; the outermost guard clears the cast cache.
class AutocastGuard {
 public:
  AutocastGuard(const std::string& precision, bool cuda);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false, cuda_ = false, was_enabled_ = false;
};

}  // namespace clickprompt::core
