#include "ctr/layers/embedding.h"

#include "core/error.h"

namespace clickprompt::ctr {

FeatureEmbeddingImpl::FeatureEmbeddingImpl(const FeatureInfo& info, const EmbeddingOptions& opt) : dim(opt.dim) {
  if (info.vocab_size <= 0) throw Error("embedding: vocabulary is empty");
  if (dim <= 0) throw Error("embedding_dim must be positive, got " + std::to_string(dim));
  table = register_module("table", torch::nn::Embedding(torch::nn::EmbeddingOptions(info.vocab_size, dim).sparse(opt.sparse)));
  torch::NoGradGuard ng;
  table->weight.normal_(0.0, opt.init_std);
}

torch::Tensor FeatureEmbeddingImpl::forward(const torch::Tensor& ids) { return table->forward(ids); }

LinearTermImpl::LinearTermImpl(const FeatureInfo& info, bool sparse) {
  weights = register_module("weights", torch::nn::Embedding(torch::nn::EmbeddingOptions(info.vocab_size, 1).sparse(sparse)));
  torch::NoGradGuard ng;
  weights->weight.zero_();
}

torch::Tensor LinearTermImpl::forward(const torch::Tensor& ids) { return weights->forward(ids).sum({1, 2}); }

EmbeddingOptions EmbeddingOptions::from(const core::Params& p) {
  return {p.get<int64_t>("embedding_dim", 32), p.get<double>("embedding_init_std", 1e-4),
          p.get<bool>("sparse_embedding", true)};
}

}  // namespace clickprompt::ctr
