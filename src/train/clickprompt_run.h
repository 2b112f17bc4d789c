#pragma once
// ClickPrompt's learning stages as runs (same folder contract as run_ctr):
//
//   run_pa_mlm      PA-MLM pretraining: CTR model + prompt generator + PLM
//                   trained with masked language modelling on the text views,
//                   prompts from the ID view. Writes clickprompt.safetensors
//                   (the whole model, flat names "ctr.*", "generator.*", "plm.*").
//   run_finetune_plm  Fine-tuning with the PLM: fused logit, BCE, early stopping.
//                   From a PA-MLM folder, or (ablation "without PA-MLM") from
//                   the PLM alone with a fresh CTR model.
//   run_finetune_ctr  Fine-tuning without the PLM: the CTR backbone of a PA-MLM
//                   folder with a fresh output layer, trained as a plain CTR
//                   model; the folder is an ordinary CTR run (evaluate, predict
//                   and serving cost are the backbone's).
//
// Config sections besides run_ctr's (dataset, model, train, seed, device):
//   plm:          path of an HF-layout folder (config.json, weights, tokenizer files)
//   clickprompt:  num_prompts, fusion (layerwise|input|none), generator
//                 (shared|per_prompt), generator_hidden, pooling, alpha, learn_alpha
//   pretrain:     PA-MLM: epochs, batch_size, max_train_rows, valid_rows, plm_lr,
//                 ctr_lr, weight_decay, warmup_ratio, grad_clip_norm, precision
//   train:        run_ctr's keys plus plm_lr (0 = PLM frozen), plm_weight_decay
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clickprompt/clickprompt_model.h"
#include "core/precision.h"
#include "train/run.h"

namespace clickprompt::plm {
class Tokenizer;
}
namespace clickprompt::bundle {
class TextViews;
}

namespace clickprompt::train {

using bundle::TextViews;

nlohmann::json run_pa_mlm(const YAML::Node& config, const RunOptions& opt);
// `pretrained`: a PA-MLM folder, or empty to start from the PLM and a fresh CTR model.
nlohmann::json run_finetune_plm(const YAML::Node& config, const RunOptions& opt, const std::string& pretrained);
nlohmann::json run_finetune_ctr(const YAML::Node& config, const RunOptions& opt, const std::string& pretrained);

// A finished fine-tuning-with-PLM run loaded back (load_run does this for
// `evaluate` and `predict`; `inspect` looks inside): the whole model (CTR
// model, generator, PLM, fusion head, a) from the run's best checkpoint, and the
// PLM's tokenizer (from the config's `plm` folder) for the rows' text views.
// Scoring runs in eval mode, batches of train.eval_batch_size, under the
// run's train.precision, as the run's own test pass did.
class LoadedClickPrompt {
 public:
  LoadedClickPrompt(const YAML::Node& config, const std::string& where, const ctr::FeatureInfo& features,
                    const std::string& checkpoint, const std::string& device);
  // Fused logit and both branches, each float32 [n] on the CPU, of ids [n, F]
  // (global ids) whose text views come from codes [n, F] (int32) into `fields`'
  // dictionaries.
  cp::FusedLogits score(const torch::Tensor& ids, const std::vector<data::FieldMeta>& fields,
                        const torch::Tensor& codes);
  // Why the fused score ranks as it does (docs/clickprompt.md): test metrics of
  // the fused score, each branch alone, the PLM branch with shuffled prompts
  // (row i's prompts from row i - n/2, cyclically: always another row), the
  // fused AUC over a in 0, 0.1, ..., 1; and per PLM layer (layer-wise prompts,
  // the first `attention_rows` (> 0) rows, float32): the mean L2 norm of the
  // prompt keys/values against the text tokens' (per head), the attention mass
  // text tokens put on the prompts, and the norm of what the prompts add to the
  // attention output against what the text adds (means over rows and over real
  // text tokens, whatever the batch size).
  nlohmann::json inspect(const torch::Tensor& ids, const std::vector<data::FieldMeta>& fields,
                         const torch::Tensor& codes, const torch::Tensor& labels, int64_t attention_rows = 4096);
  cp::ClickPromptModel& model() { return model_; }

 private:
  // prompt_ids: see ClickPromptModelImpl::logits.
  cp::FusedLogits score(const torch::Tensor& ids, const TextViews& views, const torch::Tensor& codes,
                        const torch::Tensor& prompt_ids = {});
  // Rows [begin, end) of codes as a text batch on the device.
  cp::TextBatch text_batch(const TextViews& views, const torch::Tensor& codes, int64_t begin, int64_t end) const;
  cp::ClickPromptModel model_{nullptr};
  std::shared_ptr<const plm::Tokenizer> tok_;
  core::Precision precision_;
  torch::Device device_;
  int64_t batch_size_;
};

}  // namespace clickprompt::train
