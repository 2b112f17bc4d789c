#include "train/adam_kernel.h"

#include <cmath>

namespace clickprompt::train {

// The build is -O2 for a baseline x86-64, which left this loop scalar (perf: 13%
// of a DeepFM step in the dense update). This file is compiled with
// -fno-math-errno and the dynamic vectoriser cost model (CMakeLists.txt), and on
// GCC/x86-64 one clone per instruction set is made and picked when the program loads.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void adam_kernel(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, int64_t n,
                 const AdamCoef& c) {
  const float b1 = static_cast<float>(c.b1), b2 = static_cast<float>(c.b2), eps = static_cast<float>(c.eps),
              step = static_cast<float>(c.step_size), inv_bc2 = static_cast<float>(1.0 / c.bc2_sqrt),
              scale = static_cast<float>(c.scale), l2 = static_cast<float>(c.l2), decay = static_cast<float>(c.decay);
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] * scale + l2 * p[i];
    float mi = b1 * m[i] + (1.f - b1) * gi;
    float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step * mi / (std::sqrt(vi) * inv_bc2 + eps);
  }
}

}  // namespace clickprompt::train
