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

#include "train/run.h"

namespace clickprompt::train {

nlohmann::json run_pa_mlm(const YAML::Node& config, const RunOptions& opt);
// `pretrained`: a PA-MLM folder, or empty to start from the PLM and a fresh CTR model.
nlohmann::json run_finetune_plm(const YAML::Node& config, const RunOptions& opt, const std::string& pretrained);
nlohmann::json run_finetune_ctr(const YAML::Node& config, const RunOptions& opt, const std::string& pretrained);

}  // namespace clickprompt::train
