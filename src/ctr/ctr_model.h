#pragma once
// The one interface every ID-based CTR model implements (DESIGN.md):
//   representation(ids [B,S] int64 global ids; S = F slots unless a field is multi-valued) -> q [B, D]   (the vector just before the output layer)
//   logit(q) -> [B]
// ClickPrompt's prompt generator consumes q; plain CTR training uses forward().
#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/params.h"
#include "ctr/feature_info.h"

namespace clickprompt::ctr {

class CtrModel : public torch::nn::Module {
 public:
  virtual torch::Tensor representation(const torch::Tensor& ids) = 0;
  virtual torch::Tensor logit(const torch::Tensor& repr) = 0;
  virtual int64_t representation_dim() const = 0;
  torch::Tensor forward(const torch::Tensor& ids) { return logit(representation(ids)); }
  // Parameters of the embedding tables (optimizers may treat them apart).
  virtual std::vector<torch::Tensor> embedding_parameters() = 0;
};

using CtrModelPtr = std::shared_ptr<CtrModel>;

}  // namespace clickprompt::ctr
