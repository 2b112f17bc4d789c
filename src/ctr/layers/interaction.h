#pragma once
// Pairwise feature interactions shared by FM-style and product-based models.
#include <torch/torch.h>

namespace clickprompt::ctr {

// FM second-order term as a vector (Rendle 2010, eq. 5; He & Chua's
// bi-interaction pooling): 0.5 * ((sum_i e_i)^2 - sum_i e_i^2), [B,F,D] -> [B,D].
// Summing it over D gives sum_{i<j} <e_i, e_j>.
torch::Tensor bi_interaction(const torch::Tensor& emb);

// Inner products of all field pairs (Qu et al., "Product-based Neural Networks
// for User Response Prediction", ICDM 2016, the IPNN product layer p_{ij} = <f_i, f_j>):
//   [B,F,D] -> [B, F(F-1)/2], pairs (i<j) in row-major order (0,1), (0,2), ..., (F-2,F-1).
// Computed as one batched Gram matrix E E^T followed by a gather of its strict
// upper triangle through a precomputed index buffer (moves with .to(device)).
struct InnerProductImpl : torch::nn::Module {
  explicit InnerProductImpl(int64_t num_fields);
  torch::Tensor forward(const torch::Tensor& emb);
  int64_t num_pairs() const { return num_fields * (num_fields - 1) / 2; }
  int64_t num_fields;
  torch::Tensor pair_index;  // [P] flat indices i*F+j into the F x F Gram matrix
};
TORCH_MODULE(InnerProduct);

}  // namespace clickprompt::ctr
