#pragma once
// FM — Rendle, "Factorization Machines", ICDM 2010, eq. (1):
//   y = w0 + sum_i w_i + sum_{i<j} <v_i, v_j>
// representation q = [bi-interaction vector (D) ; first-order sum (1)]; the
// output layer is logit = w0 + sum(q), which is exactly FM.
#include "ctr/ctr_model.h"
#include "ctr/layers/embedding.h"

namespace clickprompt::ctr {

class FMImpl : public CtrModel {
 public:
  FMImpl(const FeatureInfo& info, const core::Params& p);
  torch::Tensor representation(const torch::Tensor& ids) override;
  torch::Tensor logit(const torch::Tensor& repr) override;
  int64_t representation_dim() const override { return embedding_->dim + 1; }
  std::vector<torch::Tensor> embedding_parameters() override;

 private:
  FeatureEmbedding embedding_{nullptr};
  LinearTerm linear_{nullptr};
  torch::Tensor bias_;
};

}  // namespace clickprompt::ctr
