#include "metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "core/error.h"

namespace clickprompt::metrics {

double auc(const std::vector<float>& scores, const std::vector<float>& labels) {
  if (scores.size() != labels.size()) throw Error("auc: scores and labels differ in length");
  const size_t n = scores.size();
  // A NaN breaks the sort's ordering and never equals itself (the tie loop
  // would not advance): non-finite scores are an error, not a metric.
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(scores[i]))
      throw Diverged("auc: score " + std::to_string(i) + " is " + std::to_string(scores[i]) + " (not finite)");
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return scores[a] < scores[b]; });
  double rank_sum_pos = 0;
  double n_pos = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    double pos_in_tie = 0;
    while (j < n && scores[order[j]] == scores[order[i]]) {
      pos_in_tie += labels[order[j]] > 0.5f ? 1 : 0;
      ++j;
    }
    double avg_rank = 0.5 * (static_cast<double>(i + 1) + static_cast<double>(j));  // ranks i+1..j
    rank_sum_pos += pos_in_tie * avg_rank;
    n_pos += pos_in_tie;
    i = j;
  }
  double n_neg = static_cast<double>(n) - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rank_sum_pos - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

double logloss(const std::vector<float>& probs, const std::vector<float>& labels, double eps) {
  if (probs.size() != labels.size()) throw Error("logloss: probabilities and labels differ in length");
  if (probs.empty()) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (!std::isfinite(probs[i]))
      throw Diverged("logloss: probability " + std::to_string(i) + " is " + std::to_string(probs[i]) + " (not finite)");
    double p = std::min(std::max(static_cast<double>(probs[i]), eps), 1 - eps);
    sum += labels[i] > 0.5f ? -std::log(p) : -std::log(1 - p);
  }
  return sum / static_cast<double>(probs.size());
}

std::vector<GroupMetrics> grouped(const std::vector<float>& probs, const std::vector<float>& labels,
                                  const std::vector<std::string>& group) {
  if (group.size() != probs.size()) throw Error("grouped metrics: group labels differ in length");
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::vector<float>, std::vector<float>>> by;
  for (size_t i = 0; i < probs.size(); ++i) {
    auto it = by.find(group[i]);
    if (it == by.end()) {
      order.push_back(group[i]);
      it = by.emplace(group[i], std::make_pair(std::vector<float>{}, std::vector<float>{})).first;
    }
    it->second.first.push_back(probs[i]);
    it->second.second.push_back(labels[i]);
  }
  std::vector<GroupMetrics> out;
  for (const auto& g : order) {
    const auto& [p, l] = by[g];
    GroupMetrics m;
    m.group = g;
    m.samples = static_cast<int64_t>(p.size());
    m.positive_rate = std::accumulate(l.begin(), l.end(), 0.0) / p.size();
    m.auc = auc(p, l);
    m.logloss = logloss(p, l);
    out.push_back(m);
  }
  return out;
}

}  // namespace clickprompt::metrics
