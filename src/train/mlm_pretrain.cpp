#include "train/mlm_pretrain.h"

#include <ATen/CPUGeneratorImpl.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <numeric>
#include <random>

#include "core/error.h"
#include "core/io.h"
#include "core/precision.h"
#include "core/progress.h"
#include "plm/checkpoint.h"
#include "plm/encoder.h"
#include "plm/mlm.h"
#include "plm/tokenizer/trainer.h"
#include "train/optimizer.h"
#include "train/schedule.h"

namespace clickprompt::train {

namespace {
using Clock = std::chrono::steady_clock;

// The text view of a row is the concatenation of per-field pieces
// ("User ID is 1." then " Gender is female." ...): tokenized once per distinct
// (field, value), assembled per row (plm tests check this equals encoding the text).
struct PieceIds {
  std::vector<std::vector<std::vector<int64_t>>> ids;  // [field][code] -> token ids
};

std::string piece_text(const data::Dataset& ds, int f, uint32_t code) {
  return (f ? " " : "") + ds.fields[f].display + " is " + ds.fields[f].values[code] + ".";
}

std::vector<std::vector<int64_t>> rows_of(const data::Dataset& ds, const data::Split& s, const PieceIds& pieces,
                                          const plm::Tokenizer& tok, const int64_t* rows, int64_t n) {
  const int F = static_cast<int>(ds.fields.size());
  const int32_t* codes = s.codes.data_ptr<int32_t>();
  std::vector<std::vector<int64_t>> out(n);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int64_t> ids;
    for (int f = 0; f < F; ++f) {
      const auto& p = pieces.ids[f][codes[rows[i] * F + f]];
      ids.insert(ids.end(), p.begin(), p.end());
    }
    out[i] = tok.with_special_tokens(ids);
  }
  return out;
}
}  // namespace

nlohmann::json pretrain_mlm(const data::Dataset& ds, const MlmPretrainOptions& o, const std::string& out_dir) {
  auto t_start = Clock::now();
  const auto precision = core::parse_precision(o.precision);
  if (o.batch_size <= 0 || o.epochs <= 0 || o.hidden_size % o.heads != 0)
    throw Error("pretrain: batch_size and epochs must be positive and hidden_size divisible by heads");
  torch::manual_seed(o.seed);
  const int F = static_cast<int>(ds.fields.size());

  // 1. Vocabulary from the training split, counted per distinct field piece.
  plm::BpeTrainerOptions topt;
  topt.vocab_size = o.vocab_size;
  plm::BpeTrainer trainer(topt);
  for (int f = 0; f < F; ++f) {
    auto counts = torch::bincount(ds.train.codes.select(1, f).to(torch::kInt64), {},
                                  static_cast<int64_t>(ds.fields[f].values.size()));
    const int64_t* c = counts.data_ptr<int64_t>();
    for (size_t v = 0; v < ds.fields[f].values.size(); ++v)
      if (c[v] > 0) trainer.add_text(piece_text(ds, f, static_cast<uint32_t>(v)), c[v]);
  }
  auto tok = trainer.train();
  PieceIds pieces;
  pieces.ids.resize(F);
  int64_t max_len = 2;
  for (int f = 0; f < F; ++f) {
    size_t longest = 0;
    for (size_t v = 0; v < ds.fields[f].values.size(); ++v) {
      pieces.ids[f].push_back(tok->encode_piece(piece_text(ds, f, static_cast<uint32_t>(v))));
      longest = std::max(longest, pieces.ids[f].back().size());
    }
    max_len += static_cast<int64_t>(longest);
  }
  spdlog::info("tokenizer: byte-level BPE, {} tokens; longest text view {} tokens", tok->vocab_size(), max_len);

  // 2. A small RoBERTa-style encoder.
  plm::HfConfig cfg = plm::HfConfig::roberta_base();
  cfg.vocab_size = tok->vocab_size();
  cfg.hidden_size = o.hidden_size;
  cfg.num_hidden_layers = o.layers;
  cfg.num_attention_heads = o.heads;
  cfg.intermediate_size = o.intermediate_size;
  cfg.max_position_embeddings = max_len + 2;  // RoBERTa positions start after padding_idx
  cfg.hidden_dropout_prob = cfg.attention_probs_dropout_prob = o.dropout;
  cfg.pad_token_id = tok->pad_id();
  plm::MaskedLm model(cfg);
  plm::init_weights(model, 0.02, o.seed);
  torch::Device dev(o.device);
  model->to(dev);
  int64_t n_params = 0;
  for (const auto& p : model->parameters()) n_params += p.numel();
  spdlog::info("encoder: {} layers, width {}, {} heads, {} parameters", o.layers, o.hidden_size, o.heads, n_params);

  AdamOptimizer opt({ParamGroup{"plm", model->parameters(), o.lr, o.weight_decay}},
                    AdamConfig{0.9, 0.999, 1e-8, /*decoupled_weight_decay=*/true});
  const int64_t rows_per_epoch = o.max_train_rows > 0 ? std::min(o.max_train_rows, ds.train.rows) : ds.train.rows;
  const int64_t steps_per_epoch = (rows_per_epoch + o.batch_size - 1) / o.batch_size;
  LrSchedule sched{"linear", static_cast<int64_t>(o.warmup_ratio * steps_per_epoch * o.epochs),
                   steps_per_epoch * o.epochs};
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);

  // Validation: a fixed sample of valid rows with fixed masks.
  std::vector<int64_t> valid_idx(std::min(o.valid_rows, ds.valid.rows));
  std::iota(valid_idx.begin(), valid_idx.end(), 0);
  auto vgen = at::make_generator<at::CPUGeneratorImpl>(o.seed + 1);
  std::vector<std::pair<plm::MaskedTokens, torch::Tensor>> valid_batches;
  for (size_t s = 0; s < valid_idx.size(); s += 256) {
    int64_t n = std::min<int64_t>(256, static_cast<int64_t>(valid_idx.size() - s));
    auto [ids, mask] = plm::to_tensors(tok->pad(rows_of(ds, ds.valid, pieces, *tok, valid_idx.data() + s, n)), torch::kCPU);
    auto m = plm::mask_tokens(ids, plm::special_tokens_mask(ids, *tok, mask), tok->mask_id(), tok->vocab_size(), vgen);
    valid_batches.emplace_back(m, mask);
  }
  auto validate = [&]() {
    torch::NoGradGuard ng;
    model->eval();
    double loss_sum = 0, n_sum = 0;
    std::vector<torch::Tensor> labels;
    for (auto& [m, mask] : valid_batches) {
      core::AutocastGuard ac(precision, dev);
      plm::EncoderInput in;
      in.input_ids = m.input_ids.to(dev);
      in.attention_mask = mask.to(dev);
      in.output_hidden_states = false;
      double n = m.labels.ne(-100).sum().item<double>();
      loss_sum += plm::mlm_loss(model, model->encode(in).last_hidden_state.to(torch::kFloat32), m.labels.to(dev)).item<double>() * n;
      n_sum += n;
      labels.push_back(m.labels.flatten());
    }
    model->train();
    return std::make_pair(loss_sum / std::max(1.0, n_sum), plm::unigram_entropy(torch::cat(labels), tok->vocab_size()));
  };

  core::make_dirs(out_dir);
  std::string log;
  double train_seconds = 0;
  int64_t trained = 0, step = 0;
  std::pair<double, double> last{0, 0};
  model->train();
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    std::vector<int64_t> order(ds.train.rows);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(o.seed * 1000003ULL + static_cast<uint64_t>(epoch));
    std::shuffle(order.begin(), order.end(), rng);
    core::Progress progress("pretrain epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs), rows_per_epoch,
                            o.progress);
    auto t0 = Clock::now();
    double loss_sum = 0;
    int64_t loss_n = 0;
    for (int64_t s = 0; s < rows_per_epoch; s += o.batch_size) {
      int64_t n = std::min(o.batch_size, rows_per_epoch - s);
      auto [ids, mask] = plm::to_tensors(tok->pad(rows_of(ds, ds.train, pieces, *tok, order.data() + s, n)), torch::kCPU);
      auto m = plm::mask_tokens(ids, plm::special_tokens_mask(ids, *tok, mask), tok->mask_id(), tok->vocab_size(), gen);
      opt.set_lr(0, o.lr * sched.factor(step));
      opt.zero_grad();
      torch::Tensor loss;
      {
        core::AutocastGuard ac(precision, dev);
        plm::EncoderInput in;
        in.input_ids = m.input_ids.to(dev);
        in.attention_mask = mask.to(dev);
        in.output_hidden_states = false;
        loss = plm::mlm_loss(model, model->encode(in).last_hidden_state, m.labels.to(dev));
      }
      loss.backward();
      opt.step(1.0);
      ++step;
      if ((step & 15) == 0 || s + n >= rows_per_epoch) {
        loss_sum += loss.item<double>() * n;
        loss_n += n;
        progress.update(s + n, loss_sum / loss_n);
      }
    }
    progress.finish();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    train_seconds += secs;
    trained += rows_per_epoch;
    last = validate();
    spdlog::info("pretrain epoch {}: valid MLM loss {:.4f} nats (unigram baseline {:.4f}) | {:.0f} samples/s", epoch,
                 last.first, last.second, rows_per_epoch / secs);
    log += nlohmann::json{{"epoch", epoch}, {"valid_mlm_loss", last.first}, {"unigram_baseline", last.second},
                          {"samples_per_sec", rows_per_epoch / secs}, {"seconds", secs}}.dump() + "\n";
    core::atomic_write_string(out_dir + "/metrics.jsonl", log);
  }
  model->eval();
  plm::save_pretrained(model, out_dir);
  tok->save(out_dir);
  nlohmann::json r{{"dataset", ds.spec.name},
                   {"mode", "mlm_pretrain"},
                   {"seed", o.seed},
                   {"config", {{"vocab_size", tok->vocab_size()}, {"hidden_size", o.hidden_size}, {"layers", o.layers},
                               {"heads", o.heads}, {"intermediate_size", o.intermediate_size}, {"batch_size", o.batch_size},
                               {"epochs", o.epochs}, {"max_train_rows", o.max_train_rows}, {"lr", o.lr},
                               {"precision", o.precision}}},
                   {"parameters", n_params},
                   {"valid_mlm_loss", last.first},
                   {"unigram_baseline", last.second},
                   {"train_samples_per_sec", train_seconds > 0 ? trained / train_seconds : 0.0},
                   {"threads", at::get_num_threads()},
                   {"wall_seconds", std::chrono::duration<double>(Clock::now() - t_start).count()}};
  core::atomic_write_string(out_dir + "/result.json", r.dump(2) + "\n");
  return r;
}

}  // namespace clickprompt::train
