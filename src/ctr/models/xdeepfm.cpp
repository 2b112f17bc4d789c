#include "ctr/models/xdeepfm.h"

namespace clickprompt::ctr {

XDeepFMImpl::XDeepFMImpl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  linear_ = register_module("linear", LinearTerm(info, e.sparse));
  cin_ = register_module("cin", Cin(info.num_fields, p.get<std::vector<int64_t>>("cin_hidden_units", {16, 16, 16}),
                                    p.get<bool>("cin_split_half", true), p.get<std::string>("cin_activation", "linear"),
                                    p.get<bool>("cin_bias", true)));
  auto dnn = MlpOptions::from(p, "dnn", {256, 256, 256});
  repr_dim_ = 1 + cin_->output_dim();
  if (!dnn.hidden_units.empty()) {
    mlp_ = register_module("mlp", Mlp(info.num_fields * e.dim, dnn));
    repr_dim_ += mlp_->output_dim();
  }
  out_ = register_module("out", torch::nn::Linear(repr_dim_ - 1, 1));
}

torch::Tensor XDeepFMImpl::representation(const torch::Tensor& ids) {
  auto emb = embedding_->forward(ids);
  std::vector<torch::Tensor> parts{linear_->forward(ids).unsqueeze(1), cin_->forward(emb)};
  if (mlp_) parts.push_back(mlp_->forward(emb.flatten(1)));
  return torch::cat(parts, 1);
}

torch::Tensor XDeepFMImpl::logit(const torch::Tensor& repr) {
  return repr.select(1, 0) + out_->forward(repr.narrow(1, 1, repr.size(1) - 1)).squeeze(1);
}

}  // namespace clickprompt::ctr
