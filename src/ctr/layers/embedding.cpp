#include "ctr/layers/embedding.h"

#include "core/error.h"
#include "core/runtime.h"

namespace clickprompt::ctr {

FeatureEmbeddingImpl::FeatureEmbeddingImpl(const FeatureInfo& info, const EmbeddingOptions& opt) : dim(opt.dim) {
  if (info.vocab_size <= 0) throw Error("embedding: vocabulary is empty");
  if (dim <= 0) throw Error("embedding_dim must be positive, got " + std::to_string(dim));
  // The table, its gradient and Adam's two moments, in fp32.
  core::check_memory(16.0 * static_cast<double>(info.vocab_size) * static_cast<double>(dim),
                     "an embedding table of " + std::to_string(info.vocab_size) + " x " + std::to_string(dim) +
                         " (with its gradient and Adam state)");
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
