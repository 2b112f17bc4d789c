#include "clickprompt/clickprompt_model.h"

#include <cmath>
#include <set>

#include "core/error.h"
#include "plm/mlm.h"

namespace clickprompt::cp {

ClickPromptOptions ClickPromptOptions::from(const core::Params& p) {
  ClickPromptOptions o;
  o.prompt.num_prompts = p.get<int64_t>("num_prompts", 5);
  o.prompt.fusion = parse_fusion(p.get<std::string>("fusion", "layerwise"));
  o.prompt.generator = p.get<std::string>("generator", "shared");
  o.prompt.hidden = p.get<int64_t>("generator_hidden", 0);
  o.pooling = plm::parse_pooling(p.get<std::string>("pooling", "avg"));
  o.alpha = p.get_number("alpha", 0.5, core::Params::Range::unit);
  o.learn_alpha = p.get<bool>("learn_alpha", false);
  p.check_unused();
  return o;
}

ClickPromptModelImpl::ClickPromptModelImpl(ctr::CtrModelPtr ctr, plm::MaskedLm plm, const ClickPromptOptions& opt)
    : opt_(opt), ctr_(std::move(ctr)), plm_(std::move(plm)) {
  const auto& cfg = plm_->config();
  register_module("ctr", ctr_);
  register_module("plm", plm_);
  if (opt.prompt.fusion != Fusion::None)
    generator_ = register_module(
        "generator", PromptGenerator(ctr_->representation_dim(), cfg.num_hidden_layers, cfg.hidden_size, opt.prompt));
  const int64_t d = cfg.hidden_size;
  plm_head_ = register_module("plm_head", torch::nn::Sequential(torch::nn::Linear(d, d), torch::nn::Tanh(),
                                                                torch::nn::Linear(d, 1)));
  if (!(opt.alpha >= 0 && opt.alpha <= 1)) throw Error("clickprompt: alpha must be in [0, 1], got " + std::to_string(opt.alpha));
  if (opt.learn_alpha) {
    double a = std::min(std::max(opt.alpha, 1e-4), 1 - 1e-4);
    alpha_ = register_parameter("alpha", torch::full({}, std::log(a / (1 - a))));
  } else {
    alpha_ = register_buffer("alpha", torch::full({}, opt.alpha));
  }
}

torch::Tensor ClickPromptModelImpl::alpha() const { return opt_.learn_alpha ? torch::sigmoid(alpha_) : alpha_; }

torch::Tensor ClickPromptModelImpl::prompts(const torch::Tensor& q) {
  if (generator_.is_empty()) throw Error("this ClickPrompt model has no prompts (fusion none)");
  return generator_->forward(q);
}

plm::EncoderOutput ClickPromptModelImpl::encode(const torch::Tensor& q, const TextBatch& text, bool all_hidden_states) {
  return encode_prompted(opt_.prompt.fusion == Fusion::None ? torch::Tensor() : prompts(q), text, all_hidden_states);
}

plm::EncoderOutput ClickPromptModelImpl::encode_prompted(const torch::Tensor& prompts, const TextBatch& text,
                                                         bool all_hidden_states) {
  plm::EncoderInput in;
  in.input_ids = text.input_ids;
  in.attention_mask = text.attention_mask;
  in.output_hidden_states = all_hidden_states;
  plm::PrefixKV prefix;
  if (opt_.prompt.fusion == Fusion::Layerwise) {
    prefix = plm::PrefixKV::from_layerwise(prompts, plm_->config().num_attention_heads);
    in.prefix = &prefix;
  } else if (opt_.prompt.fusion == Fusion::Input) {
    in.input_prompts = prompts;
  }
  return plm_->encode(in);
}

torch::Tensor ClickPromptModelImpl::mlm_loss(const torch::Tensor& ids, const TextBatch& text, const torch::Tensor& labels) {
  auto q = ctr_->representation(ids);
  return plm::mlm_loss(plm_, encode(q, text, false).last_hidden_state, labels);
}

FusedLogits ClickPromptModelImpl::logits(const torch::Tensor& ids, const TextBatch& text, const torch::Tensor& prompt_ids) {
  auto q = ctr_->representation(ids);
  const bool all = opt_.pooling == plm::Pooling::FirstLastMean || opt_.pooling == plm::Pooling::TopTwoMean;
  auto out = encode(prompt_ids.defined() ? ctr_->representation(prompt_ids) : q, text, all);
  auto y_plm = plm_head_->forward(plm::pool(out, text.attention_mask, opt_.pooling)).squeeze(1);
  auto y_ctr = ctr_->logit(q);
  auto a = alpha();
  y_ctr = y_ctr.to(y_plm.scalar_type());
  return {a * y_ctr + (1 - a) * y_plm, y_ctr, y_plm};
}

namespace {
std::vector<torch::Tensor> params_where(torch::nn::Module& m, bool plm) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.named_parameters())
    if ((p.key().rfind("plm.", 0) == 0) == plm) out.push_back(p.value());
  return out;
}
}  // namespace

std::vector<torch::Tensor> ClickPromptModelImpl::plm_parameters() { return params_where(*this, true); }
std::vector<torch::Tensor> ClickPromptModelImpl::other_parameters() { return params_where(*this, false); }

std::vector<std::string> output_layer_parameters(ctr::CtrModel& model, const torch::Tensor& ids) {
  auto params = model.named_parameters();
  std::vector<torch::Tensor> ps;
  for (const auto& p : params) ps.push_back(p.value());
  auto q = model.representation(ids);
  auto grads = torch::autograd::grad({q.sum()}, ps, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                     /*allow_unused=*/true);
  std::vector<std::string> out;
  for (size_t i = 0; i < ps.size(); ++i)
    if (!grads[i].defined()) out.push_back(params[i].key());
  return out;
}

}  // namespace clickprompt::cp
