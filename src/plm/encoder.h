#pragma once
// BERT / RoBERTa encoder matching HuggingFace's BertModel / RobertaModel (eval
// forward, float32) and the *ForMaskedLM heads, with ClickPrompt's layer-wise
// prefix key/values and the input-layer prompt variant.
//
// Parameter names are HF's: `<prefix>.embeddings.word_embeddings.weight`,
// `<prefix>.encoder.layer.<i>.attention.self.query.weight`, ...; prefix is
// "roberta" or "bert"; heads are `lm_head.*` (RoBERTa) or `cls.predictions.*`
// (BERT). So `named_parameters()` keys are checkpoint keys.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/dropout.h"
#include "plm/hf_config.h"

namespace clickprompt::plm {

// Per-layer prefix keys and values, each [B, heads, K, head_dim] (HF
// past_key_values layout). Layer l's keys/values are prepended to its attention
// keys/values; the attention mask gets K leading ones.
struct PrefixKV {
  std::vector<torch::Tensor> keys;
  std::vector<torch::Tensor> values;

  int64_t length() const { return keys.empty() ? 0 : keys[0].size(2); }
  bool empty() const { return keys.empty(); }
  // ClickPrompt's layout: prompts [B, K, 2*N*H] viewed as [B, K, 2N, heads, hd];
  // layer l takes slot 2l as keys and 2l+1 as values.
  static PrefixKV from_prompts(const torch::Tensor& prompts, int64_t num_layers, int64_t num_heads);
  // Layer-wise layout [B, N, 2, K, H] (the generator's [L, 2, K, d] per sample).
  static PrefixKV from_layerwise(const torch::Tensor& kv, int64_t num_heads);
};

struct EncoderInput {
  torch::Tensor input_ids;       // [B, L] int64
  torch::Tensor attention_mask;  // [B, L] (1 real, 0 pad); undefined: all ones
  torch::Tensor token_type_ids;  // [B, L]; undefined: zeros
  torch::Tensor position_ids;    // [B, L]; undefined: HF rule (see below)
  const PrefixKV* prefix = nullptr;  // layer-wise prefix (ClickPrompt "prefix" fusion)
  torch::Tensor input_prompts;   // [B, K, H]: prepended to the input embeddings (input-layer variant)
  bool output_hidden_states = true;
};

struct EncoderOutput {
  torch::Tensor last_hidden_state;           // [B, L, H] (text positions only)
  std::vector<torch::Tensor> hidden_states;  // N+1 tensors [B, L, H]: embeddings, then every layer
  torch::Tensor position_ids;                // [B, L] the ids fed to position_embeddings
  torch::Tensor attention_mask;              // [B, L] the text mask (for pooling)
};

// Additive attention bias [B, 1, 1, S] for a key mask [B, S] (1 attend, 0 padding).
torch::Tensor attention_bias(const torch::Tensor& key_mask);

// One layer's self-attention before dropout: keys and values [B, heads, K+L, hd]
// (the K prefix slots first), probabilities [B, heads, L, K+L].
struct LayerAttention {
  torch::Tensor keys, values, probs;
};

// Position ids HF uses with `past_length` cached/prefix positions:
// RoBERTa: (cumsum(ids != pad) + past) * (ids != pad) + pad; BERT: arange(past, past + L).
torch::Tensor make_position_ids(const HfConfig& cfg, const torch::Tensor& input_ids, int64_t past_length);

struct EmbeddingsImpl : torch::nn::Module {
  explicit EmbeddingsImpl(const HfConfig& cfg);
  // `inputs_embeds` [B, L, H] replaces the word-embedding lookup.
  torch::Tensor forward(const torch::Tensor& inputs_embeds, const torch::Tensor& position_ids,
                        const torch::Tensor& token_type_ids);
  torch::nn::Embedding word_embeddings_{nullptr}, position_embeddings_{nullptr}, token_type_embeddings_{nullptr};
  torch::nn::LayerNorm layer_norm_{nullptr};
  core::Dropout dropout_{nullptr};
};
TORCH_MODULE(Embeddings);

struct TransformerLayerImpl : torch::nn::Module {
  explicit TransformerLayerImpl(const HfConfig& cfg);
  // mask_bias [B, 1, 1, K+L]; prefix_k/v [B, heads, K, hd] or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask_bias, const torch::Tensor& prefix_k,
                        const torch::Tensor& prefix_v);
  // The attention part of forward (x [B, L, H]), for diagnostics (clickprompt inspect).
  LayerAttention attention(const torch::Tensor& x, const torch::Tensor& mask_bias, const torch::Tensor& prefix_k,
                           const torch::Tensor& prefix_v);
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, attn_out_{nullptr}, inter_{nullptr}, out_{nullptr};
  torch::nn::LayerNorm attn_ln_{nullptr}, out_ln_{nullptr};
  core::Dropout attn_dropout_{nullptr}, hidden_dropout_{nullptr};
  int64_t heads_, head_dim_;
  std::string act_;
};
TORCH_MODULE(TransformerLayer);

// The base model (BertModel / RobertaModel without pooler).
struct EncoderImpl : torch::nn::Module {
  explicit EncoderImpl(const HfConfig& cfg);
  EncoderOutput forward(const EncoderInput& in);
  const HfConfig& config() const { return cfg_; }
  torch::Tensor word_embedding_weight() const { return embeddings_->word_embeddings_->weight; }

  HfConfig cfg_;
  Embeddings embeddings_{nullptr};
  torch::nn::ModuleList layers_{nullptr};  // registered as encoder.layer
};
TORCH_MODULE(Encoder);

// MLM head: dense -> activation -> LayerNorm -> decoder (tied to the word
// embeddings unless cfg.tie_word_embeddings is false) + bias.
struct MlmHeadImpl : torch::nn::Module {
  explicit MlmHeadImpl(const HfConfig& cfg);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& tied_weight);
  torch::nn::Linear dense_{nullptr};
  torch::nn::LayerNorm layer_norm_{nullptr};
  torch::nn::Linear decoder_{nullptr};  // only when untied (weight only; the bias is `bias`)
  torch::Tensor bias_;
  std::string act_;
};
TORCH_MODULE(MlmHead);

// *ForMaskedLM: base model under "roberta"/"bert" + head under "lm_head" /
// "cls.predictions". Without the head (with_head=false) it is a base model
// that still loads *ForMaskedLM checkpoints (the head's tensors are skipped).
struct MaskedLmImpl : torch::nn::Module {
  explicit MaskedLmImpl(const HfConfig& cfg, bool with_head = true);
  EncoderOutput encode(const EncoderInput& in) { return encoder_->forward(in); }
  // [..., H] -> [..., V]. Throws when built without a head.
  torch::Tensor mlm_logits(const torch::Tensor& hidden);
  // Logits at `positions` [B, P] of hidden [B, L, H] -> [B, P, V].
  torch::Tensor mlm_logits_at(const torch::Tensor& hidden, const torch::Tensor& positions);
  const HfConfig& config() const { return encoder_->cfg_; }
  bool has_head() const { return !head_.is_empty(); }

  Encoder encoder_{nullptr};
  MlmHead head_{nullptr};
};
TORCH_MODULE(MaskedLm);

// Sequence pooling (SimCSE / ClickPrompt pooler names).
enum class Pooling {
  Cls,            // "cls": hidden state of the first token
  Mean,           // "avg": masked mean of the last layer
  FirstLastMean,  // "avg_first_last": masked mean of (hidden_states[0] + last) / 2 (as SimCSE)
  TopTwoMean      // "avg_top2": masked mean of the last two layers
};
Pooling parse_pooling(const std::string& name);
std::string pooling_name(Pooling p);
// `mask` [B, L] is the text attention mask (prefix slots excluded).
torch::Tensor pool(const EncoderOutput& out, const torch::Tensor& mask, Pooling p);

// Tensors of a tokenized batch on `device`: {input_ids, attention_mask}, int64.
struct EncodedBatch;
std::pair<torch::Tensor, torch::Tensor> to_tensors(const EncodedBatch& batch, const torch::Device& device);

// FLOPs of one forward over B x L tokens (matmuls only), for benchmarks.
double forward_flops(const HfConfig& cfg, int64_t batch, int64_t length, int64_t prefix_length = 0);

}  // namespace clickprompt::plm
