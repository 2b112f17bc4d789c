#include "core/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>

#include "core/error.h"
#include "core/io.h"

namespace clickprompt::core {
namespace {

double checked_probability(double p) {
  if (!(p >= 0 && p <= 1)) throw Error("dropout probability must be in [0, 1], got " + std::to_string(p));
  return p;
}

uint64_t next_seed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get<at::CPUGeneratorImpl>()->random64();
}

// mask[i] = scale where draw i >= threshold, else 0; draw i is 16 bits of the
// hash of block i / 4.
template <typename T>
void fill_mask(T* mask, int64_t n, uint64_t seed, uint32_t threshold, T scale) {
  const int64_t blocks = (n + 3) / 4;
  at::parallel_for(0, blocks, 2048, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const uint64_t h = splitmix64(seed + static_cast<uint64_t>(b) * 0x9E3779B97F4A7C15ULL);
      const int64_t i0 = 4 * b, lanes = std::min<int64_t>(4, n - i0);
      for (int64_t j = 0; j < lanes; ++j) {
        const uint32_t draw = static_cast<uint32_t>(h >> (16 * j)) & 0xFFFFu;
        mask[i0 + j] = draw >= threshold ? scale : T(0);
      }
    }
  });
}

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  if (!training || checked_probability(p) == 0) return x;
  if (!x.device().is_cpu()) return torch::dropout(x, p, true);
  const auto threshold = static_cast<uint32_t>(std::lround(p * 65536.0));
  if (threshold == 0) return x;
  if (threshold >= 65536) return x * 0;  // p = 1 (or within 2^-17 of it)
  const double scale = 65536.0 / (65536.0 - threshold);
  auto mask = torch::empty(x.sizes(), x.options().memory_format(torch::MemoryFormat::Contiguous));
  const uint64_t seed = next_seed();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kBFloat16, at::kHalf, x.scalar_type(), "core::dropout", [&] {
    fill_mask<scalar_t>(mask.data_ptr<scalar_t>(), mask.numel(), seed, threshold, static_cast<scalar_t>(scale));
  });
  return x * mask;
}

DropoutImpl::DropoutImpl(double p_) : p(checked_probability(p_)) {}

torch::Tensor DropoutImpl::forward(const torch::Tensor& x) { return core::dropout(x, p, is_training()); }

}  // namespace clickprompt::core
