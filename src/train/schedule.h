#pragma once
// Learning-rate schedule: linear warm-up, then constant, linear or cosine decay.
#include <cstdint>
#include <string>

namespace clickprompt::train {

struct LrSchedule {
  std::string kind = "constant";  // constant | linear | cosine
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;        // needed by linear and cosine
  double min_factor = 0.0;        // floor of the decay, as a fraction of the base rate
  // Multiplier of the base learning rate at optimizer step `step` (0-based).
  double factor(int64_t step) const;
};

// Stops after `patience` evaluations without improvement of a higher-is-better metric.
struct EarlyStopping {
  int patience = 2;
  double min_delta = 0.0;
  double best = -1e300;
  int best_epoch = 0;
  int bad_epochs = 0;
  // Records the metric of `epoch`; returns true when it is a new best.
  bool update(double metric, int epoch);
  bool should_stop() const { return bad_epochs >= patience; }
};

}  // namespace clickprompt::train
