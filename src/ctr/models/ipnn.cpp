#include "ctr/models/ipnn.h"

namespace clickprompt::ctr {

IPNNImpl::IPNNImpl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  product_ = register_module("product", InnerProduct(info.num_fields));
  int64_t in = info.num_fields * e.dim + product_->num_pairs();
  mlp_ = register_module("mlp", Mlp(in, MlpOptions::from(p, "dnn", {256, 256, 256})));
  out_ = register_module("out", torch::nn::Linear(mlp_->output_dim(), 1));
}

torch::Tensor IPNNImpl::representation(const torch::Tensor& ids) {
  auto emb = embedding_->forward(ids);
  return mlp_->forward(torch::cat({emb.flatten(1), product_->forward(emb)}, 1));
}

torch::Tensor IPNNImpl::logit(const torch::Tensor& repr) { return out_->forward(repr).squeeze(1); }

}  // namespace clickprompt::ctr
