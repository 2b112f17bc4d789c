#pragma once
// xDeepFM — Lian et al., "xDeepFM: Combining Explicit and Implicit Feature
// Interactions for Recommender Systems", KDD 2018.
//   CIN (eq. 6-8, see ctr/layers/cin.h) gives p+; the DNN gives x^k_dnn; the linear part is w^T a.
//   ŷ = sigmoid( w_linear^T a + w_dnn^T x^k_dnn + w_cin^T p+ + b )      (eq. 13)
// All three parts share the embedding table.
//   q = [ sum_i w_i (1) ; p+ (sum of CIN output maps) ; x^k_dnn (H) ]
//   logit(q) = q_0 + w_out^T q_{1..} + b   (exactly eq. 13: the linear part's weights are the w_i)
// With dnn_hidden_units: [] the DNN part is left out (CIN + linear only).
#include "ctr/ctr_model.h"
#include "ctr/layers/cin.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

class XDeepFMImpl : public CtrModel {
 public:
  XDeepFMImpl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return repr_dim_; }
  std::vector<torch::Tensor> embedding_parameters() override {
    return {embedding_->table->weight, linear_->weights->weight};
  }

 private:
  FeatureEmbedding embedding_{nullptr};
  LinearTerm linear_{nullptr};
  Cin cin_{nullptr};
  Mlp mlp_{nullptr};  // null when dnn_hidden_units is empty
  torch::nn::Linear out_{nullptr};
  int64_t repr_dim_ = 0;
};

}  // namespace clickprompt::ctr
