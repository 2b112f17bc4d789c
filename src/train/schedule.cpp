#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/strings.h"

namespace clickprompt::train {

double LrSchedule::factor(int64_t step) const {
  if (warmup_steps > 0 && step < warmup_steps) return static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  if (kind == "constant") return 1.0;
  if (kind != "linear" && kind != "cosine")
    throw Error("unknown lr_schedule '" + kind + "' (" + core::suggest(kind, {"constant", "linear", "cosine"}) + ")");
  int64_t decay_steps = std::max<int64_t>(1, total_steps - warmup_steps);
  double progress = std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(decay_steps));
  double f = kind == "linear" ? 1.0 - progress : 0.5 * (1.0 + std::cos(M_PI * progress));
  return min_factor + (1.0 - min_factor) * f;
}

bool EarlyStopping::update(double metric, int epoch) {
  if (metric > best + min_delta) {
    best = metric;
    best_epoch = epoch;
    bad_epochs = 0;
    return true;
  }
  ++bad_epochs;
  return false;
}

}  // namespace clickprompt::train
