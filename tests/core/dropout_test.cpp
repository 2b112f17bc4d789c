#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/dropout.h"
#include "core/error.h"

using namespace clickprompt;

namespace {
constexpr int64_t kN = 1 << 20;
// The drop probability after rounding to 16 bits.
double rounded_p(double p) { return std::lround(p * 65536.0) / 65536.0; }
// Tolerance for a frequency estimated from n Bernoulli(q) draws: 5 standard deviations.
double tol(double q, int64_t n) { return 5 * std::sqrt(q * (1 - q) / n); }
}  // namespace

TEST(Dropout, DropsAtRateAndScalesTheRestToKeepTheMean) {
  torch::manual_seed(11);
  for (double p : {0.1, 0.5, 0.9}) {
    auto x = torch::ones({kN});
    auto y = core::dropout(x, p, true);
    auto dropped = (y == 0).to(torch::kFloat64).mean().item<double>();
    EXPECT_NEAR(dropped, p, tol(p, kN)) << "p=" << p;
    const double scale = 1.0 / (1.0 - rounded_p(p));
    auto kept = y.masked_select(y != 0);
    EXPECT_NEAR(kept.min().item<double>(), scale, 1e-5);
    EXPECT_NEAR(kept.max().item<double>(), scale, 1e-5);
    EXPECT_NEAR(y.to(torch::kFloat64).mean().item<double>(), 1.0, tol(p, kN) * scale) << "p=" << p;
  }
}

TEST(Dropout, DrawsAreIndependentWithinAndAcrossHashBlocks) {
  // Four elements share one 64-bit hash; neighbours in the same block (i, i+1)
  // and in the next block (i, i+4) must still be dropped together at rate p^2.
  torch::manual_seed(12);
  const double p = 0.5;
  auto d = core::dropout(torch::ones({kN}), p, true) == 0;
  // Overlapping pairs share elements: their frequency's variance is
  // (1 + 2p / (1 + p)) times a binomial one.
  const double overlap = std::sqrt(1 + 2 * p / (1 + p));
  for (int64_t lag : {1, 2, 3, 4, 5}) {
    auto both = (d.narrow(0, 0, kN - lag) & d.narrow(0, lag, kN - lag)).to(torch::kFloat64).mean().item<double>();
    EXPECT_NEAR(both, p * p, overlap * tol(p * p, kN - lag)) << "lag " << lag;
  }
  // Each lane of a block alone is fair too (lane j = element index mod 4).
  auto lanes = d.view({-1, 4}).to(torch::kFloat64).mean(0);
  for (int64_t j = 0; j < 4; ++j) EXPECT_NEAR(lanes[j].item<double>(), p, tol(p, kN / 4)) << "lane " << j;
}

TEST(Dropout, FollowsTheTorchSeedAndNotTheThreadCount) {
  auto x = torch::randn({3, 1000, 7});
  const int threads = at::get_num_threads();
  torch::manual_seed(5);
  at::set_num_threads(1);
  auto a = core::dropout(x, 0.3, true);
  auto a2 = core::dropout(x, 0.3, true);
  torch::manual_seed(5);
  at::set_num_threads(2);
  ASSERT_EQ(at::get_num_threads(), 2);  // 5,250 hash blocks at a grain of 2,048: split over both threads
  auto b = core::dropout(x, 0.3, true);
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, a2)) << "two calls gave the same mask";
}

TEST(Dropout, IdentityInEvalModeAndAtZero) {
  auto x = torch::randn({4, 5});
  EXPECT_TRUE(core::dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(core::dropout(x, 0.0, true).is_same(x));
  EXPECT_EQ(core::dropout(x, 1.0, true).abs().sum().item<float>(), 0.f);
  EXPECT_THROW(core::dropout(x, 1.5, true), Error);
  EXPECT_THROW({ core::Dropout bad(-0.1); }, Error);
  core::Dropout m(0.5);
  m->eval();
  EXPECT_TRUE(torch::equal(m(x), x));
  m->train();
  EXPECT_GT((m(torch::ones({1000})) == 0).sum().item<int64_t>(), 0);
}

TEST(Dropout, GradientIsTheMaskAndTheDtypeIsKept) {
  torch::manual_seed(3);
  auto x = torch::randn({64, 32}).t().requires_grad_();  // non-contiguous
  auto y = core::dropout(x, 0.2, true);
  ASSERT_EQ(y.sizes(), x.sizes());
  y.sum().backward();
  const double scale = 1.0 / (1.0 - rounded_p(0.2));
  auto kept = (y != 0).to(torch::kFloat32);
  EXPECT_TRUE(torch::allclose(x.grad(), kept * scale));
  EXPECT_TRUE(torch::allclose(y, x.detach() * kept * scale));
  for (auto dtype : {torch::kBFloat16, torch::kHalf, torch::kFloat64}) {
    auto z = core::dropout(torch::ones({4096}, dtype), 0.1, true);
    EXPECT_EQ(z.scalar_type(), dtype);
    auto frac = (z == 0).to(torch::kFloat64).mean().item<double>();
    EXPECT_NEAR(frac, 0.1, tol(0.1, 4096));
  }
}
