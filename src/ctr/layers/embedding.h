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

// Pools the slots of multi-valued fields: [B,S,D] -> [B,F,D], each field the
// mean of its slots whose id is not the field's OOV id (all OOV: the OOV
// embedding). Single-valued fields pass through; inactive when there are none.
class SlotPooling {
 public:
  SlotPooling() = default;
  explicit SlotPooling(const FeatureInfo& info);
  bool active() const { return active_; }
  torch::Tensor operator()(const torch::Tensor& emb, const torch::Tensor& ids) const;

 private:
  bool active_ = false;
  torch::Tensor assign_;  // [S,F]: 1 where slot s belongs to field f
  torch::Tensor first_;   // [F,S]: 1 at each field's first slot
  torch::Tensor oov_;     // [S]: the OOV id of each slot's field
};

struct FeatureEmbeddingImpl : torch::nn::Module {
  // opt.sparse: the table's gradient is sparse (only the batch's rows; see train/optimizer.h).
  FeatureEmbeddingImpl(const FeatureInfo& info, const EmbeddingOptions& opt);
  // ids [B,S] (S slots; S = F without multi-valued fields) -> [B,F,dim]
  torch::Tensor forward(const torch::Tensor& ids);
  torch::nn::Embedding table{nullptr};
  int64_t dim;
  SlotPooling pool;
};
TORCH_MODULE(FeatureEmbedding);

// sum_f w[id_f] : [B,S] -> [B]  (the first-order part of LR/FM/DeepFM; slots pooled per field)
struct LinearTermImpl : torch::nn::Module {
  explicit LinearTermImpl(const FeatureInfo& info, bool sparse = true);
  torch::Tensor forward(const torch::Tensor& ids);
  torch::nn::Embedding weights{nullptr};
  SlotPooling pool;
};
TORCH_MODULE(LinearTerm);


}  // namespace clickprompt::ctr
