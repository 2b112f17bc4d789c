#include "ctr/models/fm.h"

#include "ctr/layers/interaction.h"

namespace clickprompt::ctr {

FMImpl::FMImpl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  linear_ = register_module("linear", LinearTerm(info, e.sparse));
  bias_ = register_parameter("bias", torch::zeros({1}));
}

torch::Tensor FMImpl::representation(const torch::Tensor& ids) {
  auto second = bi_interaction(embedding_->forward(ids));
  return torch::cat({second, linear_->forward(ids).unsqueeze(1)}, 1);
}

torch::Tensor FMImpl::logit(const torch::Tensor& repr) { return repr.sum(1) + bias_; }

std::vector<torch::Tensor> FMImpl::embedding_parameters() {
  return {embedding_->table->weight, linear_->weights->weight};
}

}  // namespace clickprompt::ctr
