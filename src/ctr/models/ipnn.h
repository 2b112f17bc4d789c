#pragma once
// IPNN — Qu et al., "Product-based Neural Networks for User Response
// Prediction", ICDM 2016 (inner-product PNN).
//   product layer: l_z = W_z ⊙ z with z = [f_1, ..., f_N] (the field embeddings),
//                  l_p = W_p ⊙ p with p_{ij} = <f_i, f_j>  (all pairs i<j)
//   l_1 = relu(l_z + l_p + b_1) = relu(W_1 [z ; p] + b_1),  l_2 ... = DNN          (eq. 3-8)
//   ŷ = sigmoid(W_3 l_2 + b_3)
// The product layer's linear maps are the first Linear of the DNN over [z ; p]
// (as in FuxiCTR/DeepCTR). q = the last hidden layer; logit = Linear(q).
#include "ctr/ctr_model.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/interaction.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

class IPNNImpl : public CtrModel {
 public:
  IPNNImpl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return mlp_->output_dim(); }
  std::vector<torch::Tensor> embedding_parameters() override { return {embedding_->table->weight}; }

 private:
  FeatureEmbedding embedding_{nullptr};
  InnerProduct product_{nullptr};
  Mlp mlp_{nullptr};
  torch::nn::Linear out_{nullptr};
};

}  // namespace clickprompt::ctr
