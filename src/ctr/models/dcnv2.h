#pragma once
// DCNv2 — Wang et al., "DCN V2: Improved Deep & Cross Network and Practical
// Lessons for Web-scale Learning to Rank Systems", WWW 2021.
//   cross:    x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l        (eq. 1; low rank: eq. 2)
//   parallel: q = [x_{L_c} ; DNN(x_0)]                       (Fig. 1b, default)
//   stacked:  q = DNN(x_{L_c})                                (Fig. 1a)
//   y = sigmoid(w^T q + b)                                    (eq. 3)
#include "ctr/ctr_model.h"
#include "ctr/layers/cross.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

class DCNv2Impl : public CtrModel {
 public:
  DCNv2Impl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return repr_dim_; }
  std::vector<torch::Tensor> embedding_parameters() override { return {embedding_->table->weight}; }

 private:
  FeatureEmbedding embedding_{nullptr};
  CrossNetV2 cross_{nullptr};
  Mlp mlp_{nullptr};
  torch::nn::Linear out_{nullptr};
  bool stacked_ = false;
  int64_t repr_dim_ = 0;
};

}  // namespace clickprompt::ctr
