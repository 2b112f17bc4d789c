#include "ctr/models/fgcnn.h"

#include "core/error.h"

namespace clickprompt::ctr {

namespace {
// A list key that also accepts one number for every layer (FuxiCTR allows both).
std::vector<int64_t> list_or_scalar(const core::Params& p, const std::string& key, size_t n,
                                    const std::vector<int64_t>& fallback) {
  if (p.has(key) && p.node()[key].IsScalar()) return std::vector<int64_t>(n, p.get<int64_t>(key, 0));
  auto v = p.get<std::vector<int64_t>>(key, fallback);
  if (v.size() != n)
    throw Error(p.context() + "." + key + ": expected " + std::to_string(n) + " values (one per entry of channels), got " +
                std::to_string(v.size()));
  return v;
}
}  // namespace

FGCNNImpl::FGCNNImpl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  if (!p.get<bool>("share_embedding", false))
    fg_embedding_ = register_module("fg_embedding", FeatureEmbedding(info, e));
  FeatureGeneratorOptions g;
  g.channels = p.get<std::vector<int64_t>>("channels", g.channels);
  const size_t n = g.channels.size();
  auto fill = [n](const std::vector<int64_t>& d) { return d.size() == n ? d : std::vector<int64_t>(n, d[0]); };
  g.kernel_heights = list_or_scalar(p, "kernel_heights", n, fill(g.kernel_heights));
  g.pooling_sizes = list_or_scalar(p, "pooling_sizes", n, fill(g.pooling_sizes));
  g.recombined_channels = list_or_scalar(p, "recombined_channels", n, fill(g.recombined_channels));
  g.activation = p.get<std::string>("conv_activation", g.activation);
  g.batch_norm = p.get<bool>("conv_batch_norm", g.batch_norm);
  generator_ = register_module("generator", FeatureGenerator(info.num_fields, e.dim, g));
  int64_t fields = info.num_fields + generator_->new_fields();
  product_ = register_module("product", InnerProduct(fields));
  mlp_ = register_module("mlp", Mlp(fields * e.dim + product_->num_pairs(), MlpOptions::from(p, "dnn", {256, 256, 256})));
  out_ = register_module("out", torch::nn::Linear(mlp_->output_dim(), 1));
}

torch::Tensor FGCNNImpl::representation(const torch::Tensor& ids) {
  auto emb = embedding_->forward(ids);
  auto generated = generator_->forward(fg_embedding_ ? fg_embedding_->forward(ids) : emb);
  auto all = torch::cat({emb, generated}, 1);  // [B, N', D]
  return mlp_->forward(torch::cat({all.flatten(1), product_->forward(all)}, 1));
}

torch::Tensor FGCNNImpl::logit(const torch::Tensor& repr) { return out_->forward(repr).squeeze(1); }

std::vector<torch::Tensor> FGCNNImpl::embedding_parameters() {
  if (fg_embedding_) return {embedding_->table->weight, fg_embedding_->table->weight};
  return {embedding_->table->weight};
}

}  // namespace clickprompt::ctr
