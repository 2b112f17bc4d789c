#include "ctr/layers/embedding.h"

#include "core/error.h"

namespace clickprompt::ctr {

FeatureEmbeddingImpl::FeatureEmbeddingImpl(const FeatureInfo& info, int64_t dim_, double init_std) : dim(dim_) {
  if (info.vocab_size <= 0) throw Error("embedding: vocabulary is empty");
  if (dim <= 0) throw Error("embedding_dim must be positive, got " + std::to_string(dim));
  table = register_module("table", torch::nn::Embedding(info.vocab_size, dim));
  torch::NoGradGuard ng;
  table->weight.normal_(0.0, init_std);
}

torch::Tensor FeatureEmbeddingImpl::forward(const torch::Tensor& ids) { return table->forward(ids); }

LinearTermImpl::LinearTermImpl(const FeatureInfo& info) {
  weights = register_module("weights", torch::nn::Embedding(info.vocab_size, 1));
  torch::NoGradGuard ng;
  weights->weight.zero_();
}

torch::Tensor LinearTermImpl::forward(const torch::Tensor& ids) { return weights->forward(ids).sum({1, 2}); }

EmbeddingOptions EmbeddingOptions::from(const core::Params& p) {
  return {p.get<int64_t>("embedding_dim", 32), p.get<double>("embedding_init_std", 1e-4)};
}

}  // namespace clickprompt::ctr
