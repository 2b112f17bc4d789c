// `clickprompt pretrain-plm`: tokenizer + small encoder pretrained with MLM on a data set's text views.
#include <iostream>

#include "cli/commands.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "train/mlm_pretrain.h"

namespace clickprompt::cli {

void add_plm_commands(CLI::App& app, Common& common) {
  struct Args {
    std::string data, out, cache_dir = ".cache";
    train::MlmPretrainOptions o;
  };
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand("pretrain-plm",
                               "Train a BPE vocabulary and pretrain a small encoder (MLM) on the training split's text "
                               "views; writes an HF-layout folder");
  c->add_option("--data", a->data, "Dataset spec (YAML)")->required();
  c->add_option("--out", a->out, "Output folder (config.json, model.safetensors, vocab.json, merges.txt)")->required();
  c->add_option("--cache-dir", a->cache_dir, "Data cache root")->capture_default_str();
  c->add_option("--vocab-size", a->o.vocab_size, "BPE vocabulary size")->capture_default_str();
  c->add_option("--hidden", a->o.hidden_size, "Encoder width")->capture_default_str();
  c->add_option("--layers", a->o.layers, "Transformer layers")->capture_default_str();
  c->add_option("--heads", a->o.heads, "Attention heads")->capture_default_str();
  c->add_option("--ffn", a->o.intermediate_size, "Feed-forward width")->capture_default_str();
  c->add_option("--batch-size", a->o.loop.batch_size, "Texts per step")->capture_default_str();
  c->add_option("--epochs", a->o.loop.epochs, "Epochs")->capture_default_str();
  c->add_option("--max-train-rows", a->o.loop.max_train_rows, "Rows per epoch (0 = all, else a shuffled sample)")
      ->capture_default_str();
  c->add_option("--lr", a->o.lr, "Peak learning rate (linear warm-up and decay)")->capture_default_str();
  c->add_option("--precision", a->o.loop.precision, "fp32 | bf16")->capture_default_str();
  c->add_option("--device", a->o.loop.device, "cpu | cuda | cuda:N")->capture_default_str();
  c->add_option("--seed", a->o.loop.seed, "Random seed")->capture_default_str();
  c->add_flag("--no-progress", [a](int64_t) { a->o.loop.progress = false; }, "No progress line");
  c->callback([a, &common] {
    setup_runtime(common);
    a->o.loop.device = core::check_device(a->o.loop.device);
    auto ds = data::prepare_dataset(data::DatasetSpec::load(a->data), {a->cache_dir, false});
    std::cout << train::pretrain_mlm(ds, a->o, a->out).dump(2) << "\n";
  });
}

}  // namespace clickprompt::cli
