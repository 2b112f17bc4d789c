#include "ctr/models/dcn.h"

namespace clickprompt::ctr {

DCNImpl::DCNImpl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  int64_t d = info.num_fields * e.dim;
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  cross_ = register_module("cross", CrossNetV1(d, p.get<int64_t>("num_cross_layers", 3)));
  auto dnn = MlpOptions::from(p, "dnn", {256, 256, 256});
  repr_dim_ = d;
  if (!dnn.hidden_units.empty()) {
    mlp_ = register_module("mlp", Mlp(d, dnn));
    repr_dim_ += mlp_->output_dim();
  }
  out_ = register_module("out", torch::nn::Linear(repr_dim_, 1));
}

torch::Tensor DCNImpl::representation(const torch::Tensor& ids) {
  auto x0 = embedding_->forward(ids).flatten(1);
  if (!mlp_) return cross_->forward(x0);
  return torch::cat({cross_->forward(x0), mlp_->forward(x0)}, 1);
}

torch::Tensor DCNImpl::logit(const torch::Tensor& repr) { return out_->forward(repr).squeeze(1); }

}  // namespace clickprompt::ctr
