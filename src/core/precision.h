#pragma once
// Mixed precision for every model (CTR and language model): an RAII guard that turns on
// LibTorch autocast (bfloat16 by default) for the device the model runs on,
// for inference and training. float32 stays the default everywhere.
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace at {
class Tensor;
}

namespace clickprompt::core {

enum class Precision { Float32, BFloat16, Float16 };

Precision parse_precision(const std::string& name);  // "fp32"/"float32", "bf16"/"bfloat16", "fp16"/"float16"
std::string precision_name(Precision p);

// Enables autocast to the precision's dtype on `device` for its lifetime and
// restores the previous state afterwards (also clears the autocast weight
// cache). Float32 is a no-op. Float16 is only offered on CUDA.
class AutocastGuard {
 public:
  AutocastGuard(Precision p, const c10::Device& device);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool prev_enabled_ = false;
  c10::ScalarType prev_dtype_ = c10::ScalarType::BFloat16;
};

// `x` in the autocast compute dtype when autocast is on for its device (and `x` is
// float32), else `x` itself. A model calls it on the input of a block whose ops all
// run in that dtype (linear layers, activations, products), so that autocast does
// not cast between float32 and bfloat16 around every elementwise op of the block.
at::Tensor to_autocast_dtype(const at::Tensor& x);

}  // namespace clickprompt::core
