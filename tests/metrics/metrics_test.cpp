#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

using clickprompt::metrics::auc;
using clickprompt::metrics::grouped;
using clickprompt::metrics::logloss;

TEST(Auc, PerfectAndReversedRanking) {
  EXPECT_DOUBLE_EQ(auc({0.1f, 0.2f, 0.8f, 0.9f}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(auc({0.9f, 0.8f, 0.2f, 0.1f}, {0, 0, 1, 1}), 0.0);
}

TEST(Auc, HandComputedWithoutTies) {
  // positives at 0.35, 0.8; negatives at 0.1, 0.4, 0.9.
  // pairs (pos > neg): 0.35>0.1 ; 0.8>0.1, 0.8>0.4 -> 3 of 6.
  EXPECT_DOUBLE_EQ(auc({0.1f, 0.35f, 0.4f, 0.8f, 0.9f}, {0, 1, 0, 1, 0}), 3.0 / 6.0);
}

TEST(Auc, TiesCountHalf) {
  // pos {0.5, 0.7}, neg {0.5, 0.2}: 0.5 vs 0.5 -> 0.5; 0.5>0.2 -> 1; 0.7>0.5 -> 1; 0.7>0.2 -> 1 => 3.5/4
  EXPECT_DOUBLE_EQ(auc({0.5f, 0.7f, 0.5f, 0.2f}, {1, 1, 0, 0}), 3.5 / 4.0);
  // All scores equal: 0.5 whatever the labels.
  EXPECT_DOUBLE_EQ(auc({0.3f, 0.3f, 0.3f, 0.3f, 0.3f}, {1, 0, 1, 0, 0}), 0.5);
}

TEST(Auc, DegenerateInputsGiveNaN) {
  EXPECT_TRUE(std::isnan(auc({0.1f, 0.2f}, {1, 1})));
  EXPECT_TRUE(std::isnan(auc({0.1f, 0.2f}, {0, 0})));
  EXPECT_TRUE(std::isnan(auc({}, {})));
  EXPECT_THROW(auc({0.1f}, {0, 1}), std::exception);
}

TEST(Auc, MatchesPairCountingOnRandomData) {
  std::vector<float> s, l;
  unsigned x = 12345;
  for (int i = 0; i < 300; ++i) {
    x = x * 1103515245 + 12345;
    s.push_back(static_cast<float>((x >> 16) % 50) / 50.0f);  // many ties
    l.push_back(((x >> 8) & 3) == 0 ? 1.0f : 0.0f);
  }
  double num = 0, den = 0;
  for (size_t i = 0; i < s.size(); ++i)
    for (size_t j = 0; j < s.size(); ++j)
      if (l[i] == 1 && l[j] == 0) {
        den += 1;
        num += s[i] > s[j] ? 1 : (s[i] == s[j] ? 0.5 : 0);
      }
  EXPECT_NEAR(auc(s, l), num / den, 1e-12);
}

TEST(LogLoss, HandComputed) {
  // -(log 0.8 + log(1-0.4)) / 2
  EXPECT_NEAR(logloss({0.8f, 0.4f}, {1, 0}), -(std::log(0.8) + std::log(0.6)) / 2, 1e-7);
}

TEST(LogLoss, ClipsExtremeProbabilities) {
  double eps = 1e-7;
  EXPECT_NEAR(logloss({0.0f}, {1}), -std::log(eps), 1e-6);
  EXPECT_NEAR(logloss({1.0f}, {0}), -std::log(eps), 1e-3);
  EXPECT_NEAR(logloss({1.0f, 0.0f}, {1, 0}), -std::log(1 - eps), 1e-6);
  EXPECT_TRUE(std::isnan(logloss({}, {})));
}

TEST(Grouped, SplitsByGroupInFirstSeenOrder) {
  auto g = grouped({0.9f, 0.1f, 0.6f, 0.4f, 0.3f}, {1, 0, 0, 1, 1}, {"a", "a", "b", "b", "b"});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].group, "a");
  EXPECT_EQ(g[0].samples, 2);
  EXPECT_DOUBLE_EQ(g[0].auc, 1.0);
  EXPECT_EQ(g[1].group, "b");
  EXPECT_DOUBLE_EQ(g[1].auc, 0.0);  // negative 0.6 above both positives
  EXPECT_NEAR(g[1].positive_rate, 2.0 / 3.0, 1e-12);
}
