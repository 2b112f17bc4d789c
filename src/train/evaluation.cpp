#include "train/evaluation.h"

#include <algorithm>
#include <cmath>

#include "metrics/metrics.h"
#include "train/trainer.h"

namespace clickprompt::train {

namespace {
// Train frequency of the value each row of `split` has in field f (its first
// value, for a multi-valued field).
std::vector<int64_t> train_frequency(const data::Dataset& ds, const data::Split& split, int f) {
  const int slot = ds.encoder.slot_offset(f);
  auto counts = torch::bincount(ds.train.ids.select(1, slot).to(torch::kInt64), {}, ds.encoder.total_size());
  auto ids = split.ids.select(1, slot).to(torch::kInt64).contiguous();
  auto per_row = counts.index_select(0, ids).contiguous();
  // The OOV id pools unseen values: they are never seen in train.
  auto oov = ids.eq(ds.encoder.oov_id(f));
  per_row.masked_fill_(oov, 0);
  return std::vector<int64_t>(per_row.data_ptr<int64_t>(), per_row.data_ptr<int64_t>() + per_row.numel());
}

int64_t quantile(std::vector<int64_t> v, double q) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

nlohmann::json to_json(const std::vector<metrics::GroupMetrics>& gs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& g : gs)
    out.push_back({{"group", g.group},
                   {"samples", g.samples},
                   {"positive_rate", g.positive_rate},
                   {"auc", std::isnan(g.auc) ? nlohmann::json() : nlohmann::json(g.auc)},
                   {"logloss", g.logloss}});
  return out;
}
}  // namespace

nlohmann::json long_tail_metrics(const data::Dataset& ds, const data::Split& split, const std::vector<float>& probs,
                                 double tail_quantile) {
  int uf = ds.spec.field_index(ds.spec.user_field), itf = ds.spec.field_index(ds.spec.item_field);
  if (uf < 0 || itf < 0) return nullptr;
  auto ufreq = train_frequency(ds, split, uf), ifreq = train_frequency(ds, split, itf);
  int64_t ut = quantile(ufreq, tail_quantile), it = quantile(ifreq, tail_quantile);
  auto labels = to_float_vector(split.labels);
  std::vector<std::string> group(labels.size()), bucket(labels.size()), user_bucket(labels.size()),
      item_group(labels.size()), user_group(labels.size());
  // Buckets of train frequency: 0, 1, 2-3, 4-7, ..., as [lo, hi].
  auto bucket_of = [](int64_t f) {
    int64_t lo = f == 0 ? 0 : (int64_t{1} << static_cast<int>(std::floor(std::log2(static_cast<double>(f)))));
    int64_t hi = f == 0 ? 0 : 2 * lo - 1;
    return "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  };
  for (size_t r = 0; r < labels.size(); ++r) {
    user_group[r] = ufreq[r] <= ut ? "tail user" : "head user";
    item_group[r] = ifreq[r] <= it ? "tail item" : "head item";
    group[r] = user_group[r] + " / " + item_group[r];
    bucket[r] = bucket_of(ifreq[r]);
    user_bucket[r] = bucket_of(ufreq[r]);
  }
  auto groups = metrics::grouped(probs, labels, group);
  std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.group < b.group; });
  auto by_name = [](std::vector<metrics::GroupMetrics> g) {
    std::sort(g.begin(), g.end(), [](const auto& a, const auto& b) { return a.group < b.group; });
    return g;
  };
  auto by_bucket = [&](const std::vector<std::string>& b) {
    auto g = metrics::grouped(probs, labels, b);
    std::sort(g.begin(), g.end(),
              [](const auto& x, const auto& y) { return std::stoll(x.group.substr(1)) < std::stoll(y.group.substr(1)); });
    return g;
  };
  return {{"tail_quantile", tail_quantile},
          {"user_threshold", ut},
          {"item_threshold", it},
          {"definition", "tail = train frequency <= threshold (the tail_quantile quantile over test rows)"},
          {"groups", to_json(groups)},
          {"users", to_json(by_name(metrics::grouped(probs, labels, user_group)))},
          {"items", to_json(by_name(metrics::grouped(probs, labels, item_group)))},
          {"item_frequency_buckets", to_json(by_bucket(bucket))},
          {"user_frequency_buckets", to_json(by_bucket(user_bucket))}};
}

}  // namespace clickprompt::train
