#include "plm/mlm.h"

#include <cmath>

#include "core/error.h"
#include "plm/tokenizer/tokenizer.h"

namespace clickprompt::plm {

MaskedTokens mask_tokens(const torch::Tensor& input_ids, const torch::Tensor& protect, int64_t mask_id,
                         int64_t vocab_size, at::Generator& gen, const MlmMaskingOptions& opt) {
  if (opt.mask_prob < 0 || opt.mask_prob > 1 || opt.mask_token_frac < 0 || opt.random_token_frac < 0 ||
      opt.mask_token_frac + opt.random_token_frac > 1)
    throw Error("MLM masking: need 0 <= mask_prob <= 1 and mask_token_frac + random_token_frac <= 1");
  if (protect.sizes() != input_ids.sizes()) throw Error("MLM masking: protect mask does not match input_ids");
  auto dev = input_ids.device();
  auto ids = input_ids.to(torch::kCPU, torch::kLong);
  auto prot = protect.to(torch::kCPU).to(torch::kBool);
  auto fopt = torch::TensorOptions().dtype(torch::kFloat);
  auto probs = torch::full(ids.sizes(), opt.mask_prob, fopt).masked_fill(prot, 0.0);
  auto chosen = torch::bernoulli(probs, gen).to(torch::kBool);
  auto labels = ids.masked_fill(chosen.logical_not(), opt.ignore_index);
  auto replaced = torch::bernoulli(torch::full(ids.sizes(), opt.mask_token_frac, fopt), gen).to(torch::kBool) & chosen;
  double rest = 1.0 - opt.mask_token_frac;
  double random_frac = rest > 0 ? opt.random_token_frac / rest : 0.0;
  auto randomized =
      torch::bernoulli(torch::full(ids.sizes(), random_frac, fopt), gen).to(torch::kBool) & chosen & replaced.logical_not();
  auto random_words = torch::randint(vocab_size, ids.sizes(), gen, torch::TensorOptions().dtype(torch::kLong));
  auto out = ids.masked_fill(replaced, mask_id);
  out = torch::where(randomized, random_words, out);
  return {out.to(dev), labels.to(dev)};
}

torch::Tensor special_tokens_mask(const torch::Tensor& input_ids, const Tokenizer& tok,
                                  const torch::Tensor& attention_mask) {
  auto ids = input_ids.to(torch::kCPU, torch::kLong).contiguous();
  auto out = torch::zeros(ids.sizes(), torch::TensorOptions().dtype(torch::kBool));
  const int64_t* p = ids.data_ptr<int64_t>();
  bool* o = out.data_ptr<bool>();
  for (int64_t i = 0; i < ids.numel(); ++i) o[i] = tok.is_special_id(p[i]);
  if (attention_mask.defined()) out = out | attention_mask.to(torch::kCPU).eq(0);
  return out.to(input_ids.device());
}

torch::Tensor mlm_loss(MaskedLm& model, const torch::Tensor& last_hidden, const torch::Tensor& labels,
                       int64_t ignore_index) {
  auto sel = labels.ne(ignore_index);
  auto hidden = last_hidden.index({sel});  // [M, H]
  if (hidden.size(0) == 0) return (last_hidden.sum() * 0.0).to(torch::kFloat);
  auto logits = model->mlm_logits(hidden).to(torch::kFloat);
  return torch::nn::functional::cross_entropy(logits, labels.index({sel}));
}

double unigram_entropy(const torch::Tensor& labels, int64_t vocab_size, int64_t ignore_index) {
  auto l = labels.to(torch::kCPU).flatten();
  l = l.index({l.ne(ignore_index)});
  if (l.numel() == 0) return 0.0;
  auto counts = torch::bincount(l, {}, vocab_size).to(torch::kDouble);
  auto p = counts / counts.sum();
  auto nz = p.index({p.gt(0)});
  return -(nz * nz.log()).sum().item<double>();
}

}  // namespace clickprompt::plm
