#pragma once
// DNN — the plain deep model of CTR benchmarks (Covington et al., RecSys 2016;
// "DNN" in FuxiCTR/BARS): concatenated field embeddings -> MLP -> linear output.
// representation q = last hidden layer of the MLP.
#include "ctr/ctr_model.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

class DNNImpl : public CtrModel {
 public:
  DNNImpl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return mlp_->output_dim(); }
  std::vector<torch::Tensor> embedding_parameters() override { return {embedding_->table->weight}; }

 private:
  FeatureEmbedding embedding_{nullptr};
  Mlp mlp_{nullptr};
  torch::nn::Linear out_{nullptr};
};

}  // namespace clickprompt::ctr
