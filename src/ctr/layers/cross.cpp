#include "ctr/layers/cross.h"

#include "core/error.h"
#include "core/precision.h"

namespace clickprompt::ctr {

CrossNetV2Impl::CrossNetV2Impl(int64_t d, int64_t num_layers, int64_t low_rank_) : low_rank(low_rank_) {
  if (num_layers < 0) throw Error("num_cross_layers must be >= 0");
  layers = register_module("layers", torch::nn::ModuleList());
  v_layers = register_module("v_layers", torch::nn::ModuleList());
  for (int64_t l = 0; l < num_layers; ++l) {
    if (low_rank > 0) {
      v_layers->push_back(torch::nn::Linear(torch::nn::LinearOptions(d, low_rank).bias(false)));
      layers->push_back(torch::nn::Linear(low_rank, d));
    } else {
      layers->push_back(torch::nn::Linear(d, d));
    }
  }
}

torch::Tensor CrossNetV2Impl::forward(const torch::Tensor& input) {
  // Under autocast every layer runs in its dtype: without this cast, x0 * h + x would
  // promote to float32 and each next linear layer cast back (forward and backward).
  torch::Tensor x0 = core::to_autocast_dtype(input);
  torch::Tensor x = x0;
  for (size_t l = 0; l < layers->size(); ++l) {
    torch::Tensor h = low_rank > 0 ? v_layers[l]->as<torch::nn::Linear>()->forward(x) : x;
    h = layers[l]->as<torch::nn::Linear>()->forward(h);
    x = torch::addcmul(x, x0, h);  // x0 * h + x
  }
  return x;
}

}  // namespace clickprompt::ctr

namespace clickprompt::ctr {

CrossNetV1Impl::CrossNetV1Impl(int64_t d, int64_t num_layers_) : num_layers(num_layers_) {
  if (num_layers < 0) throw Error("num_cross_layers must be >= 0, got " + std::to_string(num_layers));
  if (d <= 0) throw Error("cross network: input dimension must be positive");
  // Each w_l is a d x 1 matrix: xavier-normal std = sqrt(2 / (d + 1)).
  weight = register_parameter("weight", torch::randn({num_layers, d}) * std::sqrt(2.0 / double(d + 1)));
  bias = register_parameter("bias", torch::zeros({num_layers, d}));
}

torch::Tensor CrossNetV1Impl::forward(const torch::Tensor& x0) {
  torch::Tensor x = x0;
  for (int64_t l = 0; l < num_layers; ++l) {
    auto s = torch::mv(x, weight[l]).unsqueeze(1);  // x_l^T w_l, [B,1]
    x = torch::addcmul(x + bias[l], x0, s);          // x0 * s + b_l + x_l
  }
  return x;
}

}  // namespace clickprompt::ctr
