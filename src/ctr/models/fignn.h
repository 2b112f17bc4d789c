#pragma once
// FiGNN — Li et al., "Fi-GNN: Modeling Feature Interactions via Graph Neural
// Networks for CTR Prediction", CIKM 2019.
//   field graph with attentional edge weights A[i,j] = softmax_j(LeakyReLU(w^T[e_i ‖ e_j]))  (eq. 5-6)
//   T steps of  a_i^t = W_in^i sum_j A[i,j] W_out^j h_j^{t-1} + b_p,                           (eq. 7-8)
//               h_i^t = GRU(h_i^{t-1}, a_i^t) + e_i  (gated update + residual)                 (eq. 9-10)
//   attentional scoring: ŷ = sigmoid( sum_i sigmoid(MLP_2(h^T))_i * MLP_1(h_i^T) )             (eq. 11-12)
// (building blocks in ctr/layers/gnn.h). The output layer is the attentional
// scoring, so q = the final node states h^T_1 ⊕ ... ⊕ h^T_F  [F * D] and
// logit(q) = attentional scoring of q — exactly the paper's model.
#include "ctr/ctr_model.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/gnn.h"

namespace clickprompt::ctr {

class FiGNNImpl : public CtrModel {
 public:
  FiGNNImpl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return repr_dim_; }
  std::vector<torch::Tensor> embedding_parameters() override { return {embedding_->table->weight}; }

 private:
  FeatureEmbedding embedding_{nullptr};
  FieldGraph graph_{nullptr};
  AttentionalScoring scoring_{nullptr};
  int64_t repr_dim_ = 0;
};

}  // namespace clickprompt::ctr
