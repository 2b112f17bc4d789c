#pragma once
// Small-sample statistics for comparing runs (no torch): mean/std summaries,
// the Student t distribution, and two-sided Welch and paired t-tests.
#include <cmath>
#include <vector>

namespace clickprompt::metrics {

struct Summary {
  int n = 0;
  double mean = NAN, std = NAN;  // std: sample standard deviation (n - 1); NaN when n < 2
};

// Count, mean and sample standard deviation. Empty input: n = 0, mean = std = NaN.
Summary summarize(const std::vector<double>& x);

// Regularized incomplete beta function I_x(a, b) for a, b > 0 and 0 <= x <= 1
// (continued fraction, accurate to about 1e-12 relative). NaN for arguments outside.
double incomplete_beta(double a, double b, double x);

// P(T <= t) for Student's t with `df` degrees of freedom (df > 0, may be fractional;
// df = infinity gives the normal distribution). NaN for df <= 0 or NaN inputs.
double student_t_cdf(double t, double df);

// Two-sided p-value P(|T| >= |t|), computed without the cancellation of 2 * (1 - cdf).
double student_t_two_sided_p(double t, double df);

struct TTest {
  double t = NAN, df = NAN, p = NAN;  // p: two-sided
};

// Welch's unequal-variance t-test of mean(a) == mean(b), Welch-Satterthwaite df.
// Fewer than 2 values in either sample: all fields NaN.
// Both samples with zero variance: no spread to test against, so the result is
// decided exactly: equal means give t = 0, p = 1; different means give
// t = +-infinity, p = 0; df is NaN in both cases.
TTest welch_t_test(const std::vector<double>& a, const std::vector<double>& b);

// Paired t-test of mean(a - b) == 0 (df = n - 1). Throws Error when the sizes differ.
// Fewer than 2 pairs: all fields NaN. All differences equal (zero variance): mean
// difference 0 gives t = 0, p = 1, otherwise t = +-infinity, p = 0; df = n - 1.
TTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace clickprompt::metrics
