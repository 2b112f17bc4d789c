#pragma once
// One embedding table shared by all fields (ids carry global offsets), plus an
// optional scalar-per-feature table for first-order (linear) terms.
#include <torch/torch.h>

#include "core/params.h"
#include "ctr/feature_info.h"

namespace clickprompt::ctr {

// Reads the embedding keys shared by every model: embedding_dim,
// embedding_init_std, sparse_embedding (sparse gradients, lazy Adam rows).
struct EmbeddingOptions {
  int64_t dim;
  double init_std;
  bool sparse;
  static EmbeddingOptions from(const core::Params& p);
};

struct FeatureEmbeddingImpl : torch::nn::Module {
  // opt.sparse: the table's gradient is sparse (only the batch's rows; see train/optimizer.h).
  FeatureEmbeddingImpl(const FeatureInfo& info, const EmbeddingOptions& opt);
  // ids [B,F] -> [B,F,dim]
  torch::Tensor forward(const torch::Tensor& ids);
  torch::nn::Embedding table{nullptr};
  int64_t dim;
};
TORCH_MODULE(FeatureEmbedding);

// sum_f w[id_f] : [B,F] -> [B]  (the first-order part of LR/FM/DeepFM)
struct LinearTermImpl : torch::nn::Module {
  explicit LinearTermImpl(const FeatureInfo& info, bool sparse = true);
  torch::Tensor forward(const torch::Tensor& ids);
  torch::nn::Embedding weights{nullptr};
};
TORCH_MODULE(LinearTerm);


}  // namespace clickprompt::ctr
