#pragma once
// Plain CTR training: BCE on the model's logit.
#include "core/params.h"
#include "core/precision.h"
#include "ctr/ctr_model.h"
#include "train/task.h"

namespace clickprompt::train {

class CtrTask : public Task {
 public:
  // Reads lr, embedding_lr, weight_decay, embedding_regularizer, precision from `train`.
  CtrTask(ctr::CtrModelPtr model, const core::Params& train);
  torch::nn::Module& module() override { return *model_; }
  std::vector<ParamGroup> param_groups() override;
  torch::Tensor loss(const Batch& b) override;
  torch::Tensor predict(const Batch& b) override;
  ctr::CtrModelPtr model() const { return model_; }

 private:
  ctr::CtrModelPtr model_;
  torch::Tensor logit(const torch::Tensor& ids);  // float32 [B], under the run's precision
  double lr_, embedding_lr_, weight_decay_, embedding_reg_;
  core::Precision precision_;
};

}  // namespace clickprompt::train
