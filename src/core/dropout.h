#pragma once
// Dropout for every model (PLM encoder, CTR MLP towers): torch::dropout's
// semantics (zero each element with probability p, scale the rest by
// 1 / (1 - p), identity in eval mode), with a faster mask on the CPU.
//
// LibTorch's CPU dropout draws one Mersenne-Twister number per element in a
// serial loop (bernoulli_ without MKL): perf put at::CPUGeneratorImpl::random64
// alone at 4.6% of a fine-tuning step with the PLM. Here the mask comes from a
// counter-based hash (splitmix64 of a per-call seed and the element's block
// index: one 64-bit hash gives four 16-bit draws), filled in parallel, so it is
// the same for any thread count. The per-call seed is one draw from LibTorch's
// default CPU generator, so torch::manual_seed still makes runs reproducible.
// p is rounded to a multiple of 2^-16 (0.1 -> 0.100006); the scale uses the
// rounded p, so the output stays unbiased up to the rounding of the scale in
// bf16/half (as LibTorch's). Other devices use torch::dropout.
#include <torch/torch.h>

namespace clickprompt::core {

torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

// Drop-in for torch::nn::Dropout (no parameters, so checkpoints are unchanged).
struct DropoutImpl : torch::nn::Module {
  explicit DropoutImpl(double p);
  torch::Tensor forward(const torch::Tensor& x);
  double p;
};
TORCH_MODULE(Dropout);

}  // namespace clickprompt::core
