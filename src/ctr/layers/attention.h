#pragma once
// Multi-head self-attention over field embeddings (Song et al., "AutoInt:
// Automatic Feature Interaction Learning via Self-Attentive Neural Networks",
// CIKM 2019, Sec. 4.3):
//   α^{(h)}_{m,k} = softmax_k( <W_Q^{(h)} e_m, W_K^{(h)} e_k> )                 (eq. 5, 6)
//   ẽ^{(h)}_m     = sum_k α^{(h)}_{m,k} W_V^{(h)} e_k                            (eq. 7)
//   e^{Res}_m     = ReLU( ẽ^{(1)}_m ⊕ ... ⊕ ẽ^{(H)}_m  +  W_Res e_m )           (eq. 8, 9)
// use_scale divides the scores by sqrt(attention_dim) (Transformer style, off in the paper);
// use_residual = false drops the W_Res term (ReLU is kept, as in FuxiCTR).
// W_Q, W_K, W_V (and W_Res) are stacked in one weight so the projections are one GEMM;
// all heads run in one batched matmul.
#include <torch/torch.h>

namespace clickprompt::ctr {

struct MultiHeadSelfAttentionImpl : torch::nn::Module {
  MultiHeadSelfAttentionImpl(int64_t input_dim, int64_t attention_dim, int64_t num_heads, bool use_residual = true,
                             bool use_scale = false);
  // [B,F,input_dim] -> [B,F,num_heads*attention_dim]
  torch::Tensor forward(const torch::Tensor& x);
  int64_t output_dim() const { return attention_dim * num_heads; }

  // Rows [0,HA) = W_Q, [HA,2HA) = W_K, [2HA,3HA) = W_V, [3HA,4HA) = W_Res (if residual);
  // head h uses rows h*A..(h+1)*A-1 of each block. Shape [(3|4)*H*A, input_dim].
  torch::Tensor weight;
  int64_t input_dim, attention_dim, num_heads;
  bool use_residual, use_scale;
};
TORCH_MODULE(MultiHeadSelfAttention);

}  // namespace clickprompt::ctr
