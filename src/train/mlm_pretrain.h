#pragma once
// In-project language-model pretraining, for when no HF checkpoint is at hand:
// a byte-level BPE vocabulary trained on the text views of a data set's
// training split, and a small RoBERTa-style encoder pretrained with plain MLM
// (15%, 80/10/10). The output folder is HF layout (config.json,
// model.safetensors, vocab.json, merges.txt) that plm::load_pretrained reads.
#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.h"

namespace clickprompt::train {

struct MlmPretrainOptions {
  int64_t vocab_size = 4000;  // small: keeps the MLM output layer cheap
  int64_t hidden_size = 128, layers = 2, heads = 2, intermediate_size = 512;
  int64_t batch_size = 64;
  int epochs = 1;
  int64_t max_train_rows = 0;  // 0 = the whole training split; else a seeded sample per epoch
  int64_t valid_rows = 2000;
  double lr = 5e-4, weight_decay = 0.01, warmup_ratio = 0.06, dropout = 0.1;
  std::string precision = "fp32";
  std::string device = "cpu";
  uint64_t seed = 2024;
  bool progress = true;
};

// Pretrains on ds.train, validates on ds.valid, writes the model to out_dir.
// Returns what result.json holds (validation MLM loss vs the unigram baseline, speed).
nlohmann::json pretrain_mlm(const data::Dataset& ds, const MlmPretrainOptions& opt, const std::string& out_dir);

}  // namespace clickprompt::train
