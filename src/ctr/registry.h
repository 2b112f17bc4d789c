#pragma once
// String-keyed model registry. Adding a model: one file in ctr/models/ plus one
// line in registry.cpp (explicit, so a static library never drops a model).
#include <functional>
#include <string>
#include <vector>

#include "core/params.h"
#include "ctr/ctr_model.h"
#include "ctr/feature_info.h"

namespace clickprompt::ctr {

// Builds the model; every key of `params` must be consumed (typos are errors).
CtrModelPtr create_model(const std::string& name, const FeatureInfo& info, const core::Params& params);
std::vector<std::string> model_names();
bool has_model(const std::string& name);
// Throws Error naming the nearest known model when `name` is not registered.
void check_model_name(const std::string& name);

}  // namespace clickprompt::ctr
