#include "ctr/layers/conv.h"

#include "core/error.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

FeatureGeneratorImpl::FeatureGeneratorImpl(int64_t F, int64_t D, const FeatureGeneratorOptions& opt)
    : pooling_sizes_(opt.pooling_sizes), dim_(D) {
  const size_t n = opt.channels.size();
  if (opt.kernel_heights.size() != n || opt.pooling_sizes.size() != n || opt.recombined_channels.size() != n)
    throw Error("FGCNN: channels, kernel_heights, pooling_sizes and recombined_channels need the same length (got " +
                std::to_string(n) + ", " + std::to_string(opt.kernel_heights.size()) + ", " +
                std::to_string(opt.pooling_sizes.size()) + ", " + std::to_string(opt.recombined_channels.size()) + ")");
  activation_ = make_activation(opt.activation);
  register_module("activation", activation_.ptr());
  convs = register_module("convs", torch::nn::ModuleList());
  norms = register_module("norms", torch::nn::ModuleList());
  recombines = register_module("recombines", torch::nn::ModuleList());
  int64_t in_c = 1, height = F;
  for (size_t i = 0; i < n; ++i) {
    int64_t c = opt.channels[i], k = opt.kernel_heights[i], p = opt.pooling_sizes[i], rc = opt.recombined_channels[i];
    std::string where = "FGCNN layer " + std::to_string(i + 1) + ": ";
    if (c <= 0 || rc <= 0 || p <= 0) throw Error(where + "channels, recombined_channels and pooling_sizes must be positive");
    if (k <= 0 || k % 2 == 0) throw Error(where + "kernel_heights must be odd and positive, got " + std::to_string(k));
    convs->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in_c, c, {k, 1}).padding({(k - 1) / 2, 0})));
    if (opt.batch_norm) norms->push_back(torch::nn::BatchNorm2d(c));
    height = (height + p - 1) / p;
    recombines->push_back(torch::nn::Linear(height * D * c, height * D * rc));
    new_fields_ += height * rc;
    in_c = c;
  }
}

torch::Tensor FeatureGeneratorImpl::forward(const torch::Tensor& emb) {
  const int64_t B = emb.size(0);
  auto x = emb.unsqueeze(1);  // [B,1,F,D]
  std::vector<torch::Tensor> generated;
  for (size_t i = 0; i < convs->size(); ++i) {
    x = convs[i]->as<torch::nn::Conv2d>()->forward(x);
    if (!norms->is_empty()) x = norms[i]->as<torch::nn::BatchNorm2d>()->forward(x);
    x = activation_.forward(x);
    const int64_t p = pooling_sizes_[i];
    if (p > 1) {  // max pooling over p rows, ceil mode: elementwise maximum of the p row slices
      const int64_t H = x.size(2), hp = (H + p - 1) / p;
      if (hp * p != H) x = torch::constant_pad_nd(x, {0, 0, 0, hp * p - H}, -std::numeric_limits<double>::infinity());
      auto rows = x.view({B, x.size(1), hp, p, dim_});
      torch::Tensor pooled = rows.select(3, 0);
      for (int64_t t = 1; t < p; ++t) pooled = torch::maximum(pooled, rows.select(3, t));
      x = pooled;
    }
    auto r = activation_.forward(recombines[i]->as<torch::nn::Linear>()->forward(x.flatten(1)));
    generated.push_back(r.view({B, -1, dim_}));
  }
  if (generated.empty()) return emb.new_zeros({B, 0, dim_});
  return torch::cat(generated, 1);
}

}  // namespace clickprompt::ctr
