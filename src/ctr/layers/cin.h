#pragma once
// Compressed Interaction Network (Lian et al., "xDeepFM: Combining Explicit and
// Implicit Feature Interactions for Recommender Systems", KDD 2018, Sec. 3.2):
//   X^k_{h,*} = sum_{i=1..H_{k-1}} sum_{j=1..m} W^{k,h}_{ij} (X^{k-1}_{i,*} ∘ X^0_{j,*})   (eq. 6)
//   p^k_h = sum_{d=1..D} X^k_{h,d}   (sum pooling, eq. 7),   p+ = [p^1, ..., p^T]      (eq. 8)
// Connections: "direct" feeds all H_k maps of layer k both to the next layer and
// to the output; "split_half" (paper Sec. 3.2 / DeepCTR default) feeds half of
// each hidden layer's maps onward and sends the other half to the output (the
// last layer sends all). Optional per-map bias and activation (FuxiCTR/DeepCTR
// use a bias; the paper's eq. 6 is linear: activation "linear").
//
// Implementation: tensors kept as [B, D, H] so one layer is a single GEMM
//   Z = X^0 ⊗ X^{k-1} as [B*D, m*H_{k-1}],   X^k = Z W_k^T + b_k.
#include <torch/torch.h>

#include <string>
#include <vector>

namespace clickprompt::ctr {

struct CinImpl : torch::nn::Module {
  CinImpl(int64_t num_fields, std::vector<int64_t> layer_sizes, bool split_half = true,
          const std::string& activation = "linear", bool bias = true);
  // [B, m, D] -> p+ [B, output_dim()]
  torch::Tensor forward(const torch::Tensor& x0);
  int64_t output_dim() const { return output_dim_; }

  std::vector<torch::Tensor> weights;  // layer k: [H_k, m * H_{k-1}] (index j*H_{k-1} + i pairs X0_j with X^{k-1}_i)
  std::vector<torch::Tensor> biases;   // layer k: [H_k] (undefined when bias = false)

 private:
  std::vector<int64_t> sizes_;
  std::vector<int64_t> next_sizes_;  // maps fed to the next layer
  int64_t num_fields_;
  bool split_half_;
  torch::nn::AnyModule activation_;
  int64_t output_dim_ = 0;
};
TORCH_MODULE(Cin);

}  // namespace clickprompt::ctr
