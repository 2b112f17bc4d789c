#pragma once
// Cross networks.
// CrossNetV2 (Wang et al., "DCN V2", WWW 2021), eq. (1):
//   x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l          (full rank, W_l in R^{d x d})
// with low_rank r > 0 the matrix is factored W_l = U_l V_l^T (eq. 2, one expert).
// CrossNetV1 (Wang et al., "Deep & Cross Network for Ad Click Predictions",
// ADKDD 2017), eq. (3):
//   x_{l+1} = x_0 x_l^T w_l + b_l + x_l             (rank one, w_l, b_l in R^d)
// computed without the d x d outer product as x_0 * <x_l, w_l> + b_l + x_l.
#include <torch/torch.h>

namespace clickprompt::ctr {

struct CrossNetV2Impl : torch::nn::Module {
  CrossNetV2Impl(int64_t input_dim, int64_t num_layers, int64_t low_rank = 0);
  torch::Tensor forward(const torch::Tensor& x0);
  torch::nn::ModuleList layers{nullptr};    // full rank: Linear(d, d)
  torch::nn::ModuleList v_layers{nullptr};  // low rank: V^T (d -> r)
  int64_t low_rank;
};
TORCH_MODULE(CrossNetV2);

struct CrossNetV1Impl : torch::nn::Module {
  CrossNetV1Impl(int64_t input_dim, int64_t num_layers);
  // [B,d] -> [B,d]
  torch::Tensor forward(const torch::Tensor& x0);
  torch::Tensor weight;  // [L, d]: row l is w_l (xavier-normal init)
  torch::Tensor bias;    // [L, d]: row l is b_l (zero init)
  int64_t num_layers;
};
TORCH_MODULE(CrossNetV1);

}  // namespace clickprompt::ctr
