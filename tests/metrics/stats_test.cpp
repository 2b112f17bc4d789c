// Tests for metrics/stats: summaries, the Student t distribution and t-tests.
// Reference values were computed with mpmath (40 digits) from the textbook
// formulas: cdf via betainc(df/2, 1/2, 0, df/(df+t^2), regularized=True),
// cross-checked by numerically integrating the t density with mpmath.quad;
// t and df of the tests from the hand formulas on the exact decimal inputs.
#include "metrics/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "test_util.h"

using namespace clickprompt;
using metrics::paired_t_test;
using metrics::student_t_cdf;
using metrics::student_t_two_sided_p;
using metrics::welch_t_test;

TEST(Summarize, MeanAndSampleStd) {
  auto s = metrics::summarize({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_EQ(s.n, 8);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.std, std::sqrt(32.0 / 7.0), 1e-14);  // sum of squares 32, n - 1 = 7
  auto one = metrics::summarize({3.5});
  EXPECT_EQ(one.n, 1);
  EXPECT_DOUBLE_EQ(one.mean, 3.5);
  EXPECT_TRUE(std::isnan(one.std));
  auto none = metrics::summarize({});
  EXPECT_EQ(none.n, 0);
  EXPECT_TRUE(std::isnan(none.mean));
  EXPECT_TRUE(std::isnan(none.std));
  auto constant = metrics::summarize({0.1, 0.1, 0.1});
  EXPECT_EQ(constant.mean, 0.1);
  EXPECT_EQ(constant.std, 0.0);
}

TEST(StudentT, TableValues) {
  EXPECT_NEAR(student_t_cdf(2.228, 10), 0.975, 1e-4);               // t table, 97.5%, df = 10
  EXPECT_NEAR(student_t_cdf(2.228, 10), 0.97499411409144431732, 1e-11);  // mpmath
  EXPECT_NEAR(student_t_cdf(1.0, 1), 0.75, 1e-13);                    // Cauchy: 1/2 + atan(1)/pi
  EXPECT_NEAR(student_t_cdf(-3.0, 1), 0.5 + std::atan(-3.0) / M_PI, 1e-13);
  EXPECT_NEAR(student_t_cdf(1.5, 2), 0.5 + 1.5 / (2 * std::sqrt(1.5 * 1.5 + 2)), 1e-13);  // df = 2 closed form
  EXPECT_NEAR(student_t_cdf(1.959964, 1e6), 0.97499986225594815089, 1e-9);  // mpmath
  EXPECT_NEAR(student_t_cdf(1.959964, 1e6), 0.975, 1e-6);                  // ~ normal
  EXPECT_NEAR(student_t_cdf(1.959964, std::numeric_limits<double>::infinity()), 0.975, 1e-7);
}

TEST(StudentT, FractionalDfSymmetryAndTails) {
  EXPECT_NEAR(student_t_cdf(-0.7, 4.5), 0.25921980115580898718, 1e-11);  // mpmath
  EXPECT_NEAR(student_t_cdf(3.0, 7.3), 0.99050972448843324684, 1e-11);   // mpmath
  EXPECT_NEAR(student_t_cdf(0.7, 4.5), 1 - 0.25921980115580898718, 1e-11);
  EXPECT_DOUBLE_EQ(student_t_cdf(0.0, 3), 0.5);
  // Tiny two-sided p: relative accuracy, not lost to 1 - cdf cancellation.
  double p = student_t_two_sided_p(50, 5);
  EXPECT_NEAR(p / 6.0477576266012252316e-8, 1.0, 1e-9);  // mpmath
  EXPECT_DOUBLE_EQ(student_t_cdf(std::numeric_limits<double>::infinity(), 3), 1.0);
  EXPECT_DOUBLE_EQ(student_t_cdf(-std::numeric_limits<double>::infinity(), 3), 0.0);
  EXPECT_TRUE(std::isnan(student_t_cdf(1.0, 0)));
  EXPECT_TRUE(std::isnan(student_t_cdf(NAN, 3)));
}

TEST(StudentT, IncompleteBetaKnownForms) {
  // I_x(1, 1) = x ; I_x(a, 1) = x^a ; I_x(1, b) = 1 - (1-x)^b
  EXPECT_NEAR(metrics::incomplete_beta(1, 1, 0.3), 0.3, 1e-14);
  EXPECT_NEAR(metrics::incomplete_beta(3.5, 1, 0.6), std::pow(0.6, 3.5), 1e-14);
  EXPECT_NEAR(metrics::incomplete_beta(1, 4, 0.2), 1 - std::pow(0.8, 4), 1e-14);
  EXPECT_DOUBLE_EQ(metrics::incomplete_beta(2, 3, 0), 0.0);
  EXPECT_DOUBLE_EQ(metrics::incomplete_beta(2, 3, 1), 1.0);
  EXPECT_TRUE(std::isnan(metrics::incomplete_beta(2, 3, 1.5)));
}

TEST(WelchTTest, HandComputedExample) {
  // mpmath: t = 2.6929573680447716, df = 6.2041321912595735, p = 0.034752113883778181
  auto r = welch_t_test({0.801, 0.805, 0.799, 0.808, 0.803}, {0.795, 0.798, 0.792, 0.801});
  EXPECT_NEAR(r.t, 2.6929573680447716, 1e-9);
  EXPECT_NEAR(r.df, 6.2041321912595735, 1e-8);
  EXPECT_NEAR(r.p, 0.034752113883778181, 1e-9);
  // Swapping the samples flips t only.
  auto s = welch_t_test({0.795, 0.798, 0.792, 0.801}, {0.801, 0.805, 0.799, 0.808, 0.803});
  EXPECT_NEAR(s.t, -r.t, 1e-12);
  EXPECT_NEAR(s.p, r.p, 1e-12);
}

TEST(PairedTTest, HandComputedExample) {
  std::vector<double> a = {0.812, 0.809, 0.815, 0.811, 0.814, 0.810};
  std::vector<double> b = {0.808, 0.807, 0.811, 0.810, 0.809, 0.808};
  // differences {4,2,4,1,5,2}e-3: mean 3e-3, sd sqrt(0.0000024) -> t = sqrt(22.5) = 4.7434...
  // mpmath: p = 0.005134461661982122 (df = 5)
  auto r = paired_t_test(a, b);
  EXPECT_NEAR(r.t, std::sqrt(22.5), 1e-8);
  EXPECT_DOUBLE_EQ(r.df, 5.0);
  EXPECT_NEAR(r.p, 0.005134461661982122, 1e-9);
  // The same data unpaired is a weaker test (mpmath: t 2.6773385278892832, df 8.4714389968818417,
  // p 0.026666087620031898).
  auto w = welch_t_test(a, b);
  EXPECT_NEAR(w.t, 2.6773385278892832, 1e-9);
  EXPECT_NEAR(w.df, 8.4714389968818417, 1e-8);
  EXPECT_NEAR(w.p, 0.026666087620031898, 1e-9);
}

TEST(TTests, EdgeCases) {
  // Too few values: NaN.
  EXPECT_TRUE(std::isnan(welch_t_test({1.0}, {1.0, 2.0}).p));
  EXPECT_TRUE(std::isnan(welch_t_test({}, {}).p));
  EXPECT_TRUE(std::isnan(paired_t_test({1.0}, {2.0}).p));
  // Zero variance in both samples: decided exactly.
  auto same = welch_t_test({0.1, 0.1, 0.1}, {0.1, 0.1});
  EXPECT_DOUBLE_EQ(same.p, 1.0);
  EXPECT_DOUBLE_EQ(same.t, 0.0);
  auto differ = welch_t_test({0.2, 0.2, 0.2}, {0.1, 0.1});
  EXPECT_DOUBLE_EQ(differ.p, 0.0);
  EXPECT_TRUE(std::isinf(differ.t) && differ.t > 0);
  // Zero variance on one side only is an ordinary test (df = n_b - 1 = 2 here):
  // t = (0.5 - 2) / sqrt(1/3) = -2.598..., p = I_{2/(2+t^2)}(1, 1/2) = 1 - sqrt(1 - x) with x = 2/(2+t^2)
  auto one = welch_t_test({0.5, 0.5, 0.5}, {1.0, 2.0, 3.0});
  EXPECT_NEAR(one.df, 2.0, 1e-12);
  EXPECT_NEAR(one.t, -1.5 / std::sqrt(1.0 / 3.0), 1e-12);
  double x = 2 / (2 + one.t * one.t);
  EXPECT_NEAR(one.p, 1 - std::sqrt(1 - x), 1e-12);
  // Paired with constant differences.
  EXPECT_DOUBLE_EQ(paired_t_test({1.0, 2.0, 3.0}, {1.0, 2.0, 3.0}).p, 1.0);
  auto shifted = paired_t_test({1.5, 2.5, 3.5}, {1.0, 2.0, 3.0});
  EXPECT_DOUBLE_EQ(shifted.p, 0.0);
  EXPECT_DOUBLE_EQ(shifted.df, 2.0);
  // Mismatched sizes name both sizes.
  std::string msg = test_util::error_of([] { paired_t_test({1.0, 2.0}, {1.0, 2.0, 3.0}); });
  EXPECT_NE(msg.find("2 and 3"), std::string::npos) << msg;
}
