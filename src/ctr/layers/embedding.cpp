#include "ctr/layers/embedding.h"

#include "core/error.h"
#include "core/runtime.h"

namespace clickprompt::ctr {

SlotPooling::SlotPooling(const FeatureInfo& info) : active_(info.has_multi()) {
  if (!active_) return;
  const int64_t F = info.num_fields, S = info.num_slots();
  assign_ = torch::zeros({S, F});
  first_ = torch::zeros({F, S});
  oov_ = torch::empty({S}, torch::kInt64);
  int64_t s = 0;
  for (int64_t f = 0; f < F; ++f) {
    first_[f][s] = 1;
    for (int64_t k = 0; k < info.field_widths[f]; ++k, ++s) {
      assign_[s][f] = 1;
      oov_[s] = info.field_offsets[f];
    }
  }
}

torch::Tensor SlotPooling::operator()(const torch::Tensor& emb, const torch::Tensor& ids) const {
  const auto dt = emb.scalar_type();
  auto a = assign_.to(emb.device(), dt), first = first_.to(emb.device(), dt);
  auto m = ids.ne(oov_.to(ids.device())).to(dt);  // [B,S]: a known value
  auto count = m.matmul(a);                        // [B,F]
  auto empty = count.eq(0).to(dt);
  m = m + empty.matmul(first);  // a field with no known value: its first slot (OOV)
  count = count + empty;
  auto w = m / count.matmul(a.t());  // [B,S]: 1 / the field's count on its known slots
  return (emb * w.unsqueeze(-1)).transpose(1, 2).matmul(a).transpose(1, 2);
}

FeatureEmbeddingImpl::FeatureEmbeddingImpl(const FeatureInfo& info, const EmbeddingOptions& opt) : dim(opt.dim) {
  if (info.vocab_size <= 0) throw Error("embedding: vocabulary is empty");
  if (dim <= 0) throw Error("embedding_dim must be positive, got " + std::to_string(dim));
  // The table, its gradient and Adam's two moments, in fp32.
  core::check_memory(16.0 * static_cast<double>(info.vocab_size) * static_cast<double>(dim),
                     "an embedding table of " + std::to_string(info.vocab_size) + " x " + std::to_string(dim) +
                         " (with its gradient and Adam state)");
  table = register_module("table", torch::nn::Embedding(torch::nn::EmbeddingOptions(info.vocab_size, dim).sparse(opt.sparse)));
  pool = SlotPooling(info);
  torch::NoGradGuard ng;
  table->weight.normal_(0.0, opt.init_std);
}

torch::Tensor FeatureEmbeddingImpl::forward(const torch::Tensor& ids) {
  auto e = table->forward(ids);
  return pool.active() ? pool(e, ids) : e;
}

LinearTermImpl::LinearTermImpl(const FeatureInfo& info, bool sparse) {
  weights = register_module("weights", torch::nn::Embedding(torch::nn::EmbeddingOptions(info.vocab_size, 1).sparse(sparse)));
  pool = SlotPooling(info);
  torch::NoGradGuard ng;
  weights->weight.zero_();
}

torch::Tensor LinearTermImpl::forward(const torch::Tensor& ids) {
  auto w = weights->forward(ids);
  return (pool.active() ? pool(w, ids) : w).sum({1, 2});
}

EmbeddingOptions EmbeddingOptions::from(const core::Params& p) {
  return {p.get<int64_t>("embedding_dim", 32), p.get<double>("embedding_init_std", 1e-4),
          p.get<bool>("sparse_embedding", true)};
}

}  // namespace clickprompt::ctr
