#pragma once
// Test-split breakdowns beyond overall AUC: long-tail users/items (ClickPrompt's
// Table 6) and AUC by item-frequency bucket.
#include <nlohmann/json.hpp>
#include <vector>

#include "data/dataset.h"

namespace clickprompt::train {

// Frequency of each test row's user and item in the training split. A row is
// "long-tail" for users (items) when that frequency is at or below the
// `tail_quantile` quantile of the test rows' frequencies; the thresholds are
// reported. Needs the spec's user_field and item_field; returns null otherwise.
nlohmann::json long_tail_metrics(const data::Dataset& ds, const data::Split& split, const std::vector<float>& probs,
                                 double tail_quantile = 0.2);

}  // namespace clickprompt::train
