#pragma once
// A HuggingFace BERT/RoBERTa `config.json`: the fields the encoder needs, the
// rest kept verbatim so that a saved config round-trips.
#include <cstdint>
#include <string>
#include <vector>

namespace clickprompt::plm {

struct HfConfig {
  std::string model_type = "bert";  // "bert" or "roberta" (xlm-roberta/camembert behave as roberta)
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  int64_t pad_token_id = 0;
  int64_t bos_token_id = -1;  // -1: not set
  int64_t eos_token_id = -1;
  double layer_norm_eps = 1e-12;
  std::string hidden_act = "gelu";  // gelu (erf), gelu_new / gelu_pytorch_tanh (tanh), relu
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  std::string position_embedding_type = "absolute";
  bool tie_word_embeddings = true;
  std::vector<std::string> architectures;
  std::string extra_json = "{}";  // every other key of the source file, as a JSON object

  // Position ids are offset by padding_idx + 1 (RoBERTa family).
  bool is_roberta() const;
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // Parameter-name prefix of the base model in *ForMaskedLM checkpoints.
  std::string base_prefix() const { return is_roberta() ? "roberta" : "bert"; }
  // Throws Error naming `source` when a value is out of range or unsupported.
  void validate(const std::string& source = "config") const;

  static HfConfig from_json(const std::string& json_text, const std::string& source = "config.json");
  // `path` is a config.json file or a folder containing one.
  static HfConfig load(const std::string& path);
  std::string to_json() const;
  // Writes <dir>/config.json atomically.
  void save(const std::string& dir) const;

  static HfConfig roberta_base();
  static HfConfig bert_base_uncased();
};

}  // namespace clickprompt::plm
