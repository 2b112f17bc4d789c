#pragma once
// DCN — Wang et al., "Deep & Cross Network for Ad Click Predictions", ADKDD 2017.
//   x_0 = [e_1 ; ... ; e_m]
//   cross:  x_{l+1} = x_0 x_l^T w_l + b_l + x_l          (eq. 3, rank one; ctr/layers/cross.h)
//   deep:   h_{l+1} = relu(W_l h_l + b_l),  h_0 = x_0      (eq. 4)
//   q = [x_{L_1} ; h_{L_2}]  (combination layer input),  ŷ = sigmoid(w_logits^T q + b)   (eq. 5)
// With dnn_hidden_units: [] the deep part is left out (cross network only).
#include "ctr/ctr_model.h"
#include "ctr/layers/cross.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

class DCNImpl : public CtrModel {
 public:
  DCNImpl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return repr_dim_; }
  std::vector<torch::Tensor> embedding_parameters() override { return {embedding_->table->weight}; }

 private:
  FeatureEmbedding embedding_{nullptr};
  CrossNetV1 cross_{nullptr};
  Mlp mlp_{nullptr};  // null when dnn_hidden_units is empty
  torch::nn::Linear out_{nullptr};
  int64_t repr_dim_ = 0;
};

}  // namespace clickprompt::ctr
