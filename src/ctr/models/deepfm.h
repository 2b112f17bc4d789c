#pragma once
// DeepFM — Guo et al., "DeepFM: A Factorization-Machine based Neural Network
// for CTR Prediction", IJCAI 2017.
//   y_FM  = <w, x> + sum_{i<j} <V_i, V_j> x_i x_j                      (eq. 2)
//   y_DNN = W^{|H|+1} a^{|H|} + b^{|H|+1},  a^0 = [e_1, ..., e_m]       (eq. 3-5)
//   ŷ     = sigmoid(y_FM + y_DNN)                                        (eq. 1)
// FM and DNN share the embedding table. The output is a sum of parts, so
//   q = [ sum_i w_i (1) ; bi-interaction vector (D) ; a^{|H|} (H) ]
//   logit(q) = q_0 + sum(q_{1..D}) + w_out^T q_{D+1..} + b
// which is exactly eq. 1 (the single bias b plays the role of w0 + b^{|H|+1}).
#include "ctr/ctr_model.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

class DeepFMImpl : public CtrModel {
 public:
  DeepFMImpl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return 1 + embedding_->dim + mlp_->output_dim(); }
  std::vector<torch::Tensor> embedding_parameters() override {
    return {embedding_->table->weight, linear_->weights->weight};
  }

 private:
  FeatureEmbedding embedding_{nullptr};
  LinearTerm linear_{nullptr};
  Mlp mlp_{nullptr};
  torch::nn::Linear out_{nullptr};
};

}  // namespace clickprompt::ctr
