#include "ctr/models/deepfm.h"

#include "ctr/layers/interaction.h"

namespace clickprompt::ctr {

DeepFMImpl::DeepFMImpl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  linear_ = register_module("linear", LinearTerm(info, e.sparse));
  mlp_ = register_module("mlp", Mlp(info.num_fields * e.dim, MlpOptions::from(p, "dnn", {256, 256, 256})));
  out_ = register_module("out", torch::nn::Linear(mlp_->output_dim(), 1));
}

torch::Tensor DeepFMImpl::representation(const torch::Tensor& ids) {
  auto emb = embedding_->forward(ids);
  return torch::cat({linear_->forward(ids).unsqueeze(1), bi_interaction(emb), mlp_->forward(emb.flatten(1))}, 1);
}

torch::Tensor DeepFMImpl::logit(const torch::Tensor& repr) {
  const int64_t fm = 1 + embedding_->dim;
  return repr.narrow(1, 0, fm).sum(1) + out_->forward(repr.narrow(1, fm, repr.size(1) - fm)).squeeze(1);
}

}  // namespace clickprompt::ctr
