// `clickprompt pretrain-plm`: tokenizer + small encoder pretrained with MLM on a data set's text views.
#include <iostream>

#include "cli/commands.h"
#include "core/runtime.h"
#include "data/dataset.h"
#include "core/error.h"
#include "core/io.h"
#include "plm/checkpoint.h"
#include "plm/tokenizer/tokenizer.h"
#include "train/distributed.h"
#include "train/mlm_pretrain.h"
#include "train/run.h"

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
  c->add_option("--tokenizer", a->o.tokenizer, "bpe (RoBERTa-style encoder) | wordpiece (BERT-style)")
      ->check(CLI::IsMember({"bpe", "wordpiece"}))
      ->capture_default_str();
  c->add_option("--vocab-size", a->o.vocab_size, "Vocabulary size")->capture_default_str();
  c->add_option("--hidden", a->o.hidden_size, "Encoder width")->capture_default_str();
  c->add_option("--layers", a->o.layers, "Transformer layers")->capture_default_str();
  c->add_option("--heads", a->o.heads, "Attention heads")->capture_default_str();
  c->add_option("--ffn", a->o.intermediate_size, "Feed-forward width")->capture_default_str();
  c->add_option("--batch-size", a->o.loop.batch_size, "Texts per step")->capture_default_str();
  c->add_option("--epochs", a->o.loop.epochs, "Epochs")->capture_default_str();
  c->add_option("--max-train-rows", a->o.loop.max_train_rows, "Rows per epoch (0 = all, else a shuffled sample)")
      ->capture_default_str();
  c->add_option("--lr", a->o.lr, "Peak learning rate (linear warm-up and decay)")->capture_default_str();
  c->add_option("--dropout", a->o.dropout, "Hidden and attention dropout of the encoder (config.json)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.99));
  c->add_option("--precision", a->o.loop.precision, "fp32 | bf16")->capture_default_str();
  c->add_option("--device", a->o.loop.device, "cpu | cuda | cuda:N")->capture_default_str();
  c->add_option("--seed", a->o.loop.seed, "Random seed")->capture_default_str();
  c->add_flag("--no-progress", [a](int64_t) { a->o.loop.progress = false; }, "No progress line");
  c->callback([a, &common] {
    setup_runtime(common);
    a->o.loop.device = core::check_device(a->o.loop.device);
    setup_distributed(common, a->o.loop.device);
    train::RunOptions ro;
    ro.cache_root = a->cache_dir;
    auto ds = train::load_dataset(data::DatasetSpec::load(a->data), ro);
    auto r = train::pretrain_mlm(ds, a->o, a->out);
    finish_distributed();
    if (train::dist::primary()) std::cout << r.dump(2) << "\n";
  });

  // A randomly initialised encoder for an existing vocabulary (benchmarks; the
  // official code's speed figures use a random small PLM with RoBERTa's vocabulary).
  struct InitArgs {
    std::string tokenizer, out;
    int64_t hidden = 128, layers = 2, heads = 2, ffn = 512, positions = 514;
    uint64_t seed = 2024;
    bool untied = false;
  };
  auto ia = std::make_shared<InitArgs>();
  auto* init = app.add_subcommand("init-plm", "Write a randomly initialised RoBERTa-style encoder (HF folder) for the "
                                              "vocabulary of a tokenizer folder");
  init->add_option("--tokenizer", ia->tokenizer, "Folder with vocab.json + merges.txt, tokenizer.json or vocab.txt")->required();
  init->add_option("--out", ia->out, "Output folder")->required();
  init->add_option("--hidden", ia->hidden, "Encoder width")->capture_default_str();
  init->add_option("--layers", ia->layers, "Transformer layers")->capture_default_str();
  init->add_option("--heads", ia->heads, "Attention heads")->capture_default_str();
  init->add_option("--ffn", ia->ffn, "Feed-forward width")->capture_default_str();
  init->add_option("--positions", ia->positions, "max_position_embeddings")->capture_default_str();
  init->add_option("--seed", ia->seed, "Random seed")->capture_default_str();
  init->add_flag("--untied", ia->untied, "An LM decoder of its own (not tied to the word embeddings)");
  init->callback([ia, &common] {
    setup_runtime(common);
    auto tok = plm::load_tokenizer(ia->tokenizer);
    plm::HfConfig cfg = plm::HfConfig::roberta_base();
    cfg.vocab_size = tok->vocab_size();
    cfg.hidden_size = ia->hidden;
    cfg.num_hidden_layers = ia->layers;
    cfg.num_attention_heads = ia->heads;
    cfg.intermediate_size = ia->ffn;
    cfg.max_position_embeddings = ia->positions;
    cfg.pad_token_id = tok->pad_id();
    cfg.tie_word_embeddings = !ia->untied;
    cfg.validate("init-plm");
    plm::MaskedLm model(cfg);
    plm::init_weights(model, 0.02, ia->seed);
    plm::save_pretrained(model, ia->out);
    for (const char* f : {"vocab.json", "merges.txt", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
                          "special_tokens_map.json"}) {
      std::string src = ia->tokenizer + "/" + f;
      if (core::file_exists(src)) core::atomic_write_string(ia->out + "/" + f, core::read_file(src));
    }
    std::cout << "wrote " << ia->out << ": " << cfg.num_hidden_layers << " layers, width " << cfg.hidden_size
              << ", vocabulary " << cfg.vocab_size << (ia->untied ? ", untied LM head" : "") << "\n";
  });
}

}  // namespace clickprompt::cli
