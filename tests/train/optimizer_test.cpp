#include "train/optimizer.h"

#include <gtest/gtest.h>

using namespace clickprompt::train;

namespace {
// Reference: torch::optim::Adam on a dense copy.
void compare_with_torch(bool adamw, double wd, double clip) {
  torch::manual_seed(0);
  auto w0 = torch::randn({6, 4});
  auto a = w0.clone().requires_grad_(true);
  auto b = w0.clone().requires_grad_(true);
  AdamOptimizer ours({ParamGroup{"g", {a}, 0.01, wd}}, AdamConfig{0.9, 0.999, 1e-8, adamw});
  std::unique_ptr<torch::optim::Optimizer> ref;
  if (adamw)
    ref = std::make_unique<torch::optim::AdamW>(std::vector<torch::Tensor>{b}, torch::optim::AdamWOptions(0.01).weight_decay(wd));
  else
    ref = std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{b}, torch::optim::AdamOptions(0.01).weight_decay(wd));
  for (int s = 0; s < 5; ++s) {
    auto x = torch::randn({3, 6});
    ours.zero_grad();
    ref->zero_grad();
    (x.mm(a).pow(2).sum() * 10).backward();
    (x.mm(b).pow(2).sum() * 10).backward();
    ours.step(clip);
    if (clip > 0) torch::nn::utils::clip_grad_norm_(std::vector<torch::Tensor>{b}, clip);
    ref->step();
  }
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6)) << (a - b).abs().max();
}
}  // namespace

TEST(AdamOptimizer, DenseMatchesTorchAdam) { compare_with_torch(false, 0.0, 0.0); }
TEST(AdamOptimizer, L2MatchesTorchAdam) { compare_with_torch(false, 0.1, 0.0); }
TEST(AdamOptimizer, DecoupledMatchesTorchAdamW) { compare_with_torch(true, 0.1, 0.0); }
TEST(AdamOptimizer, ClippingMatchesClipGradNorm) { compare_with_torch(false, 0.0, 0.5); }

namespace {
// float32 takes the fused CPU kernel; float64 the tensor-op path other devices use.
void sparse_vs_dense(torch::Dtype dtype) {
  torch::manual_seed(1);
  auto w0 = torch::randn({10, 3}).to(dtype);
  auto sparse_table = torch::nn::Embedding(torch::nn::EmbeddingOptions(10, 3).sparse(true));
  sparse_table->to(dtype);
  auto dense = w0.clone().requires_grad_(true);
  {
    torch::NoGradGuard ng;
    sparse_table->weight.copy_(w0);
  }
  AdamOptimizer s({ParamGroup{"e", {sparse_table->weight}, 0.05, 0}}, {});
  AdamOptimizer d({ParamGroup{"e", {dense}, 0.05, 0}}, {});
  auto ids = torch::tensor({2, 5, 2, 7}, torch::kInt64);  // row 2 twice: duplicates must be summed
  s.zero_grad();
  d.zero_grad();
  sparse_table->forward(ids).pow(2).sum().backward();
  dense.index_select(0, ids).pow(2).sum().backward();
  ASSERT_TRUE(sparse_table->weight.grad().is_sparse());
  s.step();
  d.step();
  // After one step both agree everywhere: untouched rows have zero moments in both.
  EXPECT_TRUE(torch::allclose(sparse_table->weight, dense, 1e-6, 1e-6));
  // Untouched rows are exactly as before.
  EXPECT_TRUE(torch::equal(sparse_table->weight[0], w0[0]));
  EXPECT_FALSE(torch::equal(sparse_table->weight[2], w0[2]));
}
}  // namespace

TEST(AdamOptimizer, SparseRowsUpdateLazilyFusedKernel) { sparse_vs_dense(torch::kFloat32); }
TEST(AdamOptimizer, SparseRowsUpdateLazilyTensorOps) { sparse_vs_dense(torch::kFloat64); }

TEST(AdamOptimizer, SaveLoadRoundTrip) {
  auto p = torch::ones({4}).requires_grad_(true);
  AdamOptimizer a({ParamGroup{"g", {p}, 0.1, 0}}, {});
  p.sum().backward();
  a.step();
  torch::serialize::OutputArchive out;
  a.save(out);
  std::stringstream ss;
  out.save_to(ss);
  auto q = torch::ones({4}).requires_grad_(true);
  AdamOptimizer b({ParamGroup{"g", {q}, 0.1, 0}}, {});
  torch::serialize::InputArchive in;
  in.load_from(ss);
  b.load(in);
  EXPECT_EQ(b.steps(), 1);
}
