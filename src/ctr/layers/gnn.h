#pragma once
// Field graph neural network pieces (Li et al., "Fi-GNN: Modeling Feature
// Interactions via Graph Neural Networks for CTR Prediction", CIKM 2019, Sec. 4).
// Nodes are the F fields, the graph is complete without self-loops.
//   edge weights  A[i,j] = softmax_{j≠i}( LeakyReLU( w^T [e_i ‖ e_j] ) )            (eq. 5, 6)
//   aggregation   a_i^t  = W_in^i  sum_j A[i,j] W_out^j h_j^{t-1} + b_p             (eq. 7, 8)
//   state update  h_i^t  = GRU(h_i^{t-1}, a_i^t)  (one GRU shared by all nodes)     (eq. 9)
//   residual      h_i^t += e_i                                                       (eq. 10)
// Attentional scoring (Sec. 4.5), the model's output layer:
//   ŷ_i = MLP_1(h_i^T)  (D -> 1),  a_i = sigmoid(MLP_2(h_1^T ‖ ... ‖ h_F^T))_i,  ŷ = sum_i a_i ŷ_i
// The edge weights are computed once from the input embeddings (as in the paper
// and FuxiCTR); w^T [e_i ‖ e_j] = w_s^T e_i + w_d^T e_j, so no F^2 pair tensor is formed.
// The per-field matrices W_in^i / W_out^j are applied with one bmm over fields
// ([F,B,D] x [F,D,D]).
#include <torch/torch.h>

#include <vector>

namespace clickprompt::ctr {

struct FieldGraphImpl : torch::nn::Module {
  FieldGraphImpl(int64_t num_fields, int64_t dim, int64_t gnn_layers, bool use_gru = true, bool use_residual = true,
                 bool reuse_graph_layer = false);
  // [B,F,D] -> final node states [B,F,D]
  torch::Tensor forward(const torch::Tensor& emb);
  // [B,F,D] -> adjacency A [B,F,F] (rows sum to 1, zero diagonal)
  torch::Tensor attention_graph(const torch::Tensor& emb);
  // One propagation (eq. 7-8) with graph layer `layer`: h [B,F,D] -> a [B,F,D]
  torch::Tensor aggregate(const torch::Tensor& graph, const torch::Tensor& h, int64_t layer);

  torch::Tensor attn_src, attn_dst;       // [D] each: the two halves of w
  std::vector<torch::Tensor> w_in, w_out;  // per graph layer: [F,D,D]
  std::vector<torch::Tensor> bias;         // per graph layer: [D]
  torch::nn::GRUCell gru{nullptr};
  // Applies the per-field matrices W (stored transposed, [F,D,D]) to h [B,F,D].
  torch::Tensor per_field(const torch::Tensor& h, const torch::Tensor& w_t);
  torch::Tensor self_mask;  // [F,F] bool buffer, true on the diagonal (no self-loops)
  int64_t num_fields, dim, gnn_layers;
  bool use_gru, use_residual, reuse_graph_layer;
};
TORCH_MODULE(FieldGraph);

struct AttentionalScoringImpl : torch::nn::Module {
  AttentionalScoringImpl(int64_t num_fields, int64_t dim);
  // h flattened [B, F*D] -> logit [B]
  torch::Tensor forward(const torch::Tensor& h_flat);
  torch::nn::Linear score{nullptr};   // MLP_1: D -> 1, no bias
  torch::nn::Linear weight{nullptr};  // MLP_2: F*D -> F, no bias
  int64_t num_fields, dim;
};
TORCH_MODULE(AttentionalScoring);

}  // namespace clickprompt::ctr
