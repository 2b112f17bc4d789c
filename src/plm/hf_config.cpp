#include "plm/hf_config.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/error.h"
#include "core/runtime.h"
#include "core/io.h"

namespace clickprompt::plm {

namespace {

const char* kKnownKeys[] = {"model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                            "intermediate_size", "max_position_embeddings", "type_vocab_size", "pad_token_id",
                            "bos_token_id", "eos_token_id", "layer_norm_eps", "hidden_act", "hidden_dropout_prob",
                            "attention_probs_dropout_prob", "position_embedding_type", "tie_word_embeddings",
                            "architectures"};

template <typename T>
void get(const nlohmann::json& j, const char* key, T& out, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return;
  try {
    out = j[key].get<T>();
  } catch (const std::exception& e) {
    throw Error(source + ": field '" + key + "' has the wrong type (" + j[key].dump() + ")");
  }
}

}  // namespace

bool HfConfig::is_roberta() const {
  return model_type == "roberta" || model_type == "xlm-roberta" || model_type == "camembert";
}

void HfConfig::validate(const std::string& source) const {
  auto positive = [&](const char* name, int64_t v) {
    if (v <= 0) throw Error(source + ": " + name + " must be > 0, got " + std::to_string(v));
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  if (hidden_size % num_attention_heads != 0)
    throw Error(source + ": hidden_size " + std::to_string(hidden_size) + " is not a multiple of num_attention_heads " +
                std::to_string(num_attention_heads));
  if (model_type != "bert" && !is_roberta())
    throw Error(source + ": model_type '" + model_type + "' is not supported (expected bert or roberta)");
  if (hidden_act != "gelu" && hidden_act != "gelu_new" && hidden_act != "gelu_pytorch_tanh" && hidden_act != "relu")
    throw Error(source + ": hidden_act '" + hidden_act + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)");
  if (position_embedding_type != "absolute")
    throw Error(source + ": position_embedding_type '" + position_embedding_type + "' is not supported (absolute)");
  if (pad_token_id < 0 || pad_token_id >= vocab_size)
    throw Error(source + ": pad_token_id " + std::to_string(pad_token_id) + " is outside the vocabulary");
  if (!(layer_norm_eps > 0)) throw Error(source + ": layer_norm_eps must be > 0");
  // Weights, gradients and Adam state in fp32: embeddings, per layer attention
  // (4 h^2) and feed-forward (2 h f), and an untied LM decoder.
  const double h = static_cast<double>(hidden_size), params =
      (static_cast<double>(vocab_size) + max_position_embeddings + type_vocab_size) * h +
      num_hidden_layers * (4 * h * h + 2 * h * static_cast<double>(intermediate_size)) +
      (tie_word_embeddings ? 0.0 : static_cast<double>(vocab_size) * h);
  core::check_memory(16.0 * params, source + ": an encoder of " + std::to_string(num_hidden_layers) + " layers, width " +
                                        std::to_string(hidden_size) + " and vocabulary " + std::to_string(vocab_size));
}

HfConfig HfConfig::from_json(const std::string& text, const std::string& source) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw Error(source + ": not a JSON object");
  HfConfig c;
  get(j, "model_type", c.model_type, source);
  get(j, "vocab_size", c.vocab_size, source);
  get(j, "hidden_size", c.hidden_size, source);
  get(j, "num_hidden_layers", c.num_hidden_layers, source);
  get(j, "num_attention_heads", c.num_attention_heads, source);
  get(j, "intermediate_size", c.intermediate_size, source);
  get(j, "max_position_embeddings", c.max_position_embeddings, source);
  get(j, "type_vocab_size", c.type_vocab_size, source);
  get(j, "pad_token_id", c.pad_token_id, source);
  get(j, "bos_token_id", c.bos_token_id, source);
  get(j, "eos_token_id", c.eos_token_id, source);
  get(j, "layer_norm_eps", c.layer_norm_eps, source);
  get(j, "hidden_act", c.hidden_act, source);
  get(j, "hidden_dropout_prob", c.hidden_dropout_prob, source);
  get(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, source);
  get(j, "position_embedding_type", c.position_embedding_type, source);
  get(j, "tie_word_embeddings", c.tie_word_embeddings, source);
  get(j, "architectures", c.architectures, source);
  nlohmann::json extra = j;
  for (const char* k : kKnownKeys) extra.erase(k);
  c.extra_json = extra.dump();
  c.validate(source);
  return c;
}

HfConfig HfConfig::load(const std::string& path) {
  std::string file = path;
  if (std::filesystem::is_directory(path)) file = (std::filesystem::path(path) / "config.json").string();
  if (!core::file_exists(file)) throw Error("HF config not found: " + file);
  return from_json(core::read_file(file), file);
}

std::string HfConfig::to_json() const {
  nlohmann::json j = nlohmann::json::parse(extra_json.empty() ? "{}" : extra_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) j = nlohmann::json::object();
  j["model_type"] = model_type;
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["intermediate_size"] = intermediate_size;
  j["max_position_embeddings"] = max_position_embeddings;
  j["type_vocab_size"] = type_vocab_size;
  j["pad_token_id"] = pad_token_id;
  if (bos_token_id >= 0) j["bos_token_id"] = bos_token_id;
  if (eos_token_id >= 0) j["eos_token_id"] = eos_token_id;
  j["layer_norm_eps"] = layer_norm_eps;
  j["hidden_act"] = hidden_act;
  j["hidden_dropout_prob"] = hidden_dropout_prob;
  j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  j["position_embedding_type"] = position_embedding_type;
  j["tie_word_embeddings"] = tie_word_embeddings;
  if (!architectures.empty()) j["architectures"] = architectures;
  else j["architectures"] = {is_roberta() ? "RobertaForMaskedLM" : "BertForMaskedLM"};
  if (!j.contains("torch_dtype")) j["torch_dtype"] = "float32";
  return j.dump(2);
}

void HfConfig::save(const std::string& dir) const {
  core::make_dirs(dir);
  core::atomic_write_string((std::filesystem::path(dir) / "config.json").string(), to_json() + "\n");
}

HfConfig HfConfig::roberta_base() {
  HfConfig c;
  c.model_type = "roberta";
  c.vocab_size = 50265;
  c.max_position_embeddings = 514;
  c.type_vocab_size = 1;
  c.pad_token_id = 1;
  c.bos_token_id = 0;
  c.eos_token_id = 2;
  c.layer_norm_eps = 1e-5;
  return c;
}

HfConfig HfConfig::bert_base_uncased() { return HfConfig{}; }

}  // namespace clickprompt::plm
