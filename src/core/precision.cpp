#include "core/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "core/error.h"

namespace clickprompt::core {

Precision parse_precision(const std::string& name) {
  if (name == "fp32" || name == "float32" || name == "float") return Precision::Float32;
  if (name == "bf16" || name == "bfloat16") return Precision::BFloat16;
  if (name == "fp16" || name == "float16" || name == "half") return Precision::Float16;
  throw Error("unknown precision '" + name + "' (expected fp32, bf16 or fp16)");
}

std::string precision_name(Precision p) {
  switch (p) {
    case Precision::Float32: return "fp32";
    case Precision::BFloat16: return "bf16";
    case Precision::Float16: return "fp16";
  }
  return "?";
}

namespace {
// LibTorch 2.4 replaced the per-device setters by device-type ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool is_enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void set_enabled(bool cuda, bool on) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, on); }
c10::ScalarType get_dtype(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_dtype(bool cuda, c10::ScalarType t) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, t); }
#else
bool is_enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void set_enabled(bool cuda, bool on) {
  if (cuda)
    at::autocast::set_enabled(on);
  else
    at::autocast::set_cpu_enabled(on);
}
c10::ScalarType get_dtype(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_dtype(bool cuda, c10::ScalarType t) {
  if (cuda)
    at::autocast::set_autocast_gpu_dtype(t);
  else
    at::autocast::set_autocast_cpu_dtype(t);
}
#endif
}  // namespace

AutocastGuard::AutocastGuard(Precision p, const c10::Device& device) {
  if (p == Precision::Float32) return;
  cuda_ = device.is_cuda();
  if (!cuda_ && !device.is_cpu()) throw Error("autocast is only supported on cpu and cuda devices");
  if (p == Precision::Float16 && !cuda_) throw Error("fp16 autocast needs a CUDA device; use bf16 on the CPU");
  prev_enabled_ = is_enabled(cuda_);
  prev_dtype_ = get_dtype(cuda_);
  set_dtype(cuda_, p == Precision::BFloat16 ? c10::ScalarType::BFloat16 : c10::ScalarType::Half);
  set_enabled(cuda_, true);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_enabled(cuda_, prev_enabled_);
  set_dtype(cuda_, prev_dtype_);
}

at::Tensor to_autocast_dtype(const at::Tensor& x) {
  bool cuda = x.is_cuda();
  if ((!cuda && !x.is_cpu()) || x.scalar_type() != at::kFloat || !is_enabled(cuda)) return x;
  return x.to(get_dtype(cuda));
}

}  // namespace clickprompt::core
