#include "train/trainer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <mutex>
#include <random>
#include <sstream>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/progress.h"
#include "core/strings.h"
#include "metrics/metrics.h"
#include "train/distributed.h"
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
  double wall_seconds = 0;  // of every process up to this checkpoint (a resumed run adds its own)
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
          {"wall_seconds", s.wall_seconds},
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
  s.wall_seconds = j.value("wall_seconds", 0.0);
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

const char* kCheckpointHint = "delete it and train again (or --resume from an intact last.ckpt)";

// Checkpoints are serialized in memory and written sealed: a failing write (disk
// full) is then an ordinary error that removes its temp file, and a flipped
// byte is caught on load (LibTorch's zip reader does not check CRCs).
void write_archive(const std::string& path, torch::serialize::OutputArchive& archive) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  core::write_sealed(path, bytes.str());
}

// A checkpoint's bytes as rank 0 reads them, on every rank of a distributed run
// (no rank but 0 touches the run folder); "" when there is no such file.
std::string checkpoint_bytes(const std::string& path) { return dist::read_on_primary(path, kCheckpointHint); }

void read_archive(const std::string& bytes, torch::serialize::InputArchive& archive) {
  std::istringstream in(bytes);
  archive.load_from(in);
}

// The default generators' states (dropout masks draw from them): a resumed run
// then drops the same units as an uninterrupted one.
torch::Tensor rng_state(const torch::Device& dev) {
  at::Generator g = at::globalContext().defaultGenerator(dev.is_cpu() ? c10::Device(c10::kCPU) : dev);
  std::lock_guard<std::mutex> lock(g.mutex());
  return g.get_state();
}
void set_rng_state(const torch::Device& dev, const torch::Tensor& state) {
  at::Generator g = at::globalContext().defaultGenerator(dev.is_cpu() ? c10::Device(c10::kCPU) : dev);
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(state);
}

void save_last(const std::string& path, torch::nn::Module& m, AdamOptimizer& opt, const State& s,
               const torch::Device& dev) {
  torch::serialize::OutputArchive archive, model_a, opt_a;
  m.save(model_a);
  opt.save(opt_a);
  archive.write("model", model_a);
  archive.write("optimizer", opt_a);
  archive.write("state", c10::IValue(to_json(s).dump()));
  archive.write("rng_cpu", rng_state(torch::kCPU));
  if (!dev.is_cpu()) archive.write("rng_device", rng_state(dev));
  write_archive(path, archive);
}

State load_last(const std::string& path, const std::string& bytes, torch::nn::Module& m, AdamOptimizer& opt,
                int patience, const torch::Device& dev) {
  try {
    torch::serialize::InputArchive archive, model_a, opt_a;
    read_archive(bytes, archive);
    archive.read("model", model_a);
    m.load(model_a);
    archive.read("optimizer", opt_a);
    opt.load(opt_a);
    c10::IValue state;
    archive.read("state", state);
    torch::Tensor rng;
    if (archive.try_read("rng_cpu", rng)) set_rng_state(torch::kCPU, rng);
    if (!dev.is_cpu() && archive.try_read("rng_device", rng)) set_rng_state(dev, rng);
    return state_from_json(nlohmann::json::parse(state.toStringRef()), patience);
  } catch (const c10::Error& e) {
    throw CorruptFile("cannot resume from " + path + ": incompatible checkpoint (" +
                      std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  } catch (const nlohmann::json::exception& e) {
    throw CorruptFile("cannot resume from " + path + ": bad state record (" + e.what() + ")");
  }
}

}  // namespace

// A batch of 2^24 rows is far past any use and keeps rows * fields in int64 range.
constexpr int64_t kMaxBatch = int64_t{1} << 24;

TrainerOptions TrainerOptions::from(const core::Params& t, const TrainerOptions& defaults) {
  TrainerOptions o = defaults;
  o.batch_size = t.get_int("batch_size", o.batch_size, 1, kMaxBatch);
  o.eval_batch_size = t.get_int("eval_batch_size", o.eval_batch_size, 1, kMaxBatch);
  o.max_epochs = static_cast<int>(t.get_int("epochs", o.max_epochs, 1, 100000));
  o.patience = static_cast<int>(t.get_int("patience", o.patience, 1, 100000));
  o.plateau_factor = t.get_number("plateau_factor", o.plateau_factor, core::Params::Range::unit_open);
  o.optimizer = t.get<std::string>("optimizer", o.optimizer);
  o.beta1 = t.get_number("beta1", o.beta1, core::Params::Range::unit_open);
  o.beta2 = t.get_number("beta2", o.beta2, core::Params::Range::unit_open);
  o.eps = t.get_number("eps", o.eps, core::Params::Range::positive);
  o.lr_schedule = t.get<std::string>("lr_schedule", o.lr_schedule);
  o.warmup_steps = t.get_int("warmup_steps", o.warmup_steps, 0, int64_t{1} << 40);
  o.warmup_ratio = t.get_number("warmup_ratio", o.warmup_ratio, core::Params::Range::unit);
  o.grad_clip_norm = t.get_number("grad_clip_norm", o.grad_clip_norm, core::Params::Range::non_negative);
  o.epoch_rows = t.get_int("epoch_rows", o.epoch_rows, 0, int64_t{1} << 40);
  o.monitor = t.get<std::string>("monitor", o.monitor);
  if (o.monitor != "auc" && o.monitor != "auc-logloss")
    throw Error(t.context() + ".monitor: '" + o.monitor + "' (" + core::suggest(o.monitor, {"auc", "auc-logloss"}) + ")");
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
  // Distributed: each rank scores its shard of the split, then all gather (exact AUC).
  dist::Group* dg = dist::group();
  auto [lo, hi] = dg ? dist::even_shard(split.rows, dg->rank(), dg->size()) : std::pair<int64_t, int64_t>{0, split.rows};
  std::vector<float> out;
  out.reserve(hi - lo);
  for (int64_t s = lo; s < hi; s += opt_.eval_batch_size) {
    int64_t e = std::min(hi, s + opt_.eval_batch_size);
    Batch b;
    b.ids = split.ids.slice(0, s, e).to(dev, torch::kInt64);
    b.labels = split.labels.slice(0, s, e).to(dev);
    b.rows = torch::arange(s, e, torch::kInt64);
    b.split = &split;
    auto p = to_float_vector(task.predict(b));
    out.insert(out.end(), p.begin(), p.end());
  }
  if (dg) out = dist::gather_floats(*dg, out, "the evaluation gather");
  if (seconds) *seconds = since(t0);
  return out;
}

namespace {
[[noreturn]] void diverged(int epoch, int64_t first_step, int64_t last_step, const char* what) {
  std::string at = first_step == last_step ? "step " + std::to_string(last_step)
                                           : "a step in " + std::to_string(first_step) + "-" + std::to_string(last_step);
  throw Diverged("training diverged at epoch " + std::to_string(epoch) + ", " + at + ": the " + what +
                 " is not finite (NaN or inf). Lower train.lr, check the labels and inputs, or set "
                 "train.grad_clip_norm; the checkpoints of the last finished epoch are intact.");
}
}  // namespace

FitResult Trainer::fit(Task& task, const data::Dataset& ds, bool resume) {
  dist::Group* dg = dist::group();
  const bool primary = dist::primary();  // writes the run folder and shows progress
  const int world = dist::world_size(), rank = dist::rank();
  if (primary) core::make_dirs(out_dir_);
  const std::string last_path = out_dir_ + "/last.ckpt", best_path = out_dir_ + "/best.ckpt";
  torch::Device dev(opt_.device);
  task.module().to(dev);
  auto groups = task.param_groups();
  auto optimizer = std::make_unique<AdamOptimizer>(
      groups, AdamConfig{opt_.beta1, opt_.beta2, opt_.eps, /*decoupled_weight_decay=*/opt_.optimizer == "adamw"});

  const data::Split& tr = ds.train;
  // Rows per epoch: all, or a fresh shuffled sample of epoch_rows each epoch.
  const int64_t rows = opt_.epoch_rows > 0 ? std::min(opt_.epoch_rows, tr.rows) : tr.rows;
  // Distributed: batch_size is each rank's; a step trains on world x batch_size rows.
  const int64_t global_batch = opt_.batch_size * world;
  const int64_t steps_per_epoch = (rows + global_batch - 1) / global_batch;
  LrSchedule sched;
  sched.kind = opt_.lr_schedule;
  sched.total_steps = steps_per_epoch * opt_.max_epochs;
  sched.warmup_steps = opt_.warmup_steps > 0 ? opt_.warmup_steps
                                             : static_cast<int64_t>(opt_.warmup_ratio * sched.total_steps);

  State st;
  st.stop.patience = opt_.patience;
  for (const auto& g : groups) st.base_lrs.push_back(g.lr);
  if (resume) {
    if (std::string bytes = checkpoint_bytes(last_path); !bytes.empty()) {
      st = load_last(last_path, bytes, task.module(), *optimizer, opt_.patience, dev);
      spdlog::info("resuming from {} after epoch {} (best valid AUC {:.5f} at epoch {})", last_path, st.epoch,
                   st.best_auc, st.stop.best_epoch);
    }
  }
  if (dg) {
    // One model on every rank; dropout masks of the other ranks from their own streams.
    dist::broadcast_module(*dg, task.module());
    if (rank > 0) torch::manual_seed(opt_.seed * 1000003ULL + static_cast<uint64_t>(rank) * 7919 + st.epoch);
    spdlog::info("distributed: rank {} of {}, {} backend, global batch {} ({} x {})", rank, world, dg->backend(),
                 global_batch, world, opt_.batch_size);
  }
  const dist::Stats comm_before = dg ? dg->stats() : dist::Stats{};

  const auto t_fit = Clock::now();
  const double earlier_wall = st.wall_seconds;
  // JSON lines of every epoch, rewritten whole so a resumed run keeps one consistent log.
  auto write_log = [&]() {
    if (!primary) return;
    std::string text;
    for (const auto& r : st.history) text += to_json(r).dump() + "\n";
    core::write_sealed(out_dir_ + "/metrics.jsonl", text);
  };

  while (!st.finished && st.epoch < opt_.max_epochs) {
    const int epoch = st.epoch + 1;
    task.module().train();
    auto t_epoch = Clock::now();
    // One shuffled copy per epoch: batches are then contiguous slices (no per-batch gathers).
    // A rank copies only its slices of every global batch.
    auto perm = permutation(tr.rows, opt_.seed * 1000003ULL + static_cast<uint64_t>(epoch)).slice(0, 0, rows);
    if (world > 1) {
      std::vector<torch::Tensor> mine;
      for (int64_t s = 0; s < rows; s += global_batch) {
        auto [b, e] = dist::batch_shard(s, std::min(rows, s + global_batch), opt_.batch_size, rank);
        mine.push_back(perm.slice(0, b, e));
      }
      perm = torch::cat(mine);
    }
    const int64_t local_rows = perm.size(0);
    auto ids = tr.ids.index_select(0, perm).to(dev, torch::kInt64);
    auto labels = tr.labels.index_select(0, perm).to(dev);
    core::Progress progress("epoch " + std::to_string(epoch) + "/" + std::to_string(opt_.max_epochs), local_rows,
                            opt_.progress && primary);
    double loss_sum = 0;
    int64_t loss_n = 0;
    torch::Tensor loss_acc = torch::zeros({}, torch::TensorOptions().device(dev));
    for (int64_t gs = 0, s = 0; gs < rows; gs += global_batch) {
      const int64_t global_rows = std::min(rows, gs + global_batch) - gs;
      auto [b0, b1] = dist::batch_shard(gs, gs + global_rows, opt_.batch_size, rank);
      const int64_t e = s + (b1 - b0);
      double f = sched.factor(st.step);
      for (size_t g = 0; g < st.base_lrs.size(); ++g) optimizer->set_lr(g, st.base_lrs[g] * f);
      optimizer->zero_grad();
      ++st.step;
      if (e == s) {  // a rank past a short last global batch still takes part in the exchange
        optimizer->step(opt_.grad_clip_norm, 0.0);
        continue;
      }
      Batch b{ids.slice(0, s, e), labels.slice(0, s, e), perm.slice(0, s, e), &tr};
      auto loss = task.loss(b);
      loss.backward();
      optimizer->step(opt_.grad_clip_norm, static_cast<double>(e - s) / static_cast<double>(global_rows));
      loss_acc += loss.detach() * static_cast<double>(e - s);
      loss_n += e - s;
      // Reading the loss synchronizes a device: there only every 64 steps (the
      // error then names the range); on the CPU every step.
      if (dev.is_cpu() && !std::isfinite(loss.item<float>())) diverged(epoch, st.step, st.step, "loss");
      if ((st.step & 63) == 0 || e == local_rows) {
        loss_sum = loss_acc.item<double>();
        if (!std::isfinite(loss_sum)) diverged(epoch, std::max<int64_t>(1, st.step - 63), st.step, "loss");
        progress.update(e, loss_sum / static_cast<double>(loss_n));
      }
      s = e;
    }
    loss_sum = loss_acc.item<double>();
    progress.update(local_rows, loss_sum / std::max<int64_t>(1, loss_n));
    progress.finish();
    if (dg) {  // the epoch's training loss over every rank's rows
      std::vector<torch::Tensor> t{torch::tensor({loss_sum, static_cast<double>(loss_n)}, torch::kFloat64).to(dg->comm_device())};
      dg->all_reduce_sum(t, "the training loss sum");
      auto c = t[0].cpu();
      loss_sum = c[0].item<double>();
      loss_n = static_cast<int64_t>(c[1].item<double>());
    }
    double train_seconds = since(t_epoch);
    st.train_seconds += train_seconds;
    st.trained_samples += rows;

    auto valid_probs = predict(task, ds.valid);
    for (float p : valid_probs)
      if (!std::isfinite(p)) diverged(epoch, st.step, st.step, "validation score");
    auto valid_labels = to_float_vector(ds.valid.labels);
    EpochRecord rec;
    rec.epoch = epoch;
    rec.train_loss = loss_sum / std::max<int64_t>(1, loss_n);
    rec.valid_auc = metrics::auc(valid_probs, valid_labels);
    rec.valid_logloss = metrics::logloss(valid_probs, valid_labels);
    rec.seconds = since(t_epoch);
    rec.samples_per_sec = rows / train_seconds;
    for (size_t g = 0; g < st.base_lrs.size(); ++g) rec.lrs.push_back(st.base_lrs[g] * sched.factor(st.step - 1));
    // The monitored score: AUC, or FuxiCTR's {AUC: 1, logloss: -1}.
    bool improved = st.stop.update(opt_.monitor == "auc" ? rec.valid_auc : rec.valid_auc - rec.valid_logloss, epoch);
    if (improved) {
      st.best_logloss = rec.valid_logloss;
      st.best_auc = rec.valid_auc;
      if (primary) save_module(task.module(), best_path);
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
    st.wall_seconds = earlier_wall + since(t_fit);
    if (primary) save_last(last_path, task.module(), *optimizer, st, dev);
    write_log();
  }

  load_module(task.module(), best_path, checkpoint_bytes(best_path));
  task.module().to(dev);
  FitResult r;
  r.best_epoch = st.stop.best_epoch;
  r.epochs_run = st.epoch;
  r.valid_auc = st.best_auc;
  r.valid_logloss = st.best_logloss;
  r.train_samples_per_sec = st.train_seconds > 0 ? st.trained_samples / st.train_seconds : 0;
  r.stopped_early = st.stop.should_stop();
  r.history = st.history;
  r.earlier_wall_seconds = earlier_wall;
  if (dg) {
    r.comm = dist::summarize(*dg, comm_before, global_batch);
    spdlog::info("distributed: per step {:.1f} KB dense + {:.1f} KB sparse gradients; {:.2f} s in gradient "
                 "collectives ({:.0f} % of training)", r.comm.dense_bytes_per_step / 1e3,
                 r.comm.sparse_bytes_per_step / 1e3, r.comm.seconds,
                 100.0 * r.comm.seconds / std::max(1e-9, st.train_seconds));
  }
  return r;
}

std::vector<float> to_float_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

void save_module(torch::nn::Module& m, const std::string& path) {
  torch::serialize::OutputArchive a;
  m.save(a);
  write_archive(path, a);
}

void load_module(torch::nn::Module& m, const std::string& path) {
  if (!core::file_exists(path)) throw Error("checkpoint not found: " + path);
  load_module(m, path, core::read_sealed(path, kCheckpointHint));
}

void load_module(torch::nn::Module& m, const std::string& path, const std::string& bytes) {
  if (bytes.empty()) throw Error("checkpoint not found: " + path + " (no epoch finished?)");
  try {
    torch::serialize::InputArchive a;
    read_archive(bytes, a);
    m.load(a);
  } catch (const c10::Error& e) {
    throw CorruptFile("cannot load checkpoint " + path + ": a different model configuration (" +
                      std::string(e.what_without_backtrace()).substr(0, 200) + ")");
  }
}

}  // namespace clickprompt::train
