#include "plm/encoder.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "plm/tokenizer/tokenizer.h"

namespace clickprompt::plm {

namespace {

std::string shape_str(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

torch::Tensor activation(const std::string& act, const torch::Tensor& x) {
  if (act == "gelu") return torch::gelu(x);
  if (act == "gelu_new" || act == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (act == "relu") return torch::relu(x);
  throw Error("unsupported activation '" + act + "'");
}

// A plain container module, only there to give parameters HF's dotted names.
std::shared_ptr<torch::nn::Module> scope(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

// LayerNorm in its weights' dtype: under CPU autocast LibTorch 1.13 does not
// cast layer_norm inputs, and a bf16 input with float32 weights is an error.
torch::Tensor ln(torch::nn::LayerNorm& m, const torch::Tensor& x) {
  auto t = m->weight.scalar_type();
  return m(x.scalar_type() == t ? x : x.to(t));
}

torch::nn::LayerNorm layer_norm(const HfConfig& cfg) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({cfg.hidden_size}).eps(cfg.layer_norm_eps));
}

}  // namespace

// ---------------------------------------------------------------- prefixes

PrefixKV PrefixKV::from_prompts(const torch::Tensor& prompts, int64_t num_layers, int64_t num_heads) {
  if (!prompts.defined() || prompts.dim() != 3 || prompts.size(2) % (2 * num_layers * num_heads) != 0)
    throw Error("prefix prompts must be [B, K, 2*layers*hidden] with layers=" + std::to_string(num_layers) +
                ", heads=" + std::to_string(num_heads) + "; got " + shape_str(prompts));
  int64_t B = prompts.size(0), K = prompts.size(1);
  int64_t hd = prompts.size(2) / (2 * num_layers * num_heads);
  // [B, K, 2N, nh, hd] -> [2N, B, nh, K, hd]
  auto kv = prompts.reshape({B, K, 2 * num_layers, num_heads, hd}).permute({2, 0, 3, 1, 4});
  PrefixKV p;
  for (int64_t l = 0; l < num_layers; ++l) {
    p.keys.push_back(kv[2 * l]);
    p.values.push_back(kv[2 * l + 1]);
  }
  return p;
}

PrefixKV PrefixKV::from_layerwise(const torch::Tensor& kv, int64_t num_heads) {
  if (!kv.defined() || kv.dim() != 5 || kv.size(2) != 2 || kv.size(4) % num_heads != 0)
    throw Error("layer-wise prefix must be [B, layers, 2, K, hidden] (hidden divisible by heads=" +
                std::to_string(num_heads) + "); got " + shape_str(kv));
  int64_t B = kv.size(0), N = kv.size(1), K = kv.size(3), H = kv.size(4);
  auto t = kv.reshape({B, N, 2, K, num_heads, H / num_heads}).permute({1, 2, 0, 4, 3, 5});  // [N,2,B,nh,K,hd]
  PrefixKV p;
  for (int64_t l = 0; l < N; ++l) {
    p.keys.push_back(t[l][0]);
    p.values.push_back(t[l][1]);
  }
  return p;
}

torch::Tensor make_position_ids(const HfConfig& cfg, const torch::Tensor& input_ids, int64_t past_length) {
  if (cfg.is_roberta()) {
    auto mask = input_ids.ne(cfg.pad_token_id).to(torch::kInt);
    auto incremental = (torch::cumsum(mask, 1).to(torch::kInt) + static_cast<int>(past_length)) * mask;
    return incremental.to(torch::kLong) + cfg.pad_token_id;
  }
  int64_t L = input_ids.size(1);
  return torch::arange(past_length, past_length + L, input_ids.options().dtype(torch::kLong))
      .unsqueeze(0)
      .expand({input_ids.size(0), L});
}

// ---------------------------------------------------------------- modules

EmbeddingsImpl::EmbeddingsImpl(const HfConfig& cfg) {
  word_embeddings_ = register_module(
      "word_embeddings",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(cfg.vocab_size, cfg.hidden_size).padding_idx(cfg.pad_token_id)));
  auto pos_opt = torch::nn::EmbeddingOptions(cfg.max_position_embeddings, cfg.hidden_size);
  if (cfg.is_roberta() && cfg.pad_token_id < cfg.max_position_embeddings) pos_opt.padding_idx(cfg.pad_token_id);
  position_embeddings_ = register_module("position_embeddings", torch::nn::Embedding(pos_opt));
  token_type_embeddings_ = register_module(
      "token_type_embeddings", torch::nn::Embedding(torch::nn::EmbeddingOptions(cfg.type_vocab_size, cfg.hidden_size)));
  layer_norm_ = register_module("LayerNorm", layer_norm(cfg));
  dropout_ = register_module("dropout", core::Dropout(cfg.hidden_dropout_prob));
}

torch::Tensor EmbeddingsImpl::forward(const torch::Tensor& inputs_embeds, const torch::Tensor& position_ids,
                                      const torch::Tensor& token_type_ids) {
  auto x = inputs_embeds + token_type_embeddings_(token_type_ids);
  x = x + position_embeddings_(position_ids);
  return dropout_(ln(layer_norm_, x));
}

TransformerLayerImpl::TransformerLayerImpl(const HfConfig& cfg)
    : heads_(cfg.num_attention_heads), head_dim_(cfg.head_dim()), act_(cfg.hidden_act) {
  int64_t H = cfg.hidden_size, F = cfg.intermediate_size;
  auto attention = scope(*this, "attention");
  auto self = scope(*attention, "self");
  query_ = self->register_module("query", torch::nn::Linear(H, H));
  key_ = self->register_module("key", torch::nn::Linear(H, H));
  value_ = self->register_module("value", torch::nn::Linear(H, H));
  auto attn_output = scope(*attention, "output");
  attn_out_ = attn_output->register_module("dense", torch::nn::Linear(H, H));
  attn_ln_ = attn_output->register_module("LayerNorm", layer_norm(cfg));
  auto intermediate = scope(*this, "intermediate");
  inter_ = intermediate->register_module("dense", torch::nn::Linear(H, F));
  auto output = scope(*this, "output");
  out_ = output->register_module("dense", torch::nn::Linear(F, H));
  out_ln_ = output->register_module("LayerNorm", layer_norm(cfg));
  attn_dropout_ = register_module("attn_dropout", core::Dropout(cfg.attention_probs_dropout_prob));
  hidden_dropout_ = register_module("hidden_dropout", core::Dropout(cfg.hidden_dropout_prob));
}

torch::Tensor attention_bias(const torch::Tensor& key_mask) {
  auto bias = (1.0 - key_mask.to(torch::kFloat)) * std::numeric_limits<float>::lowest();
  return bias.view({key_mask.size(0), 1, 1, key_mask.size(1)});
}

LayerAttention TransformerLayerImpl::attention(const torch::Tensor& x, const torch::Tensor& mask_bias,
                                               const torch::Tensor& prefix_k, const torch::Tensor& prefix_v) {
  const int64_t B = x.size(0), L = x.size(1), H = heads_ * head_dim_;
  // Token-major 2-D activations: every projection is one addmm with the bias
  // fused (a 3-D linear is matmul + a separate bias add, slow under bf16), and
  // q, k, v come from one GEMM (one autocast cast of the input instead of three).
  auto x2 = x.reshape({B * L, H});
  auto w = torch::cat({query_->weight, key_->weight, value_->weight}, 0);
  auto b = torch::cat({query_->bias, key_->bias, value_->bias}, 0);
  auto qkv = torch::linear(x2, w, b).view({B, L, 3, heads_, head_dim_});
  auto q = qkv.select(2, 0).transpose(1, 2);  // [B, heads, L, hd]
  auto k = qkv.select(2, 1).transpose(1, 2);
  auto v = qkv.select(2, 2).transpose(1, 2);
  if (prefix_k.defined()) {
    k = torch::cat({prefix_k.to(k.scalar_type()), k}, 2);
    v = torch::cat({prefix_v.to(v.scalar_type()), v}, 2);
  }
  auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(head_dim_));
  scores = scores + mask_bias;
  return {k, v, torch::softmax(scores, -1)};
}

torch::Tensor TransformerLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& mask_bias,
                                            const torch::Tensor& prefix_k, const torch::Tensor& prefix_v) {
  const int64_t B = x.size(0), L = x.size(1), H = heads_ * head_dim_;
  auto att = attention(x, mask_bias, prefix_k, prefix_v);
  auto probs = attn_dropout_(att.probs);
  auto ctx = torch::matmul(probs.to(att.values.scalar_type()), att.values).transpose(1, 2).reshape({B * L, H});
  auto x2 = x.reshape({B * L, H});
  auto a = ln(attn_ln_, hidden_dropout_(attn_out_(ctx)) + x2);
  auto h = activation(act_, inter_(a));
  return ln(out_ln_, hidden_dropout_(out_(h)) + a).view({B, L, H});
}

EncoderImpl::EncoderImpl(const HfConfig& cfg) : cfg_(cfg) {
  cfg_.validate();
  embeddings_ = register_module("embeddings", Embeddings(cfg_));
  auto encoder = scope(*this, "encoder");
  layers_ = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < cfg_.num_hidden_layers; ++i) layers_->push_back(TransformerLayer(cfg_));
}

EncoderOutput EncoderImpl::forward(const EncoderInput& in) {
  const auto& ids_in = in.input_ids;
  if (!ids_in.defined() || ids_in.dim() != 2)
    throw Error("encoder: input_ids must be [batch, length], got " + shape_str(ids_in));
  auto ids = ids_in.to(torch::kLong);
  int64_t B = ids.size(0), L = ids.size(1);
  auto dev = ids.device();
  auto long_opt = torch::TensorOptions().dtype(torch::kLong).device(dev);
  auto mask = in.attention_mask.defined() ? in.attention_mask.to(torch::kLong) : torch::ones({B, L}, long_opt);
  if (mask.sizes() != ids.sizes())
    throw Error("encoder: attention_mask " + shape_str(mask) + " does not match input_ids " + shape_str(ids));
  auto types = in.token_type_ids.defined() ? in.token_type_ids.to(torch::kLong) : torch::zeros({B, L}, long_opt);
  if (types.sizes() != ids.sizes())
    throw Error("encoder: token_type_ids " + shape_str(types) + " does not match input_ids " + shape_str(ids));

  const int64_t N = cfg_.num_hidden_layers, nh = cfg_.num_attention_heads, hd = cfg_.head_dim();
  int64_t K = 0;
  if (in.prefix && !in.prefix->empty()) {
    const auto& p = *in.prefix;
    if (static_cast<int64_t>(p.keys.size()) != N || static_cast<int64_t>(p.values.size()) != N)
      throw Error("encoder: prefix has " + std::to_string(p.keys.size()) + " layers of keys and " +
                  std::to_string(p.values.size()) + " of values; the model has " + std::to_string(N));
    K = p.length();
    for (int64_t l = 0; l < N; ++l)
      for (const auto* t : {&p.keys[static_cast<size_t>(l)], &p.values[static_cast<size_t>(l)]})
        if (t->dim() != 4 || t->size(0) != B || t->size(1) != nh || t->size(2) != K || t->size(3) != hd)
          throw Error("encoder: prefix layer " + std::to_string(l) + " is " + shape_str(*t) + ", expected [" +
                      std::to_string(B) + ", " + std::to_string(nh) + ", " + std::to_string(K) + ", " +
                      std::to_string(hd) + "]");
  }
  int64_t Kp = 0;
  if (in.input_prompts.defined()) {
    const auto& pr = in.input_prompts;
    if (pr.dim() != 3 || pr.size(0) != B || pr.size(2) != cfg_.hidden_size)
      throw Error("encoder: input_prompts must be [" + std::to_string(B) + ", K, " + std::to_string(cfg_.hidden_size) +
                  "], got " + shape_str(pr));
    Kp = pr.size(1);
  }
  int64_t needed = K + Kp + L + (cfg_.is_roberta() ? cfg_.pad_token_id + 1 : 0);
  if (!in.position_ids.defined() && needed > cfg_.max_position_embeddings)
    throw Error("encoder: sequence of " + std::to_string(L) + " tokens + " + std::to_string(K + Kp) +
                " prompt slots needs " + std::to_string(needed) + " positions; the model has " +
                std::to_string(cfg_.max_position_embeddings) + " (truncate the text or shorten the prompt)");

  auto embeds = embeddings_->word_embeddings_(ids);
  torch::Tensor positions, full_types, text_mask = mask;
  auto ext_mask = mask;
  if (Kp > 0) {
    embeds = torch::cat({in.input_prompts.to(embeds.scalar_type()), embeds}, 1);
    auto ones = torch::ones({B, Kp}, long_opt);
    ext_mask = torch::cat({ones, mask}, 1);
    full_types = torch::cat({torch::zeros({B, Kp}, long_opt), types}, 1);
    if (in.position_ids.defined()) {
      positions = in.position_ids.to(torch::kLong);
    } else if (cfg_.is_roberta()) {
      // Prompt slots count as real tokens: positions pad+1+K .. for them, then the text.
      auto nonpad = torch::cat({ones, ids.ne(cfg_.pad_token_id).to(torch::kLong)}, 1);
      positions = (torch::cumsum(nonpad, 1) + K) * nonpad + cfg_.pad_token_id;
    } else {
      positions = torch::arange(K, K + Kp + L, long_opt).unsqueeze(0).expand({B, Kp + L});
    }
  } else {
    full_types = types;
    positions = in.position_ids.defined() ? in.position_ids.to(torch::kLong) : make_position_ids(cfg_, ids, K);
  }
  if (positions.size(0) != B || positions.size(1) != Kp + L)
    throw Error("encoder: position_ids " + shape_str(positions) + " do not match the input " +
                std::to_string(B) + " x " + std::to_string(Kp + L));

  auto x = embeddings_->forward(embeds, positions, full_types);
  auto full_mask = K > 0 ? torch::cat({torch::ones({B, K}, long_opt), ext_mask}, 1) : ext_mask;
  auto bias = attention_bias(full_mask);

  EncoderOutput out;
  auto text = [&](const torch::Tensor& h) { return Kp > 0 ? h.slice(1, Kp) : h; };
  if (in.output_hidden_states) out.hidden_states.push_back(text(x));
  for (int64_t l = 0; l < N; ++l) {
    torch::Tensor pk, pv;
    if (K > 0) {
      pk = in.prefix->keys[static_cast<size_t>(l)];
      pv = in.prefix->values[static_cast<size_t>(l)];
    }
    x = layers_[static_cast<size_t>(l)]->as<TransformerLayerImpl>()->forward(x, bias, pk, pv);
    if (in.output_hidden_states) out.hidden_states.push_back(text(x));
  }
  out.last_hidden_state = text(x);
  out.position_ids = Kp > 0 ? positions.slice(1, Kp) : positions;
  out.attention_mask = text_mask;
  return out;
}

MlmHeadImpl::MlmHeadImpl(const HfConfig& cfg) : act_(cfg.is_roberta() ? "gelu" : cfg.hidden_act) {
  int64_t H = cfg.hidden_size;
  if (cfg.is_roberta()) {
    dense_ = register_module("dense", torch::nn::Linear(H, H));
    layer_norm_ = register_module("layer_norm", layer_norm(cfg));
  } else {
    auto transform = scope(*this, "transform");
    dense_ = transform->register_module("dense", torch::nn::Linear(H, H));
    layer_norm_ = transform->register_module("LayerNorm", layer_norm(cfg));
  }
  if (!cfg.tie_word_embeddings)
    decoder_ = register_module("decoder", torch::nn::Linear(torch::nn::LinearOptions(H, cfg.vocab_size).bias(false)));
  bias_ = register_parameter("bias", torch::zeros({cfg.vocab_size}));
}

torch::Tensor MlmHeadImpl::forward(const torch::Tensor& hidden, const torch::Tensor& tied_weight) {
  auto x = ln(layer_norm_, activation(act_, dense_(hidden)));
  const auto& w = decoder_.is_empty() ? tied_weight : decoder_->weight;
  return torch::linear(x, w, bias_);
}

MaskedLmImpl::MaskedLmImpl(const HfConfig& cfg, bool with_head) {
  encoder_ = register_module(cfg.base_prefix(), Encoder(cfg));
  if (!with_head) return;
  if (cfg.is_roberta()) {
    head_ = register_module("lm_head", MlmHead(cfg));
  } else {
    auto cls = scope(*this, "cls");
    head_ = cls->register_module("predictions", MlmHead(cfg));
  }
}

torch::Tensor MaskedLmImpl::mlm_logits(const torch::Tensor& hidden) {
  if (head_.is_empty()) throw Error("mlm_logits: this model was built without the MLM head");
  return head_->forward(hidden, encoder_->word_embedding_weight());
}

torch::Tensor MaskedLmImpl::mlm_logits_at(const torch::Tensor& hidden, const torch::Tensor& positions) {
  if (positions.dim() != 2 || positions.size(0) != hidden.size(0))
    throw Error("mlm_logits_at: positions must be [B, P], got " + shape_str(positions));
  auto idx = positions.to(torch::kLong).unsqueeze(-1).expand({positions.size(0), positions.size(1), hidden.size(2)});
  return mlm_logits(torch::gather(hidden, 1, idx));
}

// ---------------------------------------------------------------- pooling

Pooling parse_pooling(const std::string& name) {
  if (name == "cls" || name == "cls_before_pooler") return Pooling::Cls;
  if (name == "avg" || name == "mean") return Pooling::Mean;
  if (name == "avg_first_last" || name == "first_last_avg") return Pooling::FirstLastMean;
  if (name == "avg_top2" || name == "top2_avg") return Pooling::TopTwoMean;
  throw Error("unknown pooling '" + name + "' (expected cls, avg, avg_first_last or avg_top2)");
}

std::string pooling_name(Pooling p) {
  switch (p) {
    case Pooling::Cls: return "cls";
    case Pooling::Mean: return "avg";
    case Pooling::FirstLastMean: return "avg_first_last";
    case Pooling::TopTwoMean: return "avg_top2";
  }
  return "?";
}

torch::Tensor pool(const EncoderOutput& out, const torch::Tensor& mask_in, Pooling p) {
  const auto& last = out.last_hidden_state;
  if (p == Pooling::Cls) return last.select(1, 0);
  auto mask = (mask_in.defined() ? mask_in : out.attention_mask).to(last.scalar_type());
  auto masked_mean = [&](const torch::Tensor& h) {
    return (h * mask.unsqueeze(-1)).sum(1) / mask.sum(-1).unsqueeze(-1);
  };
  if (p == Pooling::Mean) return masked_mean(last);
  const auto& hs = out.hidden_states;
  if (hs.size() < 2) throw Error("pooling '" + pooling_name(p) + "' needs all hidden states (output_hidden_states)");
  if (p == Pooling::FirstLastMean) return masked_mean((hs.front() + hs.back()) / 2.0);
  return masked_mean((hs[hs.size() - 2] + hs.back()) / 2.0);
}

std::pair<torch::Tensor, torch::Tensor> to_tensors(const EncodedBatch& batch, const torch::Device& device) {
  auto ids = torch::tensor(batch.input_ids, torch::kLong).view({batch.batch, batch.length});
  auto mask = torch::tensor(batch.attention_mask, torch::kLong).view({batch.batch, batch.length});
  return {ids.to(device), mask.to(device)};
}

double forward_flops(const HfConfig& cfg, int64_t batch, int64_t length, int64_t prefix_length) {
  double T = static_cast<double>(batch) * static_cast<double>(length);
  double H = static_cast<double>(cfg.hidden_size), F = static_cast<double>(cfg.intermediate_size);
  double keys = static_cast<double>(length + prefix_length);
  double per_layer = 2.0 * T * (4.0 * H * H + 2.0 * H * F) + 2.0 * 2.0 * T * keys * H;
  return per_layer * static_cast<double>(cfg.num_hidden_layers);
}

}  // namespace clickprompt::plm
