// Micro benchmarks of the language-model stack:
// - encoder forward with RoBERTa-base shapes (12 layers, 768 wide, 12 heads,
//   FFN 3072), batch 32 x 64 tokens, random weights, float32 and bf16 autocast;
//   counters tokens/s and GFLOP/s (matmul FLOPs), next to the GEMM rate;
// - tokenizer throughput on ML-1M text views (full texts, and assembled from
//   cached per-field pieces).
// Threads: LibTorch starts with one intra-op thread here; every benchmark sets
// CP_BENCH_THREADS (default 2).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <unordered_map>

#include "core/strings.h"
#include "plm/checkpoint.h"
#include "plm/encoder.h"
#include "core/precision.h"
#include "plm/tokenizer/tokenizer.h"

using namespace clickprompt;
using namespace clickprompt::plm;
using clickprompt::core::AutocastGuard;
using clickprompt::core::Precision;
using clickprompt::core::parse_precision;

namespace {

int bench_threads() {
  const char* e = std::getenv("CP_BENCH_THREADS");
  return e && *e ? std::atoi(e) : 2;
}

std::string shared_dir() {
  const char* e = std::getenv("CP_SHARED_DIR");
  if (e && *e) return e;
#ifdef CP_SHARED_DIR
  return CP_SHARED_DIR;
#else
  return "../shared";
#endif
}

MaskedLm& roberta_base_model() {
  static MaskedLm model = [] {
    torch::NoGradGuard ng;
    MaskedLm m(HfConfig::roberta_base(), /*with_head=*/false);
    init_weights(m, 0.02, 1);
    m->eval();
    return m;
  }();
  return model;
}

void BM_EncoderForward(benchmark::State& state, Precision precision) {
  at::set_num_threads(bench_threads());
  const int64_t B = state.range(0), L = state.range(1);
  auto& model = roberta_base_model();
  const auto& cfg = model->config();
  torch::NoGradGuard ng;
  EncoderInput in;
  in.input_ids = torch::randint(3, cfg.vocab_size, {B, L}, torch::kLong);
  in.attention_mask = torch::ones({B, L}, torch::kLong);
  in.output_hidden_states = false;
  AutocastGuard guard(precision, torch::kCPU);
  model->encode(in);  // warm-up (and the bf16 weight cache)
  for (auto _ : state) {
    auto out = model->encode(in);
    benchmark::DoNotOptimize(out.last_hidden_state.data_ptr());
  }
  double tokens = static_cast<double>(B * L) * static_cast<double>(state.iterations());
  state.counters["tokens/s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      forward_flops(cfg, B, L) * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
  state.counters["threads"] = at::get_num_threads();
}

void BM_Gemm(benchmark::State& state, Precision precision) {
  at::set_num_threads(bench_threads());
  const int64_t n = state.range(0);
  torch::NoGradGuard ng;
  auto a = torch::randn({n, n}), b = torch::randn({n, n});
  AutocastGuard guard(precision, torch::kCPU);
  for (auto _ : state) benchmark::DoNotOptimize(torch::mm(a, b).data_ptr());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * n * n * static_cast<double>(state.iterations()) / 1e9,
                                                 benchmark::Counter::kIsRate);
}

// ML-1M text views: "User ID is 1. Gender is F. ... Film genre is Drama." as
// per-field pieces (the first without, the others with a leading space).
const std::vector<std::vector<std::string>>& ml1m_views() {
  static std::vector<std::vector<std::string>> views = [] {
    std::vector<std::vector<std::string>> out;
    std::string dir = shared_dir() + "/data/ml-1m";
    std::unordered_map<std::string, std::vector<std::string>> users, movies;
    std::ifstream u(dir + "/users.dat"), m(dir + "/movies.dat"), r(dir + "/ratings.dat");
    std::string line;
    while (std::getline(u, line)) {
      auto f = core::split(line, "::");
      if (f.size() >= 5) users[std::string(f[0])] = {std::string(f[1]), std::string(f[2]), std::string(f[3]), std::string(f[4])};
    }
    while (std::getline(m, line)) {
      std::string utf8 = core::latin1_to_utf8(line);
      auto f = core::split(utf8, "::");
      if (f.size() < 3) continue;
      std::string genres = std::string(f[2]);
      for (size_t p; (p = genres.find('|')) != std::string::npos;) genres.replace(p, 1, ", ");
      movies[std::string(f[0])] = {std::string(f[1]), genres};
    }
    while (out.size() < 20000 && std::getline(r, line)) {
      auto f = core::split(line, "::");
      if (f.size() < 2) continue;
      auto ui = users.find(std::string(f[0]));
      auto mi = movies.find(std::string(f[1]));
      if (ui == users.end() || mi == movies.end()) continue;
      const auto& us = ui->second;
      const auto& mv = mi->second;
      out.push_back({"User ID is " + std::string(f[0]) + ".", " Gender is " + us[0] + ".", " Age is " + us[1] + ".",
                     " Job is " + us[2] + ".", " Zipcode is " + us[3] + ".", " Movie ID is " + std::string(f[1]) + ".",
                     " Title is " + mv[0] + ".", " Film genre is " + mv[1] + "."});
    }
    return out;
  }();
  return views;
}

std::shared_ptr<Tokenizer> bench_tokenizer(const std::string& name) {
  static std::unordered_map<std::string, std::shared_ptr<Tokenizer>> cache;
  auto& t = cache[name];
  if (!t) t = load_tokenizer(shared_dir() + "/fixtures/plm-vocab/" + name);
  return t;
}

void BM_TokenizeFullText(benchmark::State& state, const std::string& vocab) {
  auto tok = bench_tokenizer(vocab);
  const auto& views = ml1m_views();
  if (views.empty()) {
    state.SkipWithError("ML-1M not found under CP_SHARED_DIR/data/ml-1m");
    return;
  }
  std::vector<std::string> texts;
  for (const auto& v : views) {
    std::string s;
    for (const auto& p : v) s += p;
    texts.push_back(s);
  }
  size_t i = 0, tokens = 0;
  for (auto _ : state) {
    auto ids = tok->encode(texts[i]);
    tokens += ids.size();
    if (++i == texts.size()) i = 0;
  }
  state.counters["texts/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["tokens/text"] = static_cast<double>(tokens) / static_cast<double>(state.iterations());
}

void BM_TokenizeCachedPieces(benchmark::State& state, const std::string& vocab) {
  auto tok = bench_tokenizer(vocab);
  const auto& views = ml1m_views();
  if (views.empty()) {
    state.SkipWithError("ML-1M not found under CP_SHARED_DIR/data/ml-1m");
    return;
  }
  size_t i = 0;
  std::vector<int64_t> ids;
  for (auto _ : state) {
    ids.clear();
    ids.push_back(tok->cls_id());
    for (const auto& p : views[i]) {
      auto piece = tok->encode_piece(p);
      ids.insert(ids.end(), piece.begin(), piece.end());
    }
    ids.push_back(tok->sep_id());
    benchmark::DoNotOptimize(ids.data());
    if (++i == views.size()) i = 0;
  }
  state.counters["texts/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["cached pieces"] = static_cast<double>(tok->cache_size());
}

}  // namespace

BENCHMARK_CAPTURE(BM_EncoderForward, fp32, Precision::Float32)->Args({32, 64})->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_EncoderForward, bf16, Precision::BFloat16)->Args({32, 64})->Unit(benchmark::kMillisecond)->MinTime(3.0)->UseRealTime();
BENCHMARK_CAPTURE(BM_Gemm, fp32, Precision::Float32)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Gemm, bf16, Precision::BFloat16)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TokenizeFullText, roberta, std::string("roberta-base"));
BENCHMARK_CAPTURE(BM_TokenizeFullText, bert, std::string("bert-base-uncased"));
BENCHMARK_CAPTURE(BM_TokenizeCachedPieces, roberta, std::string("roberta-base"));
BENCHMARK_CAPTURE(BM_TokenizeCachedPieces, bert, std::string("bert-base-uncased"));
