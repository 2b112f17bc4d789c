#pragma once
// FGCNN — Liu et al., "Feature Generation by Convolutional Neural Network for
// Click-Through Rate Prediction", WWW 2019.
//   Feature generation (Sec. 3.2, eq. 1-3; ctr/layers/conv.h): convolution along the
//   field axis + max pooling + fully connected recombination, per layer, giving
//   new features R^1 ... R^n of embedding size D.
//   Deep classifier (Sec. 3.3, IPNN, eq. 4-7): E' = [E ; R^1 ; ... ; R^n] (N' fields),
//     input = [flatten(E') ; <e'_i, e'_j> for all i<j],  hidden layers = DNN,
//     ŷ = sigmoid(w^T h_last + b).
//   q = h_last (the DNN's last hidden layer); logit = Linear(q).
// By default generation and classifier use separate embedding tables
// (share_embedding: false, as in FuxiCTR).
#include "ctr/ctr_model.h"
#include "ctr/layers/conv.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/interaction.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

class FGCNNImpl : public CtrModel {
 public:
  FGCNNImpl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return mlp_->output_dim(); }
  std::vector<torch::Tensor> embedding_parameters() override;

 private:
  FeatureEmbedding embedding_{nullptr};
  FeatureEmbedding fg_embedding_{nullptr};  // null when share_embedding
  FeatureGenerator generator_{nullptr};
  InnerProduct product_{nullptr};
  Mlp mlp_{nullptr};
  torch::nn::Linear out_{nullptr};
};

}  // namespace clickprompt::ctr
