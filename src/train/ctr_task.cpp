#include "train/ctr_task.h"

#include <set>

#include "core/precision.h"

namespace clickprompt::train {

CtrTask::CtrTask(ctr::CtrModelPtr model, const core::Params& t) : model_(std::move(model)) {
  lr_ = t.get_number("lr", 1e-3, core::Params::Range::positive);
  embedding_lr_ = t.get_number("embedding_lr", lr_, core::Params::Range::positive);
  weight_decay_ = t.get_number("weight_decay", 0.0, core::Params::Range::non_negative);
  embedding_reg_ = t.get_number("embedding_regularizer", 0.0, core::Params::Range::non_negative);
  precision_ = core::parse_precision(t.get<std::string>("precision", "fp32"));
}

torch::Tensor CtrTask::logit(const torch::Tensor& ids) {
  core::AutocastGuard autocast(precision_, ids.device());
  return model_->forward(ids).to(torch::kFloat32);
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
  auto loss = torch::binary_cross_entropy_with_logits(logit(b.ids), b.labels);
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

torch::Tensor CtrTask::predict(const Batch& b) { return torch::sigmoid(logit(b.ids)); }

}  // namespace clickprompt::train
