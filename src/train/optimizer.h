#pragma once
// Adam / AdamW over parameter groups, with two things torch::optim::Adam lacks:
//  * sparse (lazy) updates: a parameter whose gradient is sparse (embedding
//    tables) updates its moments and values only for the rows in the batch, as
//    TF's LazyAdam and torch.optim.SparseAdam do. A CTR batch touches a few
//    thousand of the table's rows; the dense update would sweep all of them.
//  * a fused CPU kernel: one pass over (param, grad, m, v) instead of eight
//    tensor ops, each a full pass over memory. Other devices use tensor ops.
// Gradient clipping by global norm is part of step() (after duplicate sparse
// rows are summed, so the norm is the true one).
#include <torch/torch.h>

#include <vector>

#include "train/task.h"

namespace clickprompt::train {

struct AdamConfig {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool decoupled_weight_decay = false;  // AdamW
};

class AdamOptimizer {
 public:
  AdamOptimizer(const std::vector<ParamGroup>& groups, AdamConfig cfg);
  void zero_grad();
  // Clips to `max_norm` (0 = off), then updates. Returns the gradient norm before clipping
  // (only computed when clipping). In a distributed run every rank's gradients
  // are first summed across ranks, each scaled by `share`: this rank's part of
  // the global batch (its rows / the global batch's rows), so the update is the
  // one a single process makes on the global batch.
  double step(double max_norm = 0.0, double share = 1.0);
  void set_lr(size_t group, double lr) { groups_.at(group).lr = lr; }
  double lr(size_t group) const { return groups_.at(group).lr; }
  size_t num_groups() const { return groups_.size(); }
  int64_t steps() const { return step_; }

  void save(torch::serialize::OutputArchive& a) const;
  void load(torch::serialize::InputArchive& a);

 private:
  struct Group {
    std::vector<torch::Tensor> params, m, v;
    double lr, weight_decay;
  };
  void update_dense(Group& g, torch::Tensor& p, torch::Tensor& m, torch::Tensor& v, const torch::Tensor& grad,
                    double scale);
  void update_sparse(Group& g, torch::Tensor& p, torch::Tensor& m, torch::Tensor& v, const torch::Tensor& grad,
                     double scale);
  std::vector<Group> groups_;
  AdamConfig cfg_;
  int64_t step_ = 0;
};

}  // namespace clickprompt::train
