#include "train/trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "core/strings.h"
#include "metrics/metrics.h"
#include "train/optimizer.h"

namespace clickprompt::train {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Fisher-Yates with our own engine: the same order for a seed on every platform.
torch::Tensor permutation(int64_t n, uint64_t seed) {
  auto perm = torch::arange(n, torch::kInt64);
  auto* p = perm.data_ptr<int64_t>();
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    std::uniform_int_distribution<int64_t> pick(0, i);
    std::swap(p[i], p[pick(rng)]);
  }
  return perm;
}

struct State {
  int epoch = 0;  // epochs completed
  int64_t step = 0;
  std::vector<double> base_lrs;
  EarlyStopping stop;
  double best_logloss = 0;
  double best_auc = 0;  // validation AUC of the best epoch (stop.best is the monitored score)
  double train_seconds = 0;
  int64_t trained_samples = 0;
  bool finished = false;  // stopped early (a resumed run with more epochs continues otherwise)
  std::vector<EpochRecord> history;
};

nlohmann::json to_json(const EpochRecord& r) {
  return {{"epoch", r.epoch},         {"train_loss", r.train_loss}, {"valid_auc", r.valid_auc},
          {"valid_logloss", r.valid_logloss}, {"seconds", r.seconds},       {"samples_per_sec", r.samples_per_sec},
          {"lr", r.lrs}};
}

nlohmann::json to_json(const State& s) {
  nlohmann::json h = nlohmann::json::array();
  for (const auto& r : s.history) h.push_back(to_json(r));
  return {{"epoch", s.epoch},
          {"step", s.step},
          {"base_lrs", s.base_lrs},
          {"best_auc", s.stop.best},
          {"best_epoch", s.stop.best_epoch},
          {"bad_epochs", s.stop.bad_epochs},
          {"best_logloss", s.best_logloss},
          {"best_valid_auc", s.best_auc},
          {"train_seconds", s.train_seconds},
          {"trained_samples", s.trained_samples},
          {"finished", s.finished},
          {"history", h}};
}

State state_from_json(const nlohmann::json& j, int patience) {
  State s;
  s.epoch = j.at("epoch");
  s.step = j.at("step");
  s.base_lrs = j.at("base_lrs").get<std::vector<double>>();
  s.stop.patience = patience;
  s.stop.best = j.at("best_auc");
  s.stop.best_epoch = j.at("best_epoch");
  s.stop.bad_epochs = j.at("bad_epochs");
  s.best_logloss = j.at("best_logloss");
  s.best_auc = j.value("best_valid_auc", s.stop.best);
  s.train_seconds = j.at("train_seconds");
  s.trained_samples = j.at("trained_samples");
  s.finished = j.at("finished");
  for (const auto& r : j.at("history")) {
    EpochRecord e;
    e.epoch = r.at("epoch");
    e.train_loss = r.at("train_loss");
    e.valid_auc = r.at("valid_auc");
    e.valid_logloss = r.at("valid_logloss");
    e.seconds = r.at("seconds");
    e.samples_per_sec = r.at("samples_per_sec");
    e.lrs = r.at("lr").get<std::vector<double>>();
    s.history.push_back(e);
  }
  return s;
}

void save_last(const std::string& path, torch::nn::Module& m, AdamOptimizer& opt, const State& s) {
  core::atomic_write(path, [&](const std::string& tmp) {
    torch::serialize::OutputArchive archive, model_a, opt_a;
    m.save(model_a);
    opt.save(opt_a);
    archive.write("model", model_a);
    archive.write("optimizer", opt_a);
    archive.write("state", c10::IValue(to_json(s).dump()));
    archive.save_to(tmp);
  });
}

State load_last(const std::string& path, torch::nn::Module& m, AdamOptimizer& opt, int patience) {
  try {
    torch::serialize::InputArchive archive, model_a, opt_a;
    archive.load_from(path);
    archive.read("model", model_a);
    m.load(model_a);
    archive.read("optimizer", opt_a);
    opt.load(opt_a);
    c10::IValue state;
    archive.read("state", state);
    return state_from_json(nlohmann::json::parse(state.toStringRef()), patience);
  } catch (const c10::Error& e) {
    throw Error("cannot resume from " + path + ": corrupt or incompatible checkpoint (" +
                std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  } catch (const nlohmann::json::exception& e) {
    throw Error("cannot resume from " + path + ": bad state record (" + e.what() + ")");
  }
}

}  // namespace

TrainerOptions TrainerOptions::from(const core::Params& t, const TrainerOptions& defaults) {
  TrainerOptions o = defaults;
  o.batch_size = t.get<int64_t>("batch_size", o.batch_size);
  o.eval_batch_size = t.get<int64_t>("eval_batch_size", o.eval_batch_size);
  o.max_epochs = t.get<int>("epochs", o.max_epochs);
  o.patience = t.get<int>("patience", o.patience);
  o.plateau_factor = t.get<double>("plateau_factor", o.plateau_factor);
  o.optimizer = t.get<std::string>("optimizer", o.optimizer);
  o.beta1 = t.get<double>("beta1", o.beta1);
  o.beta2 = t.get<double>("beta2", o.beta2);
  o.eps = t.get<double>("eps", o.eps);
  o.lr_schedule = t.get<std::string>("lr_schedule", o.lr_schedule);
  o.warmup_steps = t.get<int64_t>("warmup_steps", o.warmup_steps);
  o.warmup_ratio = t.get<double>("warmup_ratio", o.warmup_ratio);
  o.grad_clip_norm = t.get<double>("grad_clip_norm", o.grad_clip_norm);
  o.epoch_rows = t.get<int64_t>("epoch_rows", o.epoch_rows);
  o.monitor = t.get<std::string>("monitor", o.monitor);
  if (o.monitor != "auc" && o.monitor != "auc-logloss")
    throw Error(t.context() + ".monitor: '" + o.monitor + "' (expected auc or auc-logloss)" +
                core::suggest(o.monitor, {"auc", "auc-logloss"}));
  if (o.optimizer != "adam" && o.optimizer != "adamw")
    throw Error(t.context() + ".optimizer: '" + o.optimizer + "' (" + core::suggest(o.optimizer, {"adam", "adamw"}) + ")");
  if (o.batch_size <= 0 || o.eval_batch_size <= 0) throw Error(t.context() + ": batch sizes must be positive");
  if (o.max_epochs <= 0) throw Error(t.context() + ".epochs must be positive");
  if (o.patience <= 0) throw Error(t.context() + ".patience must be positive");
  LrSchedule{o.lr_schedule}.factor(0);  // validates the name
  return o;
}

Trainer::Trainer(TrainerOptions opt, std::string out_dir) : opt_(std::move(opt)), out_dir_(std::move(out_dir)) {}

std::vector<float> Trainer::predict(Task& task, const data::Split& split, double* seconds) const {
  torch::NoGradGuard ng;
  task.module().eval();
  auto t0 = Clock::now();
  torch::Device dev(opt_.device);
  std::vector<float> out;
  out.reserve(split.rows);
  for (int64_t s = 0; s < split.rows; s += opt_.eval_batch_size) {
    int64_t e = std::min(split.rows, s + opt_.eval_batch_size);
    Batch b;
    b.ids = split.ids.slice(0, s, e).to(dev, torch::kInt64);
    b.labels = split.labels.slice(0, s, e).to(dev);
    b.rows = torch::arange(s, e, torch::kInt64);
    b.split = &split;
    auto p = to_float_vector(task.predict(b));
    out.insert(out.end(), p.begin(), p.end());
  }
  if (seconds) *seconds = since(t0);
  return out;
}

FitResult Trainer::fit(Task& task, const data::Dataset& ds, bool resume) {
  core::make_dirs(out_dir_);
  const std::string last_path = out_dir_ + "/last.ckpt", best_path = out_dir_ + "/best.ckpt";
  torch::Device dev(opt_.device);
  task.module().to(dev);
  auto groups = task.param_groups();
  auto optimizer = std::make_unique<AdamOptimizer>(
      groups, AdamConfig{opt_.beta1, opt_.beta2, opt_.eps, /*decoupled_weight_decay=*/opt_.optimizer == "adamw"});

  const data::Split& tr = ds.train;
  // Rows per epoch: all, or a fresh shuffled sample of epoch_rows each epoch.
  const int64_t rows = opt_.epoch_rows > 0 ? std::min(opt_.epoch_rows, tr.rows) : tr.rows;
  const int64_t steps_per_epoch = (rows + opt_.batch_size - 1) / opt_.batch_size;
  LrSchedule sched;
  sched.kind = opt_.lr_schedule;
  sched.total_steps = steps_per_epoch * opt_.max_epochs;
  sched.warmup_steps = opt_.warmup_steps > 0 ? opt_.warmup_steps
                                             : static_cast<int64_t>(opt_.warmup_ratio * sched.total_steps);

  State st;
  st.stop.patience = opt_.patience;
  for (const auto& g : groups) st.base_lrs.push_back(g.lr);
  if (resume && core::file_exists(last_path)) {
    st = load_last(last_path, task.module(), *optimizer, opt_.patience);
    spdlog::info("resuming from {} after epoch {} (best valid AUC {:.5f} at epoch {})", last_path, st.epoch,
                 st.best_auc, st.stop.best_epoch);
  }

  // JSON lines of every epoch, rewritten whole so a resumed run keeps one consistent log.
  auto write_log = [&]() {
    std::string text;
    for (const auto& r : st.history) text += to_json(r).dump() + "\n";
    core::atomic_write_string(out_dir_ + "/metrics.jsonl", text);
  };

  while (!st.finished && st.epoch < opt_.max_epochs) {
    const int epoch = st.epoch + 1;
    task.module().train();
    auto t_epoch = Clock::now();
    // One shuffled copy per epoch: batches are then contiguous slices (no per-batch gathers).
    auto perm = permutation(tr.rows, opt_.seed * 1000003ULL + static_cast<uint64_t>(epoch)).slice(0, 0, rows);
    auto ids = tr.ids.index_select(0, perm).to(dev, torch::kInt64);
    auto labels = tr.labels.index_select(0, perm).to(dev);
    core::Progress progress("epoch " + std::to_string(epoch) + "/" + std::to_string(opt_.max_epochs), rows,
                            opt_.progress);
    double loss_sum = 0;
    int64_t loss_n = 0;
    torch::Tensor loss_acc = torch::zeros({}, torch::TensorOptions().device(dev));
    for (int64_t s = 0; s < rows; s += opt_.batch_size) {
      int64_t e = std::min(rows, s + opt_.batch_size);
      double f = sched.factor(st.step);
      for (size_t g = 0; g < st.base_lrs.size(); ++g) optimizer->set_lr(g, st.base_lrs[g] * f);
      Batch b{ids.slice(0, s, e), labels.slice(0, s, e), perm.slice(0, s, e), &tr};
      optimizer->zero_grad();
      auto loss = task.loss(b);
      loss.backward();
      optimizer->step(opt_.grad_clip_norm);
      loss_acc += loss.detach() * static_cast<double>(e - s);
      loss_n += e - s;
      ++st.step;
      if ((st.step & 63) == 0 || e == rows) {
        // Reading the loss synchronizes the device: only every 64 steps.
        loss_sum = loss_acc.item<double>();
        progress.update(e, loss_sum / static_cast<double>(loss_n));
      }
    }
    loss_sum = loss_acc.item<double>();
    progress.update(rows, loss_sum / std::max<int64_t>(1, loss_n));
    progress.finish();
    double train_seconds = since(t_epoch);
    st.train_seconds += train_seconds;
    st.trained_samples += rows;

    auto valid_probs = predict(task, ds.valid);
    auto valid_labels = to_float_vector(ds.valid.labels);
    EpochRecord rec;
    rec.epoch = epoch;
    rec.train_loss = loss_sum / std::max<int64_t>(1, loss_n);
    rec.valid_auc = metrics::auc(valid_probs, valid_labels);
    rec.valid_logloss = metrics::logloss(valid_probs, valid_labels);
    rec.seconds = since(t_epoch);
    rec.samples_per_sec = rows / train_seconds;
    for (size_t g = 0; g < st.base_lrs.size(); ++g) rec.lrs.push_back(st.base_lrs[g] * sched.factor(st.step - 1));
    if (std::isnan(rec.train_loss)) throw Error("training diverged at epoch " + std::to_string(epoch) + " (loss is NaN); lower the learning rate");
    // The monitored score: AUC, or FuxiCTR's {AUC: 1, logloss: -1}.
    bool improved = st.stop.update(opt_.monitor == "auc" ? rec.valid_auc : rec.valid_auc - rec.valid_logloss, epoch);
    if (improved) {
      st.best_logloss = rec.valid_logloss;
      st.best_auc = rec.valid_auc;
      save_module(task.module(), best_path);
    } else if (opt_.plateau_factor > 0) {
      for (auto& lr : st.base_lrs) lr *= opt_.plateau_factor;
    }
    spdlog::info("epoch {}: train loss {:.5f} | valid AUC {:.5f} logloss {:.5f}{} | {:.0f} samples/s, {:.1f}s", epoch,
                 rec.train_loss, rec.valid_auc, rec.valid_logloss, improved ? " (best)" : "", rec.samples_per_sec,
                 rec.seconds);
    st.history.push_back(rec);
    st.epoch = epoch;
    if (st.stop.should_stop()) {
      spdlog::info("early stop: no improvement for {} epoch(s); best epoch {}", st.stop.bad_epochs, st.stop.best_epoch);
      st.finished = true;
    }
    save_last(last_path, task.module(), *optimizer, st);
    write_log();
  }

  if (!core::file_exists(best_path)) throw Error("no best checkpoint in " + out_dir_ + " (no epoch finished)");
  load_module(task.module(), best_path);
  task.module().to(dev);
  FitResult r;
  r.best_epoch = st.stop.best_epoch;
  r.epochs_run = st.epoch;
  r.valid_auc = st.best_auc;
  r.valid_logloss = st.best_logloss;
  r.train_samples_per_sec = st.train_seconds > 0 ? st.trained_samples / st.train_seconds : 0;
  r.stopped_early = st.stop.should_stop();
  r.history = st.history;
  return r;
}

std::vector<float> to_float_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

void save_module(torch::nn::Module& m, const std::string& path) {
  core::atomic_write(path, [&](const std::string& tmp) {
    torch::serialize::OutputArchive a;
    m.save(a);
    a.save_to(tmp);
  });
}

void load_module(torch::nn::Module& m, const std::string& path) {
  if (!core::file_exists(path)) throw Error("checkpoint not found: " + path);
  try {
    torch::serialize::InputArchive a;
    a.load_from(path);
    m.load(a);
  } catch (const c10::Error& e) {
    throw Error("cannot load checkpoint " + path + ": corrupt file or a different model configuration (" +
                std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
}

}  // namespace clickprompt::train
