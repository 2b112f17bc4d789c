#pragma once
// Masked-language-model training on a data set's text views, two ways:
//  - pretrain_mlm: in-project language-model pretraining, for when no HF
//    checkpoint is at hand: a byte-level BPE vocabulary trained on the text
//    views of the training split and a small RoBERTa-style encoder pretrained
//    with plain MLM (15%, 80/10/10). The output folder is HF layout
//    (config.json, model.safetensors, vocab.json, merges.txt) that
//    plm::load_pretrained reads.
//  - train_mlm: the loop both it and ClickPrompt's PA-MLM use (the loss
//    function decides whether prompts from the ID view take part).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "data/dataset.h"
#include "train/distributed.h"
#include "train/optimizer.h"
#include "bundle/text_views.h"

namespace clickprompt::train {

using bundle::TextViews;

struct MlmLoopOptions {
  int64_t batch_size = 64;
  int epochs = 1;
  int64_t max_train_rows = 0;  // 0 = the whole training split; else a seeded sample per epoch
  int64_t valid_rows = 2000;
  double warmup_ratio = 0.06;  // linear warm-up, then linear decay to 0
  double grad_clip_norm = 1.0;
  std::string precision = "fp32";
  std::string device = "cpu";
  uint64_t seed = 2024;
  bool progress = true;
  std::string name = "pretrain";  // progress and log label
};

// MLM loss of one batch: ID view [B, F] (int64, on the device), masked text
// ids and attention mask [B, L], labels [B, L] (-100 where not masked).
using MlmLossFn = std::function<torch::Tensor(const torch::Tensor& ids, const torch::Tensor& input_ids,
                                              const torch::Tensor& attention_mask, const torch::Tensor& labels)>;

struct MlmLoopResult {
  double initial_valid_mlm_loss = 0;  // before the first step
  double valid_mlm_loss = 0, unigram_baseline = 0, train_samples_per_sec = 0, train_seconds = 0;
  int64_t steps = 0;
  dist::CommSummary comm;  // distributed runs
};

// Trains `model` (already on the device) with `opt` over ds.train's text views,
// masking with the tokenizer's mask token; the learning rate of every group
// follows its base lr x the schedule. After every epoch: validation MLM loss on a fixed
// masked sample of ds.valid, a line in <out_dir>/metrics.jsonl, then `on_epoch`
// (both on rank 0 alone in a distributed run; see train/distributed.h).
MlmLoopResult train_mlm(const data::Dataset& ds, const TextViews& text, torch::nn::Module& model,
                        AdamOptimizer& opt, const MlmLoopOptions& o, const MlmLossFn& loss_fn, const std::string& out_dir,
                        const std::function<void(int epoch)>& on_epoch = {});

struct MlmPretrainOptions {
  std::string tokenizer = "bpe";  // bpe (RoBERTa-style model) | wordpiece (BERT-style model)
  int64_t vocab_size = 4000;  // small: keeps the MLM output layer cheap
  int64_t hidden_size = 128, layers = 2, heads = 2, intermediate_size = 512;
  int64_t position_headroom = 64;  // positions beyond the longest text view (prompts shift RoBERTa positions)
  double lr = 5e-4, weight_decay = 0.01, dropout = 0.1;
  MlmLoopOptions loop;
};

// Pretrains on ds.train, validates on ds.valid, writes the model to out_dir.
// Returns what result.json holds (validation MLM loss vs the unigram baseline, speed).
nlohmann::json pretrain_mlm(const data::Dataset& ds, const MlmPretrainOptions& opt, const std::string& out_dir);

}  // namespace clickprompt::train
