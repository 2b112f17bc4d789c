#include "ctr/models/dnn.h"

namespace clickprompt::ctr {

DNNImpl::DNNImpl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  mlp_ = register_module("mlp", Mlp(info.num_fields * e.dim, MlpOptions::from(p, "dnn", {256, 256, 256})));
  out_ = register_module("out", torch::nn::Linear(mlp_->output_dim(), 1));
}

torch::Tensor DNNImpl::representation(const torch::Tensor& ids) {
  return mlp_->forward(embedding_->forward(ids).flatten(1));
}

torch::Tensor DNNImpl::logit(const torch::Tensor& repr) { return out_->forward(repr).squeeze(1); }

}  // namespace clickprompt::ctr
