#pragma once
// The ClickPrompt model (DESIGN.md, "The method in one page"): a CTR model, a
// prompt generator and a PLM joined by prompts.
//   PA-MLM:          loss = MLM(PLM(masked text | prompts(q)))      q = ctr.representation(ids)
//   fine-tune (PLM): y = sigmoid(a * ctr.logit(q) + (1 - a) * head(pool(PLM(text | prompts(q)))))
// q is computed once per step and serves both the prompts and y_ctr (the
// reference code runs the CTR backbone twice). The fine-tuning without the PLM
// keeps only `ctr` (see train/clickprompt_run.h).
#include <torch/torch.h>

#include "clickprompt/prompt_generator.h"
#include "core/params.h"
#include "ctr/ctr_model.h"
#include "plm/encoder.h"

namespace clickprompt::cp {

struct ClickPromptOptions {
  PromptOptions prompt;
  plm::Pooling pooling = plm::Pooling::Mean;
  double alpha = 0.5;        // weight of the CTR logit in the fused logit
  bool learn_alpha = false;  // learned: a = sigmoid(w), w initialised at logit(alpha)

  // A config's `clickprompt` section: num_prompts, fusion, generator,
  // generator_hidden, pooling, alpha, learn_alpha (unknown keys are errors).
  static ClickPromptOptions from(const core::Params& p);
};

// The fused logit and its two parts, each [B]: fused = a * ctr + (1 - a) * plm.
struct FusedLogits {
  torch::Tensor fused, ctr, plm;
};

// One tokenized batch of text views, on the model's device.
struct TextBatch {
  torch::Tensor input_ids;       // [B, L] int64
  torch::Tensor attention_mask;  // [B, L] int64
};

class ClickPromptModelImpl : public torch::nn::Module {
 public:
  // `plm` needs its MLM head for PA-MLM (mlm_loss); fine-tuning does not use it.
  ClickPromptModelImpl(ctr::CtrModelPtr ctr, plm::MaskedLm plm, const ClickPromptOptions& opt);

  // PA-MLM loss: the PLM predicts the masked tokens of `text` (labels: original
  // ids at masked positions, -100 elsewhere) with prompts from the ID view `ids`.
  torch::Tensor mlm_loss(const torch::Tensor& ids, const TextBatch& text, const torch::Tensor& labels);
  // Fused CTR logit [B] (fine-tuning with the PLM).
  torch::Tensor logit(const torch::Tensor& ids, const TextBatch& text) { return logits(ids, text).fused; }
  // The same with the CTR branch (y_ctr = ctr.logit(q)) and the PLM branch (y_plm).
  // prompt_ids (a diagnostic; undefined: ids): the prompts come from these rows'
  // ids instead, so y_plm sees its own text with another sample's prompts.
  FusedLogits logits(const torch::Tensor& ids, const TextBatch& text, const torch::Tensor& prompt_ids = {});
  // The PLM output for `text` with prompts from q (none when fusion is none).
  plm::EncoderOutput encode(const torch::Tensor& q, const TextBatch& text, bool all_hidden_states);
  // The same with the generator's output already at hand (prompts(q); undefined when fusion is none).
  plm::EncoderOutput encode_prompted(const torch::Tensor& prompts, const TextBatch& text, bool all_hidden_states);
  // The generator's output for q: layer-wise [B, L, 2, K, d], input [B, K, d].
  // Throws when fusion is none.
  torch::Tensor prompts(const torch::Tensor& q);
  // Current a.
  torch::Tensor alpha() const;

  ctr::CtrModel& ctr() { return *ctr_; }
  ctr::CtrModelPtr ctr_ptr() const { return ctr_; }
  plm::MaskedLm& plm() { return plm_; }
  const ClickPromptOptions& options() const { return opt_; }
  // Parameter groups by learning rate: the PLM's own vs everything else
  // (CTR model, generator, fusion head, alpha).
  std::vector<torch::Tensor> plm_parameters();
  std::vector<torch::Tensor> other_parameters();

 private:
  ClickPromptOptions opt_;
  ctr::CtrModelPtr ctr_;
  plm::MaskedLm plm_{nullptr};
  PromptGenerator generator_{nullptr};   // absent when fusion is none
  torch::nn::Sequential plm_head_{nullptr};  // Linear(d, d), tanh, Linear(d, 1)
  torch::Tensor alpha_;  // fixed: a buffer holding a; learned: the parameter w
};
TORCH_MODULE(ClickPromptModel);

// Names of the CTR model's parameters its representation() does not use (its
// output layer: `out.*`, FM's bias, FiGNN's scoring, ...), found by autograd on
// `ids` [B, F]. The fine-tuning without the PLM re-initialises exactly these.
std::vector<std::string> output_layer_parameters(ctr::CtrModel& model, const torch::Tensor& ids);

}  // namespace clickprompt::cp
