#pragma once
// Masked-language-model utilities: BERT-style token masking (as HF's
// DataCollatorForLanguageModeling: mask_prob of the non-special tokens are
// chosen; of those 80% become the mask token, 10% a random token, 10% stay)
// and the MLM loss computed only at the chosen positions.
#include <torch/torch.h>

#include <cstdint>

#include "plm/encoder.h"

namespace clickprompt::plm {

class Tokenizer;

struct MlmMaskingOptions {
  double mask_prob = 0.15;
  double mask_token_frac = 0.8;  // of the chosen tokens: replaced by the mask token
  double random_token_frac = 0.1;  // replaced by a random token; the rest keep their id
  int64_t ignore_index = -100;
};

struct MaskedTokens {
  torch::Tensor input_ids;  // [B, L] with replacements
  torch::Tensor labels;     // [B, L]: original id where chosen, ignore_index elsewhere
};

// `protect` [B, L] bool: true where a token must never be chosen (special
// tokens and padding). Random draws use `gen` (CPU); results are on the
// device of `input_ids`.
MaskedTokens mask_tokens(const torch::Tensor& input_ids, const torch::Tensor& protect, int64_t mask_id,
                         int64_t vocab_size, at::Generator& gen, const MlmMaskingOptions& opt = {});

// true where the id is one of the tokenizer's special tokens (pad included),
// or where attention_mask is 0 when given.
torch::Tensor special_tokens_mask(const torch::Tensor& input_ids, const Tokenizer& tok,
                                  const torch::Tensor& attention_mask = {});

// Mean cross-entropy over the positions whose label != ignore_index; the LM
// head runs only on those positions. Returns 0 (with grad) when none.
torch::Tensor mlm_loss(MaskedLm& model, const torch::Tensor& last_hidden, const torch::Tensor& labels,
                       int64_t ignore_index = -100);

// Unigram baseline: cross-entropy (nats) of predicting every label with the
// label frequency distribution itself; what an MLM must beat.
double unigram_entropy(const torch::Tensor& labels, int64_t vocab_size, int64_t ignore_index = -100);

}  // namespace clickprompt::plm
