#include "train/mlm_pretrain.h"

#include <ATen/CPUGeneratorImpl.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/precision.h"
#include "core/progress.h"
#include "core/strings.h"
#include "plm/checkpoint.h"
#include "plm/encoder.h"
#include "plm/mlm.h"
#include "plm/tokenizer/trainer.h"
#include "train/distributed.h"
#include "train/run.h"
#include "train/schedule.h"

namespace clickprompt::train {

namespace {
using Clock = std::chrono::steady_clock;

struct MaskedBatch {
  torch::Tensor ids;  // ID view [B, F] int64 (CPU)
  plm::MaskedTokens tokens;
  torch::Tensor attention_mask;
};

MaskedBatch masked_batch(const data::Split& split, const TextViews& text, const int64_t* rows, int64_t n,
                         at::Generator& gen) {
  const auto& tok = text.tokenizer();
  auto [input_ids, mask] = text.batch(split, rows, n);
  auto row_t = torch::from_blob(const_cast<int64_t*>(rows), {n}, torch::kInt64);
  return {split.ids.index_select(0, row_t).to(torch::kInt64),
          plm::mask_tokens(input_ids, plm::special_tokens_mask(input_ids, tok, mask), tok.mask_id(), tok.vocab_size(), gen),
          mask};
}
}  // namespace

MlmLoopResult train_mlm(const data::Dataset& ds, const TextViews& text, torch::nn::Module& model, AdamOptimizer& opt,
                        const MlmLoopOptions& o, const MlmLossFn& loss_fn, const std::string& out_dir,
                        const std::function<void(int)>& on_epoch) {
  if (o.batch_size <= 0 || o.epochs <= 0) throw Error(o.name + ": batch_size and epochs must be positive");
  const auto precision = core::parse_precision(o.precision);
  const auto& tok = text.tokenizer();
  torch::Device dev(o.device);
  std::vector<double> base_lrs;
  for (size_t g = 0; g < opt.num_groups(); ++g) base_lrs.push_back(opt.lr(g));

  // Distributed: batch_size is each rank's; a step trains on world x batch_size rows.
  dist::Group* dg = dist::group();
  const bool primary = dist::primary();
  const int world = dist::world_size(), rank = dist::rank();
  const int64_t global_batch = o.batch_size * world;
  const int64_t rows_per_epoch = o.max_train_rows > 0 ? std::min(o.max_train_rows, ds.train.rows) : ds.train.rows;
  const int64_t steps_per_epoch = (rows_per_epoch + global_batch - 1) / global_batch;
  LrSchedule sched{"linear", static_cast<int64_t>(o.warmup_ratio * steps_per_epoch * o.epochs),
                   steps_per_epoch * o.epochs};
  // Masks: rank 0 draws the single-process stream, the others their own.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed + static_cast<uint64_t>(rank) * 1000003ULL);
  if (dg) dist::broadcast_module(*dg, model);
  const dist::Stats comm_before = dg ? dg->stats() : dist::Stats{};

  // Validation: a fixed sample of valid rows with fixed masks.
  std::vector<int64_t> valid_idx(std::min(o.valid_rows, ds.valid.rows));
  std::iota(valid_idx.begin(), valid_idx.end(), 0);
  auto vgen = at::make_generator<at::CPUGeneratorImpl>(o.seed + 1);
  std::vector<MaskedBatch> valid_batches;
  for (size_t s = 0; s < valid_idx.size(); s += 256) {
    int64_t n = std::min<int64_t>(256, static_cast<int64_t>(valid_idx.size() - s));
    valid_batches.push_back(masked_batch(ds.valid, text, valid_idx.data() + s, n, vgen));
  }
  auto batch_loss = [&](const MaskedBatch& b) {
    core::AutocastGuard ac(precision, dev);
    return loss_fn(b.ids.to(dev), b.tokens.input_ids.to(dev), b.attention_mask.to(dev), b.tokens.labels.to(dev))
        .to(torch::kFloat32);
  };
  // Sums over every rank (a no-op in one process).
  auto sum_over_ranks = [&](double& a, double& b, const char* what) {
    if (!dg) return;
    std::vector<torch::Tensor> t{torch::tensor({a, b}, torch::kFloat64).to(dg->comm_device())};
    dg->all_reduce_sum(t, what);
    auto c = t[0].cpu();
    a = c[0].item<double>();
    b = c[1].item<double>();
  };
  auto validate = [&]() {
    torch::NoGradGuard ng;
    model.eval();
    double loss_sum = 0, n_sum = 0;
    std::vector<torch::Tensor> labels;
    for (size_t i = 0; i < valid_batches.size(); ++i) {
      const auto& b = valid_batches[i];
      labels.push_back(b.tokens.labels.flatten());
      if (static_cast<int>(i % world) != rank) continue;  // every rank has the batches; each scores its share
      double n = b.tokens.labels.ne(-100).sum().item<double>();
      loss_sum += batch_loss(b).item<double>() * n;
      n_sum += n;
    }
    sum_over_ranks(loss_sum, n_sum, "the validation loss sum");
    model.train();
    return std::make_pair(loss_sum / std::max(1.0, n_sum),
                          labels.empty() ? 0.0 : plm::unigram_entropy(torch::cat(labels), tok.vocab_size()));
  };

  if (primary) core::make_dirs(out_dir);
  std::string log;
  MlmLoopResult r;
  int64_t trained = 0;
  r.initial_valid_mlm_loss = validate().first;
  spdlog::info("{}: valid MLM loss before training {:.4f} nats", o.name, r.initial_valid_mlm_loss);
  model.train();
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    std::vector<int64_t> order(ds.train.rows);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(o.seed * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    core::Progress progress(o.name + " epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs),
                            rows_per_epoch, o.progress && primary);
    auto t0 = Clock::now();
    double loss_sum = 0;
    int64_t loss_n = 0;
    for (int64_t gs = 0; gs < rows_per_epoch; gs += global_batch) {
      const int64_t global_rows = std::min(global_batch, rows_per_epoch - gs);
      auto [s, e] = dist::batch_shard(gs, gs + global_rows, o.batch_size, rank);
      const int64_t n = e - s;
      for (size_t g = 0; g < base_lrs.size(); ++g) opt.set_lr(g, base_lrs[g] * sched.factor(r.steps));
      opt.zero_grad();
      ++r.steps;
      if (n == 0) {  // a rank past a short last global batch still takes part in the exchange
        opt.step(o.grad_clip_norm, 0.0);
        continue;
      }
      auto b = masked_batch(ds.train, text, order.data() + s, n, gen);
      auto loss = batch_loss(b);
      loss.backward();
      opt.step(o.grad_clip_norm, static_cast<double>(n) / static_cast<double>(global_rows));
      if ((r.steps & 15) == 0 || gs + global_rows >= rows_per_epoch) {
        double l = loss.item<double>();
        if (std::isnan(l)) throw Error(o.name + " diverged at step " + std::to_string(r.steps) + " (loss is NaN); lower the learning rate");
        loss_sum += l * n;
        loss_n += n;
        progress.update(gs + global_rows, loss_sum / loss_n);
      }
    }
    progress.finish();
    {
      double n = static_cast<double>(loss_n);
      sum_over_ranks(loss_sum, n, "the training loss sum");
      loss_n = static_cast<int64_t>(n);
    }
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    r.train_seconds += secs;
    trained += rows_per_epoch;
    std::tie(r.valid_mlm_loss, r.unigram_baseline) = validate();
    spdlog::info("{} epoch {}: valid MLM loss {:.4f} nats (unigram baseline {:.4f}) | {:.0f} samples/s", o.name, epoch,
                 r.valid_mlm_loss, r.unigram_baseline, rows_per_epoch / secs);
    log += nlohmann::json{{"epoch", epoch}, {"train_mlm_loss", loss_sum / std::max<int64_t>(1, loss_n)},
                          {"valid_mlm_loss", r.valid_mlm_loss}, {"unigram_baseline", r.unigram_baseline},
                          {"samples_per_sec", rows_per_epoch / secs}, {"seconds", secs}}.dump() + "\n";
    if (primary) {
      core::write_sealed(out_dir + "/metrics.jsonl", log);
      if (on_epoch) on_epoch(epoch);
    }
  }
  r.train_samples_per_sec = r.train_seconds > 0 ? trained / r.train_seconds : 0.0;
  if (dg) r.comm = dist::summarize(*dg, comm_before, global_batch);
  model.eval();
  return r;
}

nlohmann::json pretrain_mlm(const data::Dataset& ds, const MlmPretrainOptions& o, const std::string& out_dir) {
  auto t_start = Clock::now();
  auto positive = [](const char* name, double v) { core::check_positive("pretrain", name, v); };
  positive("--hidden", static_cast<double>(o.hidden_size));
  positive("--layers", static_cast<double>(o.layers));
  positive("--heads", static_cast<double>(o.heads));
  positive("--ffn", static_cast<double>(o.intermediate_size));
  positive("--vocab-size", static_cast<double>(o.vocab_size));
  positive("--lr", o.lr);
  positive("--batch-size", static_cast<double>(o.loop.batch_size));
  positive("--epochs", static_cast<double>(o.loop.epochs));
  if (o.hidden_size % o.heads != 0) throw Error("pretrain: --hidden must be divisible by --heads");
  torch::manual_seed(o.loop.seed);
  const int F = static_cast<int>(ds.fields.size());

  // 1. Vocabulary from the training split, counted per distinct field piece.
  const bool wordpiece = o.tokenizer == "wordpiece";
  if (!wordpiece && o.tokenizer != "bpe")
    throw Error("pretrain: tokenizer '" + o.tokenizer + "' (expected bpe or wordpiece)" +
                core::suggest(o.tokenizer, {"bpe", "wordpiece"}));
  plm::BpeTrainerOptions bopt;
  bopt.vocab_size = o.vocab_size;
  plm::BpeTrainer bpe(bopt);
  plm::WordPieceTrainerOptions wopt;
  wopt.vocab_size = o.vocab_size;
  plm::WordPieceTrainer wp(wopt);
  for (int f = 0; f < F; ++f) {
    auto counts = torch::bincount(ds.train.codes.select(1, f).to(torch::kInt64), {},
                                  static_cast<int64_t>(ds.fields[f].values.size()));
    const int64_t* c = counts.data_ptr<int64_t>();
    for (size_t v = 0; v < ds.fields[f].values.size(); ++v) {
      if (c[v] == 0) continue;
      auto text = TextViews::piece_text(ds, f, static_cast<uint32_t>(v));
      if (wordpiece) wp.add_text(text, c[v]);
      else bpe.add_text(text, c[v]);
    }
  }
  std::shared_ptr<plm::Tokenizer> tok;
  std::function<void(const std::string&)> save_tokenizer;
  if (wordpiece) {
    auto t = wp.train();
    save_tokenizer = [t](const std::string& dir) { t->save(dir); };
    tok = t;
  } else {
    auto t = bpe.train();
    save_tokenizer = [t](const std::string& dir) { t->save(dir); };
    tok = t;
  }
  TextViews text(ds, tok);
  spdlog::info("tokenizer: {}, {} tokens; longest text view {} tokens", wordpiece ? "WordPiece" : "byte-level BPE",
               tok->vocab_size(), text.max_length());

  // 2. A small RoBERTa-style encoder (BERT-style with a WordPiece vocabulary).
  plm::HfConfig cfg = wordpiece ? plm::HfConfig::bert_base_uncased() : plm::HfConfig::roberta_base();
  cfg.vocab_size = tok->vocab_size();
  cfg.hidden_size = o.hidden_size;
  cfg.num_hidden_layers = o.layers;
  cfg.num_attention_heads = o.heads;
  cfg.intermediate_size = o.intermediate_size;
  // RoBERTa positions start after padding_idx; prompts shift them further (HF's past_key_values rule).
  cfg.max_position_embeddings = text.max_length() + (wordpiece ? 0 : tok->pad_id() + 1) + o.position_headroom;
  cfg.hidden_dropout_prob = cfg.attention_probs_dropout_prob = o.dropout;
  cfg.pad_token_id = tok->pad_id();
  cfg.validate("pretrain-plm");
  plm::MaskedLm model(cfg);
  plm::init_weights(model, 0.02, o.loop.seed);
  torch::Device dev(o.loop.device);
  model->to(dev);
  int64_t n_params = 0;
  for (const auto& p : model->parameters()) n_params += p.numel();
  spdlog::info("encoder: {} layers, width {}, {} heads, {} parameters", o.layers, o.hidden_size, o.heads, n_params);

  AdamOptimizer opt({ParamGroup{"plm", model->parameters(), o.lr, o.weight_decay}},
                    AdamConfig{0.9, 0.999, 1e-8, /*decoupled_weight_decay=*/true});
  auto loss_fn = [&](const torch::Tensor&, const torch::Tensor& input_ids, const torch::Tensor& mask,
                     const torch::Tensor& labels) {
    plm::EncoderInput in;
    in.input_ids = input_ids;
    in.attention_mask = mask;
    in.output_hidden_states = false;
    return plm::mlm_loss(model, model->encode(in).last_hidden_state, labels);
  };
  auto r = train_mlm(ds, text, *model, opt, o.loop, loss_fn, out_dir);
  if (dist::primary()) {
    plm::save_pretrained(model, out_dir);
    save_tokenizer(out_dir);
  }
  const auto& l = o.loop;
  nlohmann::json j{{"dataset", ds.spec.name},
                   {"mode", "mlm_pretrain"},
                   {"seed", l.seed},
                   {"config", {{"tokenizer", o.tokenizer}, {"vocab_size", tok->vocab_size()}, {"hidden_size", o.hidden_size}, {"layers", o.layers},
                               {"heads", o.heads}, {"intermediate_size", o.intermediate_size}, {"batch_size", l.batch_size},
                               {"epochs", l.epochs}, {"max_train_rows", l.max_train_rows}, {"lr", o.lr},
                               {"precision", l.precision}}},
                   {"parameters", n_params},
                   {"initial_valid_mlm_loss", r.initial_valid_mlm_loss},
                   {"valid_mlm_loss", r.valid_mlm_loss},
                   {"unigram_baseline", r.unigram_baseline},
                   {"train_samples_per_sec", r.train_samples_per_sec},
                   {"threads", at::get_num_threads()},
                   {"wall_seconds", std::chrono::duration<double>(Clock::now() - t_start).count()}};
  if (r.comm.world_size > 1) j["distributed"] = distributed_json(r.comm);
  if (dist::primary()) core::write_sealed(out_dir + "/result.json", j.dump(2) + "\n");
  return j;
}

}  // namespace clickprompt::train
