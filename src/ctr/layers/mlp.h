#pragma once
// Multi-layer perceptron: [Linear -> (BatchNorm) -> activation -> (Dropout)] per hidden layer.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/params.h"

namespace clickprompt::ctr {

struct MlpOptions {
  std::vector<int64_t> hidden_units;
  std::string activation = "relu";  // relu | tanh | sigmoid | leaky_relu | gelu | linear
  double dropout = 0.0;
  bool batch_norm = false;
  // Reads `<prefix>_hidden_units`, `<prefix>_activation`, `net_dropout`, `batch_norm`.
  static MlpOptions from(const core::Params& p, const std::string& prefix = "dnn",
                         std::vector<int64_t> default_units = {256, 256, 256});
};

struct MlpImpl : torch::nn::Module {
  MlpImpl(int64_t input_dim, const MlpOptions& opt);
  torch::Tensor forward(torch::Tensor x);
  int64_t output_dim() const { return output_dim_; }

 private:
  torch::nn::Sequential net_{nullptr};
  int64_t output_dim_;
};
TORCH_MODULE(Mlp);

// Returns an activation module by name; throws Error (with suggestion) if unknown.
torch::nn::AnyModule make_activation(const std::string& name);

}  // namespace clickprompt::ctr
