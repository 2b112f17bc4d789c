// Micro benchmarks of the CTR hot path: the GEMM shapes a batch-256 step runs,
// and one DCNv2/DNN/FM training step split into forward, backward and update.
//   build/clickprompt_bench --benchmark_filter=Ctr   (threads: CP_THREADS, default 2)
#include <benchmark/benchmark.h>

#include <cstdlib>

#include "ctr/registry.h"
#include "train/optimizer.h"

using namespace clickprompt;

namespace {
int threads() {
  const char* t = std::getenv("CP_THREADS");
  return t ? std::atoi(t) : 2;
}

void BM_Gemm(benchmark::State& st) {
  at::set_num_threads(threads());
  const int64_t m = st.range(0), k = st.range(1), n = st.range(2);
  auto a = torch::randn({m, k}), b = torch::randn({k, n});
  for (auto _ : st) benchmark::DoNotOptimize(torch::mm(a, b));
  st.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_Gemm)->Args({256, 256, 256})->Args({256, 256, 512})->Args({1024, 1024, 1024})->Unit(benchmark::kMicrosecond);

ctr::FeatureInfo ml1m_like() {
  ctr::FeatureInfo info;
  info.field_sizes = {6041, 3, 8, 22, 3440, 3707, 3707, 19};
  info.num_fields = 8;
  int64_t off = 0;
  for (auto s : info.field_sizes) info.field_offsets.push_back(off), off += s;
  info.vocab_size = off;
  return info;
}

torch::Tensor random_ids(const ctr::FeatureInfo& info, int64_t b) {
  std::vector<torch::Tensor> cols;
  for (int f = 0; f < info.num_fields; ++f)
    cols.push_back(torch::randint(info.field_sizes[f], {b}, torch::kInt64) + info.field_offsets[f]);
  return torch::stack(cols, 1);
}

// phase: 0 = whole step, 1 = forward only, 2 = forward + backward, 3 = inference (no grad)
void BM_CtrStep(benchmark::State& st, const std::string& model, int phase) {
  at::set_num_threads(threads());
  torch::manual_seed(0);
  auto info = ml1m_like();
  auto m = ctr::create_model(model, info, core::Params(YAML::Load("{model: " + model + "}"), model));
  train::AdamOptimizer opt({train::ParamGroup{"all", m->parameters(), 1e-3, 0}}, {});
  const int64_t batch = phase == 3 ? 4096 : 256;
  auto ids = random_ids(info, batch);
  auto labels = torch::randint(2, {batch}).to(torch::kFloat32);
  for (auto _ : st) {
    if (phase == 3) {
      torch::NoGradGuard ng;
      benchmark::DoNotOptimize(torch::sigmoid(m->forward(ids)));
      continue;
    }
    opt.zero_grad();
    auto loss = torch::binary_cross_entropy_with_logits(m->forward(ids), labels);
    if (phase >= 2 || phase == 0) loss.backward();
    if (phase == 0) opt.step(10.0);
  }
  st.counters["samples/s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}
}  // namespace

#define CTR_BENCH(name)                                                                               \
  BENCHMARK_CAPTURE(BM_CtrStep, name##_step, std::string(#name), 0)->Unit(benchmark::kMillisecond);  \
  BENCHMARK_CAPTURE(BM_CtrStep, name##_forward, std::string(#name), 1)->Unit(benchmark::kMillisecond); \
  BENCHMARK_CAPTURE(BM_CtrStep, name##_fwd_bwd, std::string(#name), 2)->Unit(benchmark::kMillisecond); \
  BENCHMARK_CAPTURE(BM_CtrStep, name##_infer4096, std::string(#name), 3)->Unit(benchmark::kMillisecond);

CTR_BENCH(fm)
CTR_BENCH(dnn)
CTR_BENCH(dcnv2)
CTR_BENCH(deepfm)

