// Summaries, Student t distribution and t-tests; see stats.h.
// The incomplete beta function follows Numerical Recipes (betai / betacf):
// a modified Lentz continued fraction, evaluated on whichever side of the mean
// (a+1)/(a+b+2) converges fast, with 1 - x passed in exactly where it matters.
#include "metrics/stats.h"

#include <limits>
#include <string>

#include "core/error.h"

namespace clickprompt::metrics {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Continued fraction for I_x(a, b) (NR betacf); y = 1 - x given separately.
double beta_cf(double a, double b, double x) {
  const int kMaxIter = 100000;
  const double kEps = 1e-16, kTiny = 1e-300;
  double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIter; ++m) {
    double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < kEps) return h;
  }
  return h;  // not reached for the arguments t-tests produce; the value is still close
}

// I_x(a, b) with y = 1 - x supplied by the caller (avoids cancellation near x = 1).
double incomplete_beta_xy(double a, double b, double x, double y) {
  if (std::isnan(a) || std::isnan(b) || std::isnan(x) || std::isnan(y) || a <= 0 || b <= 0 || x < 0 ||
      y < 0)
    return kNaN;
  if (x == 0) return 0;
  if (y == 0) return 1;
  double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(y);
  double front = std::exp(log_front);
  if (x < (a + 1) / (a + b + 2)) return front * beta_cf(a, b, x) / a;
  return 1 - front * beta_cf(b, a, y) / b;
}

// P(|T| >= |t|) = I_{df/(df+t^2)}(df/2, 1/2).
double two_sided_tail(double t, double df) {
  if (std::isnan(t) || std::isnan(df) || df <= 0) return kNaN;
  if (std::isinf(t)) return 0;
  if (std::isinf(df)) return std::erfc(std::fabs(t) / std::sqrt(2.0));
  double t2 = t * t;
  double x = df / (df + t2), y = t2 / (df + t2);
  return incomplete_beta_xy(df / 2, 0.5, x, y);
}

// The decided result when there is no spread to estimate the standard error from.
TTest degenerate(double diff, double df) {
  TTest r;
  r.df = df;
  if (diff == 0) {
    r.t = 0;
    r.p = 1;
  } else {
    r.t = diff > 0 ? kInf : -kInf;
    r.p = 0;
  }
  return r;
}

}  // namespace

Summary summarize(const std::vector<double>& x) {
  Summary s;
  s.n = static_cast<int>(x.size());
  if (x.empty()) return s;
  double sum = 0;
  for (double v : x) sum += v;
  s.mean = sum / static_cast<double>(x.size());
  if (x.size() < 2) return s;
  bool constant = true;
  for (double v : x) constant = constant && v == x[0];
  if (constant) {  // exact, so that t-tests can recognise zero variance (0.1 * 3 / 3 != 0.1)
    s.mean = x[0];
    s.std = 0;
    return s;
  }
  double ss = 0;  // two-pass: exact for constant input, stable for values near each other
  for (double v : x) ss += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(ss / static_cast<double>(x.size() - 1));
  return s;
}

double incomplete_beta(double a, double b, double x) { return incomplete_beta_xy(a, b, x, 1 - x); }

double student_t_cdf(double t, double df) {
  if (std::isnan(t) || std::isnan(df) || df <= 0) return kNaN;
  if (t == kInf) return 1;
  if (t == -kInf) return 0;
  double half_tail = 0.5 * two_sided_tail(t, df);
  return t > 0 ? 1 - half_tail : half_tail;
}

double student_t_two_sided_p(double t, double df) { return two_sided_tail(t, df); }

TTest welch_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() < 2 || b.size() < 2) return {};
  Summary sa = summarize(a), sb = summarize(b);
  double va = sa.std * sa.std / sa.n, vb = sb.std * sb.std / sb.n;
  double diff = sa.mean - sb.mean;
  if (va + vb == 0) return degenerate(diff, kNaN);
  TTest r;
  r.t = diff / std::sqrt(va + vb);
  r.df = (va + vb) * (va + vb) / (va * va / (sa.n - 1) + vb * vb / (sb.n - 1));
  r.p = two_sided_tail(r.t, r.df);
  return r;
}

TTest paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size())
    throw Error("paired t-test needs the same number of values on both sides (got " + std::to_string(a.size()) +
                " and " + std::to_string(b.size()) + "); pair the runs by seed, or use welch_t_test");
  if (a.size() < 2) return {};
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  Summary s = summarize(d);
  double df = static_cast<double>(s.n - 1);
  if (s.std == 0) return degenerate(s.mean, df);
  TTest r;
  r.t = s.mean / (s.std / std::sqrt(static_cast<double>(s.n)));
  r.df = df;
  r.p = two_sided_tail(r.t, r.df);
  return r;
}

}  // namespace clickprompt::metrics
