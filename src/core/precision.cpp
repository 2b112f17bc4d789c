#include "core/precision.h"

#include <ATen/autocast_mode.h>

#include "core/error.h"
#include "core/strings.h"

namespace clickprompt::core {

std::string check_precision(const std::string& p) {
  if (p != "fp32" && p != "bf16")
    throw Error("unknown precision '" + p + "' (" + suggest(p, {"fp32", "bf16"}) + ")");
  return p;
}

AutocastGuard::AutocastGuard(const std::string& precision, bool cuda) : cuda_(cuda) {
  if (check_precision(precision) != "bf16") return;
  active_ = true;
  if (cuda_) {
    was_enabled_ = at::autocast::is_enabled();
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
  } else {
    was_enabled_ = at::autocast::is_cpu_enabled();
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_)
    at::autocast::set_enabled(was_enabled_);
  else
    at::autocast::set_cpu_enabled(was_enabled_);
}

}  // namespace clickprompt::core
