#include "ctr/layers/attention.h"

#include "core/error.h"

namespace clickprompt::ctr {

MultiHeadSelfAttentionImpl::MultiHeadSelfAttentionImpl(int64_t in, int64_t a, int64_t h, bool residual, bool scale)
    : input_dim(in), attention_dim(a), num_heads(h), use_residual(residual), use_scale(scale) {
  if (in <= 0) throw Error("self-attention: input dimension must be positive");
  if (a <= 0) throw Error("attention_dim must be positive, got " + std::to_string(a));
  if (h <= 0) throw Error("num_heads must be positive, got " + std::to_string(h));
  int64_t blocks = use_residual ? 4 : 3;
  // Same bound as torch::nn::Linear's default (kaiming-uniform, a = sqrt(5)): 1/sqrt(fan_in).
  double bound = 1.0 / std::sqrt(double(in));
  weight = register_parameter("weight", torch::empty({blocks * h * a, in}).uniform_(-bound, bound));
}

torch::Tensor MultiHeadSelfAttentionImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 3 || x.size(2) != input_dim)
    throw Error("self-attention: expected [B,F," + std::to_string(input_dim) + "], got " + c10::str(x.sizes()));
  const int64_t B = x.size(0), F = x.size(1), H = num_heads, A = attention_dim, HA = H * A;
  auto proj = torch::linear(x, weight).split(HA, 2);  // Q, K, V (, Res): [B,F,HA] each
  auto heads = [&](const torch::Tensor& t) {                // -> [B*H, F, A]
    return t.view({B, F, H, A}).transpose(1, 2).reshape({B * H, F, A});
  };
  auto q = heads(proj[0]), k = heads(proj[1]), v = heads(proj[2]);
  auto scores = torch::bmm(q, k.transpose(1, 2));  // [B*H,F,F]: <W_Q e_m, W_K e_k>
  if (use_scale) scores = scores / std::sqrt(double(A));
  auto out = torch::bmm(torch::softmax(scores, -1), v);              // [B*H,F,A]
  out = out.view({B, H, F, A}).transpose(1, 2).reshape({B, F, HA});  // heads concatenated per field
  if (use_residual) out = out + proj[3];
  return torch::relu(out);
}

}  // namespace clickprompt::ctr
