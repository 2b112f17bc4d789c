#include "ctr/layers/mlp.h"

#include "core/dropout.h"
#include "core/error.h"
#include "core/precision.h"
#include "core/runtime.h"
#include "core/strings.h"

namespace clickprompt::ctr {

MlpOptions MlpOptions::from(const core::Params& p, const std::string& prefix, std::vector<int64_t> default_units) {
  MlpOptions o;
  o.hidden_units = p.get<std::vector<int64_t>>(prefix + "_hidden_units", default_units);
  o.activation = p.get<std::string>(prefix + "_activation", "relu");
  o.dropout = p.get_number("net_dropout", 0.0, core::Params::Range::unit_open);
  o.batch_norm = p.get<bool>("batch_norm", false);
  for (auto u : o.hidden_units)
    if (u <= 0) throw Error(p.context() + "." + prefix + "_hidden_units: every layer needs a positive width");
  if (o.dropout < 0 || o.dropout >= 1) throw Error(p.context() + ".net_dropout must be in [0, 1)");
  return o;
}

torch::nn::AnyModule make_activation(const std::string& name) {
  if (name == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (name == "sigmoid") return torch::nn::AnyModule(torch::nn::Sigmoid());
  if (name == "leaky_relu") return torch::nn::AnyModule(torch::nn::LeakyReLU());
  if (name == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  if (name == "linear" || name == "identity") return torch::nn::AnyModule(torch::nn::Identity());
  throw Error("unknown activation '" + name + "' (" +
              core::suggest(name, {"relu", "tanh", "sigmoid", "leaky_relu", "gelu", "linear"}) + ")");
}

MlpImpl::MlpImpl(int64_t input_dim, const MlpOptions& opt) {
  net_ = register_module("net", torch::nn::Sequential());
  int64_t d = input_dim;
  for (auto units : opt.hidden_units) {
    core::check_memory(16.0 * static_cast<double>(d) * static_cast<double>(units),
                       "an MLP layer of " + std::to_string(d) + " x " + std::to_string(units) +
                           " (with its gradient and Adam state)");
    net_->push_back(torch::nn::Linear(d, units));
    if (opt.batch_norm) net_->push_back(torch::nn::BatchNorm1d(units));
    net_->push_back(make_activation(opt.activation));
    if (opt.dropout > 0) net_->push_back(core::Dropout(opt.dropout));
    d = units;
  }
  output_dim_ = d;
}

torch::Tensor MlpImpl::forward(torch::Tensor x) {
  if (net_->size() == 0) return x;
  // Under autocast the whole tower runs in its dtype (no casts around each activation).
  return net_->forward(core::to_autocast_dtype(x));
}

}  // namespace clickprompt::ctr
