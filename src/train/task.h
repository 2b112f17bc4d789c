#pragma once
// What the trainer trains: a module, its parameter groups, a loss and a
// prediction on a batch. CTR models are one task; ClickPrompt's modes are others.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "data/dataset.h"

namespace clickprompt::train {

struct Batch {
  torch::Tensor ids;     // int64 [B, F] on the device
  torch::Tensor labels;  // float32 [B] on the device
  torch::Tensor rows;    // int64 [B] row indices into the split (on CPU)
  const data::Split* split = nullptr;  // the split `rows` index (tasks that need more than ids: text views)
};

struct ParamGroup {
  std::string name;
  std::vector<torch::Tensor> params;
  double lr = 1e-3;
  double weight_decay = 0.0;
};

class Task {
 public:
  virtual ~Task() = default;
  virtual torch::nn::Module& module() = 0;
  virtual std::vector<ParamGroup> param_groups() = 0;
  virtual torch::Tensor loss(const Batch& b) = 0;     // scalar, training mode
  virtual torch::Tensor predict(const Batch& b) = 0;  // probabilities [B], no grad
};

}  // namespace clickprompt::train
