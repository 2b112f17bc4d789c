#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/error.h"
#include "core/strings.h"

namespace clickprompt::core {

void keep_freed_memory() {
#if defined(__GLIBC__)
  // Every training step frees and re-allocates the same large buffers (dense
  // gradients of word embeddings and LM decoders, logits): by default glibc maps
  // blocks over its threshold fresh each time and returns freed heap tops to the
  // kernel, so every step pays page faults that zero the memory again. The
  // threshold cannot be raised above 32 MB, and an MLM step's logits over a 50K
  // vocabulary (~116 MB at batch 64) are larger: so no block is mmap-ed at all,
  // and the heap keeps up to 1 GB of freed memory.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

namespace {
double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  double d = std::strtod(v, &end);
  if (end == v || *end || !std::isfinite(d) || d <= 0)
    throw Error(std::string(name) + "='" + v + "': expected a positive number");
  return d;
}
}  // namespace

double memory_limit_bytes() {
  const double physical = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGESIZE));
  return env_number("CLICKPROMPT_MAX_MEMORY_GB", physical / 1e9) * 1e9;
}

int max_threads() {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return static_cast<int>(env_number("CLICKPROMPT_MAX_THREADS", std::max(8, 4 * cores)));
}

void check_memory(double bytes, const std::string& what) {
  const double limit = memory_limit_bytes();
  if (bytes > limit) {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%s needs about %.1f GB, over the limit of %.1f GB", what.c_str(), bytes / 1e9,
                  limit / 1e9);
    throw ResourceLimit(std::string(buf) + " (the machine's memory; set CLICKPROMPT_MAX_MEMORY_GB to change it)");
  }
}

int configure_threads(int threads) {
  if (threads < 0) throw Error("--threads must be >= 0 (0 = all cores), got " + std::to_string(threads));
  if (threads > max_threads())
    throw ResourceLimit("--threads " + std::to_string(threads) + " is over the limit of " +
                        std::to_string(max_threads()) + " (4x the " + std::to_string(std::thread::hardware_concurrency()) +
                        " cores; set CLICKPROMPT_MAX_THREADS to change it)");
  // 0: all cores, shared among a launcher's local workers (LOCAL_WORLD_SIZE, torchrun's convention).
  int n = threads;
  if (n == 0) {
    n = static_cast<int>(std::thread::hardware_concurrency());
    const char* local = std::getenv("LOCAL_WORLD_SIZE");
    if (local && std::atoi(local) > 1) n /= std::atoi(local);
  }
  if (n <= 0) n = 1;
  at::set_num_threads(n);
  return at::get_num_threads();
}

std::string blas_backend() {
  // Debian's LibTorch is linked against the generic libblas.so.3, which the
  // alternatives system points at OpenBLAS (if installed) or the reference BLAS.
  std::string cfg = at::show_config();
  std::string which = "unknown";
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libopenblas") != std::string::npos) {
      which = line.find("openmp") != std::string::npos ? "OpenBLAS (openmp)" : "OpenBLAS";
      break;
    }
    if (line.find("libmkl") != std::string::npos) {
      which = "MKL";
      break;
    }
    if (line.find("/blas/libblas") != std::string::npos || line.find("libblas.so") != std::string::npos)
      which = "reference BLAS (slow: install libopenblas0-openmp)";
  }
  if (which == "unknown" && cfg.find("BLAS_INFO=mkl") != std::string::npos) which = "MKL";
  return which;
}

std::string runtime_summary() {
  return "torch " + std::string(TORCH_VERSION) + ", BLAS=" + blas_backend() +
         ", threads=" + std::to_string(at::get_num_threads());
}

std::string check_device(const std::string& device) {
  try {
    torch::Device d(device);
    if (d.is_cuda() && !torch::cuda::is_available())
      throw Error("device '" + device + "' requested but this LibTorch has no CUDA device available");
    return d.str();
  } catch (const c10::Error&) {
    throw Error("unknown device '" + device + "' (expected cpu, cuda or cuda:N)");
  }
}

double measure_gemm_gflops(int n, int repeats) {
  torch::NoGradGuard ng;
  auto a = torch::randn({n, n});
  auto b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm up
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) c = torch::mm(a, b);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return 2.0 * n * n * static_cast<double>(n) * repeats / s / 1e9;
}

}  // namespace clickprompt::core
