#include "ctr/layers/cin.h"

#include "core/error.h"
#include "ctr/layers/mlp.h"

namespace clickprompt::ctr {

CinImpl::CinImpl(int64_t m, std::vector<int64_t> sizes, bool split_half, const std::string& activation, bool bias)
    : sizes_(std::move(sizes)), num_fields_(m), split_half_(split_half) {
  if (m < 1) throw Error("CIN: need at least one field");
  activation_ = make_activation(activation);
  register_module("activation", activation_.ptr());
  int64_t prev = m;
  for (size_t k = 0; k < sizes_.size(); ++k) {
    int64_t h = sizes_[k];
    if (h <= 0) throw Error("cin_hidden_units: every layer needs a positive size, got " + std::to_string(h));
    bool last = k + 1 == sizes_.size();
    if (split_half_ && !last && h % 2 != 0)
      throw Error("cin_hidden_units: with cin_split_half every layer but the last needs an even size, layer " +
                  std::to_string(k + 1) + " has " + std::to_string(h));
    // Xavier-normal, as for a 1x1 convolution with m*prev inputs and h outputs.
    double std = std::sqrt(2.0 / double(m * prev + h));
    weights.push_back(register_parameter("weight_" + std::to_string(k), torch::randn({h, m * prev}) * std));
    if (bias) biases.push_back(register_parameter("bias_" + std::to_string(k), torch::zeros({h})));
    else biases.emplace_back();
    int64_t next = (split_half_ && !last) ? h / 2 : h;
    next_sizes_.push_back(next);
    output_dim_ += (split_half_ && !last) ? h - next : h;
    prev = next;
  }
}

torch::Tensor CinImpl::forward(const torch::Tensor& x0_in) {
  if (x0_in.dim() != 3 || x0_in.size(1) != num_fields_)
    throw Error("CIN: expected [B," + std::to_string(num_fields_) + ",D], got " + c10::str(x0_in.sizes()));
  const int64_t B = x0_in.size(0), D = x0_in.size(2), m = num_fields_;
  auto x0t = x0_in.transpose(1, 2).contiguous();  // [B,D,m] (contiguous: fast broadcasting below)
  auto x0 = x0t.unsqueeze(3);                      // [B,D,m,1]
  torch::Tensor xk = x0t;                          // [B,D,H_{k-1}]
  std::vector<torch::Tensor> pooled;
  for (size_t k = 0; k < sizes_.size(); ++k) {
    int64_t hp = xk.size(2);
    auto z = (x0 * xk.unsqueeze(2)).reshape({B * D, m * hp});  // [B*D, m*H_{k-1}], index j*H+i
    auto out = torch::linear(z, weights[k], biases[k]).view({B, D, sizes_[k]});
    out = activation_.forward(out);
    bool last = k + 1 == sizes_.size();
    if (split_half_ && !last) {
      int64_t n = next_sizes_[k];
      xk = out.narrow(2, 0, n).contiguous();
      pooled.push_back(out.narrow(2, n, sizes_[k] - n).sum(1));
    } else {
      xk = out;
      pooled.push_back(out.sum(1));
    }
  }
  if (pooled.empty()) return torch::zeros({B, 0}, x0_in.options());
  return torch::cat(pooled, 1);
}

}  // namespace clickprompt::ctr
