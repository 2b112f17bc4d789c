#include "ctr/models/autoint.h"

#include "core/error.h"

namespace clickprompt::ctr {

AutoIntImpl::AutoIntImpl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  auto layers = p.get<int64_t>("attention_layers", 3);
  auto heads = p.get<int64_t>("num_heads", 2);
  auto att_dim = p.get<int64_t>("attention_dim", 32);
  auto residual = p.get<bool>("use_residual", true);
  auto scale = p.get<bool>("use_scale", false);
  if (layers < 1) throw Error(p.context() + ".attention_layers must be >= 1, got " + std::to_string(layers));
  attention_ = register_module("attention", torch::nn::ModuleList());
  int64_t in = e.dim;
  for (int64_t l = 0; l < layers; ++l) {
    attention_->push_back(MultiHeadSelfAttention(in, att_dim, heads, residual, scale));
    in = att_dim * heads;
  }
  repr_dim_ = info.num_fields * in;
  auto dnn = MlpOptions::from(p, "dnn", {});
  if (!dnn.hidden_units.empty()) {
    mlp_ = register_module("mlp", Mlp(info.num_fields * e.dim, dnn));
    repr_dim_ += mlp_->output_dim();
  }
  out_ = register_module("out", torch::nn::Linear(repr_dim_, 1));
}

torch::Tensor AutoIntImpl::representation(const torch::Tensor& ids) {
  auto emb = embedding_->forward(ids);
  torch::Tensor x = emb;
  for (const auto& layer : *attention_) x = layer->as<MultiHeadSelfAttention>()->forward(x);
  if (!mlp_) return x.flatten(1);
  return torch::cat({x.flatten(1), mlp_->forward(emb.flatten(1))}, 1);
}

torch::Tensor AutoIntImpl::logit(const torch::Tensor& repr) { return out_->forward(repr).squeeze(1); }

}  // namespace clickprompt::ctr
