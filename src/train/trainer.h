#pragma once
// The training loop shared by every task: shuffled mini-batches, Adam/AdamW
// with parameter groups, warm-up + decay, gradient clipping, validation AUC
// every epoch with early stopping (and FuxiCTR-style lr reduction on plateau),
// atomic checkpoints (best + last), --resume, progress and a JSON-lines log.
#include <string>
#include <vector>

#include "core/params.h"
#include "data/dataset.h"
#include "train/distributed.h"
#include "train/schedule.h"
#include "train/task.h"

namespace clickprompt::train {

struct TrainerOptions {
  int64_t batch_size = 256;
  int64_t eval_batch_size = 4096;
  int max_epochs = 20;
  int patience = 2;
  double plateau_factor = 0.1;  // lr *= factor after an epoch without improvement; 0 = off
  std::string optimizer = "adam";  // adam | adamw
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  std::string lr_schedule = "constant";
  int64_t warmup_steps = 0;
  double warmup_ratio = 0.0;  // of all steps, when warmup_steps is 0
  double grad_clip_norm = 10.0;  // 0 = off
  std::string monitor = "auc";   // early stopping / best epoch on: auc | auc-logloss (FuxiCTR's default)
  int64_t epoch_rows = 0;        // 0 = the whole training split per epoch; else a shuffled sample of this many
  uint64_t seed = 2024;
  std::string device = "cpu";
  bool progress = true;

  // Reads the trainer keys of the `train` section (other keys stay for the task);
  // keys the section does not set keep the values of `defaults`.
  static TrainerOptions from(const core::Params& train, const TrainerOptions& defaults);
  static TrainerOptions from(const core::Params& train) { return from(train, TrainerOptions{}); }
};

struct EpochRecord {
  int epoch = 0;
  double train_loss = 0, valid_auc = 0, valid_logloss = 0, seconds = 0, samples_per_sec = 0;
  std::vector<double> lrs;
};

struct FitResult {
  int best_epoch = 0, epochs_run = 0;
  double valid_auc = 0, valid_logloss = 0;
  double train_samples_per_sec = 0;  // over all epochs, training steps only
  bool stopped_early = false;
  double earlier_wall_seconds = 0;  // of the processes before a --resume, up to their last checkpoint
  dist::CommSummary comm;  // distributed runs (world_size > 1)
  std::vector<EpochRecord> history;
};

class Trainer {
 public:
  Trainer(TrainerOptions opt, std::string out_dir);
  // Trains on ds.train, validates on ds.valid, leaves the task's module holding the best weights.
  FitResult fit(Task& task, const data::Dataset& ds, bool resume);
  // Probabilities for every row of a split, in row order. `seconds` gets the wall time.
  std::vector<float> predict(Task& task, const data::Split& split, double* seconds = nullptr) const;
  const TrainerOptions& options() const { return opt_; }

 private:
  TrainerOptions opt_;
  std::string out_dir_;
};

// A tensor's values as floats (copied to the CPU): labels and probabilities for the metrics.
std::vector<float> to_float_vector(const torch::Tensor& t);

// Saves/loads a module's weights alone (the "best" checkpoint, what evaluate/predict read).
void save_module(torch::nn::Module& m, const std::string& path);
void load_module(torch::nn::Module& m, const std::string& path);
// The same from a checkpoint's bytes (`path` names it in errors).
void load_module(torch::nn::Module& m, const std::string& path, const std::string& bytes);

}  // namespace clickprompt::train
