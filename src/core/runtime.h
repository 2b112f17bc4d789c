#pragma once
// Process-wide runtime settings: intra-op threads (LibTorch starts with ONE on
// these machines), the BLAS backend in use, and the compute device.
#include <string>

namespace clickprompt::core {

// Tunes glibc malloc for training loops (no page faults on re-allocated step
// buffers): no block is mmap-ed, freed memory stays in the heap (up to 1 GB).
void keep_freed_memory();
// Sets LibTorch's intra-op threads; 0 means all cores (divided among a launcher's
// LOCAL_WORLD_SIZE local workers). Returns the count in use.
int configure_threads(int threads);
// Limits checked before allocating. The memory limit defaults to the machine's
// physical memory; CLICKPROMPT_MAX_MEMORY_GB overrides it. The thread limit is
// 4x the cores (at least 8); CLICKPROMPT_MAX_THREADS overrides it.
double memory_limit_bytes();
int max_threads();
// Throws ResourceLimit when `bytes` (an estimate for `what`) is over the memory limit.
void check_memory(double bytes, const std::string& what);
// One-line description: "BLAS=OpenBLAS (openmp), threads=2, torch 1.13.1".
std::string runtime_summary();
// Name of the BLAS library LibTorch calls (from at::show_config()).
std::string blas_backend();
// Validates "cpu", "cuda", "cuda:1"; throws Error with a clear message otherwise.
std::string check_device(const std::string& device);
// Measured single-precision GEMM rate in GFLOP/s (n x n x n, a few repeats).
double measure_gemm_gflops(int n = 1024, int repeats = 5);

}  // namespace clickprompt::core
