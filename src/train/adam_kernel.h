#pragma once
// The fused Adam update of a contiguous float block, without torch: it lives in
// its own file so that it can be compiled with the flags that let GCC vectorise
// it (see CMakeLists.txt) without the torch precompiled header.
#include <cstdint>

namespace clickprompt::train {

// The scalars of one step for one parameter group (bias corrections, decay, clipping scale).
struct AdamCoef {
  double b1, b2, eps, step_size, bc2_sqrt, scale, l2, decay;
};

// One Adam update of n contiguous floats: moments and value in one pass. The
// four blocks must not overlap.
void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n, const AdamCoef& c);

}  // namespace clickprompt::train
