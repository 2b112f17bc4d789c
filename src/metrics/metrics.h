#pragma once
// Evaluation metrics on plain arrays (no torch): exact AUC and log loss.
#include <cstdint>
#include <string>
#include <vector>

namespace clickprompt::metrics {

// Exact ROC AUC by ranks (Mann-Whitney U) with ties given their average rank.
// Returns NaN when labels are all of one class.
double auc(const std::vector<float>& scores, const std::vector<float>& labels);
// Mean binary cross-entropy, probabilities clipped to [eps, 1 - eps].
double logloss(const std::vector<float>& probs, const std::vector<float>& labels, double eps = 1e-7);

struct GroupMetrics {
  std::string group;
  int64_t samples = 0;
  double positive_rate = 0, auc = 0, logloss = 0;
};

// Metrics per group (group[i] names the group of sample i), in order of first appearance.
std::vector<GroupMetrics> grouped(const std::vector<float>& probs, const std::vector<float>& labels,
                                  const std::vector<std::string>& group);

}  // namespace clickprompt::metrics
