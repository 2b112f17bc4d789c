#pragma once
// Convolutional feature generation (Liu et al., "Feature Generation by
// Convolutional Neural Network for Click-Through Rate Prediction", WWW 2019, Sec. 3.2).
// Input: the field embeddings as a one-channel image E [B,1,F,D]. Layer i:
//   C^i = tanh( Conv_{(h_i x 1)}(S^{i-1}) )          (eq. 1: convolution along the field axis, per embedding column)
//   S^i = MaxPool_{(p_i x 1)}(C^i)                    (eq. 2; ceil mode: height ceil(H_{i-1}/p_i))
//   R^i = tanh( W^i flatten(S^i) + B^i )              (eq. 3: recombination into H_i * rc_i new features of size D)
// The generated features R^1 ... R^n are concatenated along the field axis. The
// convolution keeps the height ("same" padding), so kernel heights must be odd.
// Optional BatchNorm2d after the convolution (FuxiCTR's conv_batch_norm).
// flatten(S^i) is taken in (channel, row, column) order. (A channel-last
// unfold + GEMM variant was measured slower than LibTorch's MKLDNN Conv2d here.)
#include <torch/torch.h>

#include <string>
#include <vector>

namespace clickprompt::ctr {

struct FeatureGeneratorOptions {
  std::vector<int64_t> channels{14, 16, 18, 20};
  std::vector<int64_t> kernel_heights{7, 7, 7, 7};
  std::vector<int64_t> pooling_sizes{2, 2, 2, 2};
  std::vector<int64_t> recombined_channels{2, 2, 2, 2};
  std::string activation = "tanh";
  bool batch_norm = true;
};

struct FeatureGeneratorImpl : torch::nn::Module {
  FeatureGeneratorImpl(int64_t num_fields, int64_t dim, const FeatureGeneratorOptions& opt);
  // [B,F,D] -> new features [B, new_fields(), D]
  torch::Tensor forward(const torch::Tensor& emb);
  int64_t new_fields() const { return new_fields_; }

  torch::nn::ModuleList convs{nullptr};       // Conv2d(c_{i-1}, c_i, (h_i,1), padding ((h_i-1)/2, 0))
  torch::nn::ModuleList norms{nullptr};       // BatchNorm2d(c_i), if batch_norm
  torch::nn::ModuleList recombines{nullptr};  // Linear(H_i*D*c_i, H_i*D*rc_i)

 private:
  std::vector<int64_t> pooling_sizes_;
  torch::nn::AnyModule activation_;
  int64_t dim_, new_fields_ = 0;
};
TORCH_MODULE(FeatureGenerator);

}  // namespace clickprompt::ctr
