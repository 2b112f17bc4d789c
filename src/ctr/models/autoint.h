#pragma once
// AutoInt — Song et al., "AutoInt: Automatic Feature Interaction Learning via
// Self-Attentive Neural Networks", CIKM 2019.
//   e_m = embedding of field m;  L interacting layers of multi-head self-attention
//   with residual connections (eq. 5-9, ctr/layers/attention.h):
//     e^{(l)}_m = ReLU( ⊕_h sum_k α^{(h)}_{m,k} W_V^{(h)} e^{(l-1)}_k + W_Res e^{(l-1)}_m )
//   ŷ = sigmoid( w^T (e^{(L)}_1 ⊕ ... ⊕ e^{(L)}_M) + b )                          (eq. 10)
//   q = e^{(L)}_1 ⊕ ... ⊕ e^{(L)}_M   [M * num_heads * attention_dim]
// AutoInt+ (paper Sec. 5.5, "with a DNN in parallel"): set dnn_hidden_units to a
// non-empty list; then q = [attention output ; DNN(e_1 ⊕ ... ⊕ e_M)] and the
// output layer is one Linear over q (= the sum of the two parts' linear outputs).
#include "ctr/ctr_model.h"
#include "ctr/layers/attention.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

class AutoIntImpl : public CtrModel {
 public:
  AutoIntImpl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return repr_dim_; }
  std::vector<torch::Tensor> embedding_parameters() override { return {embedding_->table->weight}; }

 private:
  FeatureEmbedding embedding_{nullptr};
  torch::nn::ModuleList attention_{nullptr};  // MultiHeadSelfAttention layers
  Mlp mlp_{nullptr};                          // AutoInt+ only
  torch::nn::Linear out_{nullptr};
  int64_t repr_dim_ = 0;
};

}  // namespace clickprompt::ctr
