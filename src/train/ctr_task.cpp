#include "train/ctr_task.h"

#include <set>

namespace clickprompt::train {

CtrTask::CtrTask(ctr::CtrModelPtr model, const core::Params& t) : model_(std::move(model)) {
  lr_ = t.get<double>("lr", 1e-3);
  embedding_lr_ = t.get<double>("embedding_lr", lr_);
  weight_decay_ = t.get<double>("weight_decay", 0.0);
  embedding_reg_ = t.get<double>("embedding_regularizer", 0.0);
}

std::vector<ParamGroup> CtrTask::param_groups() {
  ParamGroup emb{"embedding", model_->embedding_parameters(), embedding_lr_, 0.0};
  std::set<const void*> in_emb;
  for (const auto& p : emb.params) in_emb.insert(p.unsafeGetTensorImpl());
  ParamGroup dense{"dense", {}, lr_, weight_decay_};
  for (const auto& p : model_->parameters())
    if (!in_emb.count(p.unsafeGetTensorImpl())) dense.params.push_back(p);
  return {emb, dense};
}

torch::Tensor CtrTask::loss(const Batch& b) {
  auto logit = model_->forward(b.ids);
  auto loss = torch::binary_cross_entropy_with_logits(logit, b.labels);
  if (embedding_reg_ > 0) {
    // L2 on the embedding rows used by this batch (FuxiCTR's embedding_regularizer).
    for (const auto& table : model_->embedding_parameters()) {
      // Through a sparse lookup, so the table's gradient stays sparse.
      auto rows = torch::nn::functional::embedding(
          b.ids, table, torch::nn::functional::EmbeddingFuncOptions().sparse(true));
      loss = loss + embedding_reg_ * rows.pow(2).sum() / b.ids.size(0);
    }
  }
  return loss;
}

torch::Tensor CtrTask::predict(const Batch& b) { return torch::sigmoid(model_->forward(b.ids)); }

}  // namespace clickprompt::train
