#include "ctr/models/fignn.h"

namespace clickprompt::ctr {

FiGNNImpl::FiGNNImpl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  graph_ = register_module("graph", FieldGraph(info.num_fields, e.dim, p.get<int64_t>("gnn_layers", 3),
                                               p.get<bool>("use_gru", true), p.get<bool>("use_residual", true),
                                               p.get<bool>("reuse_graph_layer", false)));
  scoring_ = register_module("scoring", AttentionalScoring(info.num_fields, e.dim));
  repr_dim_ = info.num_fields * e.dim;
}

torch::Tensor FiGNNImpl::representation(const torch::Tensor& ids) {
  return graph_->forward(embedding_->forward(ids)).flatten(1);
}

torch::Tensor FiGNNImpl::logit(const torch::Tensor& repr) { return scoring_->forward(repr); }

}  // namespace clickprompt::ctr
