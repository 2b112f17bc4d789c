#pragma once
// ClickPrompt's prompt generator (Sec. 3.3 of the paper): the CTR model's
// representation q [B, D] becomes K soft prompts for the PLM, either as key and
// value vectors for each of the L layers (layer-wise prefix fusion, the default:
// [B, L, 2, K, d], what plm::PrefixKV::from_layerwise takes) or as K vectors
// prepended to the input embeddings (the input-layer variant: [B, K, d]).
//
//   shared (the reference code's default): one two-layer MLP for all prompts,
//     P = W2 tanh(W1 q + b1) + b2, hidden width = PLM width, output K*L*2*d.
//   per_prompt (g_{l,k} of the paper): a separate two-layer MLP for every layer
//     l and prompt k, each producing that prompt's key and value; run as two
//     batched matmuls over the L*K generators.
#include <torch/torch.h>

#include <string>

namespace clickprompt::cp {

enum class Fusion {
  Layerwise,  // prefix keys/values in every layer
  Input,      // prompt vectors prepended at the input layer only
  None        // no prompts (ablation: PLM and CTR fused at the output only)
};
Fusion parse_fusion(const std::string& name);  // layerwise | input | none
std::string fusion_name(Fusion f);

struct PromptOptions {
  int64_t num_prompts = 5;         // K
  Fusion fusion = Fusion::Layerwise;
  std::string generator = "shared";  // shared | per_prompt
  int64_t hidden = 0;              // generator hidden width; 0 = the PLM width
};

struct PromptGeneratorImpl : torch::nn::Module {
  // in_dim: the CTR representation width; layers/width: the PLM's.
  PromptGeneratorImpl(int64_t in_dim, int64_t layers, int64_t width, const PromptOptions& opt);
  // Layer-wise: [B, L, 2, K, d]; input: [B, K, d]. Throws for Fusion::None.
  torch::Tensor forward(const torch::Tensor& q);
  // Prompt vectors the generator makes per sample (L*2*K or K) and their width.
  int64_t slots() const { return slots_; }

  PromptOptions opt_;
  int64_t layers_, width_, hidden_, slots_;
  bool per_prompt_;
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};  // shared
  torch::Tensor w1_, b1_, w2_, b2_;                 // per_prompt: [G, D, h], [G, 1, h], [G, h, o], [G, 1, o]
};
TORCH_MODULE(PromptGenerator);

}  // namespace clickprompt::cp
