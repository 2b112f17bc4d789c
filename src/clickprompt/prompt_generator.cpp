#include "clickprompt/prompt_generator.h"

#include <cmath>

#include "core/error.h"
#include "core/strings.h"

namespace clickprompt::cp {

Fusion parse_fusion(const std::string& name) {
  if (name == "layerwise") return Fusion::Layerwise;
  if (name == "input") return Fusion::Input;
  if (name == "none") return Fusion::None;
  throw Error("unknown prompt fusion '" + name + "' (expected layerwise, input or none)" +
              core::suggest(name, {"layerwise", "input", "none"}));
}

std::string fusion_name(Fusion f) {
  switch (f) {
    case Fusion::Layerwise: return "layerwise";
    case Fusion::Input: return "input";
    default: return "none";
  }
}

PromptGeneratorImpl::PromptGeneratorImpl(int64_t in_dim, int64_t layers, int64_t width, const PromptOptions& opt)
    : opt_(opt), layers_(layers), width_(width), hidden_(opt.hidden > 0 ? opt.hidden : width) {
  if (opt.fusion == Fusion::None) throw Error("prompt generator: fusion 'none' has no prompts to generate");
  if (opt.num_prompts <= 0) throw Error("prompt generator: num_prompts must be positive, got " + std::to_string(opt.num_prompts));
  if (opt.generator != "shared" && opt.generator != "per_prompt")
    throw Error("unknown prompt generator '" + opt.generator + "' (expected shared or per_prompt)" +
                core::suggest(opt.generator, {"shared", "per_prompt"}));
  per_prompt_ = opt.generator == "per_prompt";
  const bool layerwise = opt.fusion == Fusion::Layerwise;
  slots_ = layerwise ? layers * 2 * opt.num_prompts : opt.num_prompts;
  if (!per_prompt_) {
    fc1_ = register_module("fc1", torch::nn::Linear(in_dim, hidden_));
    fc2_ = register_module("fc2", torch::nn::Linear(hidden_, slots_ * width));
  } else {
    // One generator per (layer, prompt) producing [key, value] (layer-wise) or one vector (input).
    const int64_t g = layerwise ? layers * opt.num_prompts : opt.num_prompts;
    const int64_t o = layerwise ? 2 * width : width;
    auto uniform = [](std::vector<int64_t> shape, int64_t fan_in) {
      double b = 1.0 / std::sqrt(static_cast<double>(fan_in));  // nn.Linear's default range
      return torch::empty(shape).uniform_(-b, b);
    };
    w1_ = register_parameter("w1", uniform({g, in_dim, hidden_}, in_dim));
    b1_ = register_parameter("b1", uniform({g, 1, hidden_}, in_dim));
    w2_ = register_parameter("w2", uniform({g, hidden_, o}, hidden_));
    b2_ = register_parameter("b2", uniform({g, 1, o}, hidden_));
  }
}

torch::Tensor PromptGeneratorImpl::forward(const torch::Tensor& q) {
  const int64_t B = q.size(0), K = opt_.num_prompts;
  const bool layerwise = opt_.fusion == Fusion::Layerwise;
  if (!per_prompt_) {
    auto p = fc2_->forward(torch::tanh(fc1_->forward(q)));
    return layerwise ? p.view({B, layers_, 2, K, width_}) : p.view({B, K, width_});
  }
  // [G, B, h] = tanh(q W1_g + b1_g); [G, B, o] = h W2_g + b2_g.
  auto h = torch::tanh(torch::matmul(q.unsqueeze(0), w1_) + b1_);
  auto p = torch::baddbmm(b2_, h, w2_);
  if (!layerwise) return p.transpose(0, 1);  // [B, K, d]
  // g = l*K + k, o = [key | value] -> [B, L, 2, K, d]
  return p.view({layers_, K, B, 2, width_}).permute({2, 0, 3, 1, 4});
}

}  // namespace clickprompt::cp
