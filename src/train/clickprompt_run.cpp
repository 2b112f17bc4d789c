#include "train/clickprompt_run.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cmath>
#include <numeric>
#include <set>

#include "bundle/bundle.h"
#include "clickprompt/clickprompt_model.h"
#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/params.h"
#include "core/precision.h"
#include "core/runtime.h"
#include "ctr/registry.h"
#include "metrics/metrics.h"
#include "plm/checkpoint.h"
#include "plm/mlm.h"
#include "plm/tokenizer/tokenizer.h"
#include "train/mlm_pretrain.h"
#include "train/distributed.h"
#include "train/optimizer.h"
#include "bundle/text_views.h"
#include "train/trainer.h"

namespace clickprompt::train {

namespace {
using Clock = std::chrono::steady_clock;
const char* kCheckpoint = "clickprompt.safetensors";

// What every stage reads from the config.
struct Setup {
  uint64_t seed = 2024;
  std::string device, model_name, plm_path;
  data::DatasetSpec spec;
  cp::ClickPromptOptions cp;
};

Setup read_setup(core::Params& root) {
  Setup s;
  s.seed = root.get<uint64_t>("seed", 2024);
  s.device = core::check_device(root.get<std::string>("device", "cpu"));
  const YAML::Node& c = root.node();
  if (!c["dataset"] || !c["dataset"].IsMap()) throw Error("config: 'dataset' section (a dataset spec) is missing");
  s.spec = data::DatasetSpec::from_yaml(c["dataset"], "config.dataset");
  root.has("dataset");
  if (!c["model"] || !c["model"]["model"]) throw Error("config: model.model (the CTR backbone's name) is missing");
  s.model_name = c["model"]["model"].as<std::string>();
  ctr::check_model_name(s.model_name);
  s.plm_path = root.require<std::string>("plm");
  s.cp = cp::ClickPromptOptions::from(root.child("clickprompt"));
  return s;
}

using bundle::copy_state;
using bundle::flat_state;

std::string join_some(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + v[i];
  return v.size() > 8 ? s + ", ... (" + std::to_string(v.size()) + " in all)" : s;
}

// The data, CTR model, PLM and tokenizer of a stage.
struct Parts {
  data::Dataset ds;
  ctr::CtrModelPtr ctr;
  plm::MaskedLm plm{nullptr};
  std::shared_ptr<plm::Tokenizer> tok;
};

// The CTR model (fresh, seeded), the PLM and its tokenizer of a stage or of a finished run.
void build_models(const Setup& s, const ctr::FeatureInfo& features, const core::Params& model_p, Parts& parts) {
  torch::manual_seed(s.seed);
  parts.ctr = ctr::create_model(s.model_name, features, model_p);
  plm::LoadReport report;
  parts.plm = plm::load_pretrained(s.plm_path, torch::kCPU, /*with_head=*/true, &report);
  parts.tok = plm::load_tokenizer(s.plm_path);
  const auto& cfg = parts.plm->config();
  if (parts.tok->vocab_size() > cfg.vocab_size)
    throw Error("PLM " + s.plm_path + ": the tokenizer has " + std::to_string(parts.tok->vocab_size()) +
                " tokens, the model's vocabulary only " + std::to_string(cfg.vocab_size));
  spdlog::info("PLM {}: {} layers, width {}, vocabulary {} ({})", s.plm_path, cfg.num_hidden_layers, cfg.hidden_size,
               cfg.vocab_size, report.summary());
}

Parts build_parts(const Setup& s, const core::Params& model_p, const RunOptions& opt) {
  Parts parts;
  parts.ds = load_dataset(s.spec, opt);
  build_models(s, parts.ds.feature_info(), model_p, parts);
  return parts;
}

cp::ClickPromptModel make_model(const Setup& s, Parts& parts) {
  cp::ClickPromptModel m(parts.ctr, parts.plm, s.cp);
  int64_t n = 0, n_plm = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  for (const auto& p : m->plm_parameters()) n_plm += p.numel();
  spdlog::info("ClickPrompt: backbone {}, K={} prompts, fusion {}, generator {}; {} parameters ({} in the PLM)",
               s.model_name, s.cp.prompt.num_prompts, cp::fusion_name(s.cp.prompt.fusion), s.cp.prompt.generator, n,
               n_plm);
  return m;
}

// The PA-MLM checkpoint of a folder, checked against this run's data.
plm::StateDict read_pretrained(const std::string& dir, const data::Dataset& ds) {
  const std::string ckpt = dir + "/" + kCheckpoint;
  if (!core::file_exists(ckpt)) throw Error("not a PA-MLM folder: " + ckpt + " is missing (run --mode pa-mlm first)");
  const std::string enc = dir + "/encoder.json";
  if (core::file_exists(enc)) {
    // Same fields and vocabularies, or the ids mean different things.
    auto j = nlohmann::json::parse(core::read_sealed(enc, "run --mode pa-mlm again"), nullptr, false);
    if (!j.is_array()) throw CorruptFile(enc + " is not a list of fields: run --mode pa-mlm again");
    bool same = j.size() == ds.fields.size();
    for (size_t f = 0; same && f < ds.fields.size(); ++f)
      same = j[f].at("name") == ds.fields[f].name && j[f].at("vocab").size() == ds.encoder.vocab[f].size();
    if (!same) throw Error(dir + " was pretrained on a different encoding of the data: use the same dataset spec");
  }
  core::verify_sealed(ckpt, "run --mode pa-mlm again");
  return plm::read_safetensors(ckpt);
}

// Fine-tuning with the PLM: BCE on the fused logit.
class ClickPromptTask : public Task {
 public:
  ClickPromptTask(cp::ClickPromptModel model, std::shared_ptr<TextViews> text, const core::Params& t)
      : model_(std::move(model)), text_(std::move(text)) {
    lr_ = t.get_number("lr", 1e-3, core::Params::Range::positive);
    embedding_lr_ = t.get_number("embedding_lr", lr_, core::Params::Range::positive);
    weight_decay_ = t.get_number("weight_decay", 0.0, core::Params::Range::non_negative);
    plm_lr_ = t.get_number("plm_lr", 5e-5, core::Params::Range::positive);
    plm_weight_decay_ = t.get_number("plm_weight_decay", 0.0, core::Params::Range::non_negative);
    precision_ = core::parse_precision(t.get<std::string>("precision", "fp32"));
    if (plm_lr_ < 0) throw Error(t.context() + ".plm_lr must be >= 0 (0 freezes the PLM)");
  }
  torch::nn::Module& module() override { return *model_; }
  std::vector<ParamGroup> param_groups() override {
    std::set<const void*> emb;
    ParamGroup e{"ctr_embedding", model_->ctr().embedding_parameters(), embedding_lr_, 0.0};
    for (const auto& p : e.params) emb.insert(p.unsafeGetTensorImpl());
    ParamGroup dense{"dense", {}, lr_, weight_decay_};
    for (const auto& p : model_->other_parameters())
      if (!emb.count(p.unsafeGetTensorImpl())) dense.params.push_back(p);
    std::vector<ParamGroup> groups{e, dense};
    auto plm = model_->plm_parameters();
    if (plm_lr_ == 0) {
      for (auto& p : plm) p.set_requires_grad(false);  // frozen: prompts still get gradients through it
    } else {
      groups.push_back(ParamGroup{"plm", plm, plm_lr_, plm_weight_decay_});
    }
    return groups;
  }
  torch::Tensor loss(const Batch& b) override {
    return torch::binary_cross_entropy_with_logits(logit(b), b.labels);
  }
  torch::Tensor predict(const Batch& b) override {
    auto y = logits(b);
    if (recording_) {
      branch_ctr_.push_back(y.ctr.to(torch::kCPU, torch::kFloat32));
      branch_plm_.push_back(y.plm.to(torch::kCPU, torch::kFloat32));
    }
    return torch::sigmoid(y.fused.to(torch::kFloat32));
  }
  // While on, predict() keeps each batch's branch logits, in call order, for branch_logits().
  void record_branches(bool on) {
    recording_ = on;
    branch_ctr_.clear();
    branch_plm_.clear();
  }
  // The CTR branch's and the PLM branch's logits over the recorded batches.
  std::pair<std::vector<float>, std::vector<float>> branch_logits() const {
    if (branch_ctr_.empty()) return {};
    return {to_float_vector(torch::cat(branch_ctr_)), to_float_vector(torch::cat(branch_plm_))};
  }

 private:
  torch::Tensor logit(const Batch& b) { return logits(b).fused.to(torch::kFloat32); }
  cp::FusedLogits logits(const Batch& b) {
    if (!b.split) throw Error("ClickPrompt fine-tuning needs the batch's split (text views)");
    auto rows = b.rows.contiguous();
    auto [ids, mask] = text_->batch(*b.split, rows.data_ptr<int64_t>(), rows.numel());
    auto dev = b.ids.device();
    core::AutocastGuard ac(precision_, dev);
    return model_->logits(b.ids, {ids.to(dev), mask.to(dev)});
  }
  bool recording_ = false;
  std::vector<torch::Tensor> branch_ctr_, branch_plm_;
  cp::ClickPromptModel model_;
  std::shared_ptr<TextViews> text_;
  double lr_, embedding_lr_, weight_decay_, plm_lr_, plm_weight_decay_;
  core::Precision precision_;
};

void check_positions(const Setup& s, const Parts& parts, const TextViews& text) {
  const auto& cfg = parts.plm->config();
  int64_t k = s.cp.prompt.fusion == cp::Fusion::None ? 0 : s.cp.prompt.num_prompts;
  int64_t need = text.max_length() + k + (cfg.is_roberta() ? cfg.pad_token_id + 1 : 0);
  if (need > cfg.max_position_embeddings)
    throw Error("PLM " + s.plm_path + " has " + std::to_string(cfg.max_position_embeddings) +
                " positions; the longest text view (" + std::to_string(text.max_length()) + " tokens) with " +
                std::to_string(k) + " prompts needs " + std::to_string(need) +
                " (fewer prompts, or a PLM pretrained with more position headroom)");
}
}  // namespace

nlohmann::json run_pa_mlm(const YAML::Node& config_in, const RunOptions& opt) {
  auto t_start = Clock::now();
  YAML::Node config = YAML::Clone(config_in);
  core::Params root(config, "config");
  Setup s = read_setup(root);
  if (s.cp.prompt.fusion == cp::Fusion::None) throw Error("PA-MLM needs prompts: clickprompt.fusion is 'none'");
  core::Params model_p = root.child("model");
  core::Params pre = root.child("pretrain");
  MlmLoopOptions lo;
  lo.name = "PA-MLM";
  lo.batch_size = pre.get<int64_t>("batch_size", 64);
  lo.epochs = pre.get<int>("epochs", 1);
  lo.max_train_rows = pre.get<int64_t>("max_train_rows", 0);
  lo.valid_rows = pre.get<int64_t>("valid_rows", 2000);
  lo.warmup_ratio = pre.get_number("warmup_ratio", 0.06, core::Params::Range::unit);
  lo.grad_clip_norm = pre.get_number("grad_clip_norm", 1.0, core::Params::Range::non_negative);
  lo.precision = pre.get<std::string>("precision", "fp32");
  const double plm_lr = pre.get_number("plm_lr", 5e-5, core::Params::Range::positive), ctr_lr = pre.get_number("ctr_lr", 1e-3, core::Params::Range::positive);
  const double wd = pre.get_number("weight_decay", 0.01, core::Params::Range::non_negative);
  lo.seed = s.seed;
  lo.device = s.device;
  lo.progress = opt.progress;
  pre.check_unused();
  root.check_unused({"train"});  // the fine-tuning's section may share the file

  Parts parts = build_parts(s, model_p, opt);
  auto text = std::make_shared<TextViews>(parts.ds, parts.tok);
  check_positions(s, parts, *text);
  auto model = make_model(s, parts);
  model->to(torch::Device(s.device));
  write_run_files(opt.out_dir, config, parts.ds, /*resume=*/false);  // PA-MLM always starts afresh

  std::set<const void*> emb;
  ParamGroup e{"ctr_embedding", parts.ctr->embedding_parameters(), ctr_lr, 0.0};
  for (const auto& p : e.params) emb.insert(p.unsafeGetTensorImpl());
  ParamGroup other{"ctr_generator", {}, ctr_lr, 0.0};
  for (const auto& p : model->other_parameters())
    if (!emb.count(p.unsafeGetTensorImpl())) other.params.push_back(p);
  AdamOptimizer optimizer({e, other, ParamGroup{"plm", model->plm_parameters(), plm_lr, wd}},
                          AdamConfig{0.9, 0.999, 1e-8, /*decoupled_weight_decay=*/true});
  auto loss_fn = [&](const torch::Tensor& ids, const torch::Tensor& input_ids, const torch::Tensor& mask,
                     const torch::Tensor& labels) { return model->mlm_loss(ids, {input_ids, mask}, labels); };
  auto save = [&](int) {  // rank 0 only (train_mlm calls it there)
    plm::write_safetensors(opt.out_dir + "/" + kCheckpoint, flat_state(*model)); };
  auto r = train_mlm(parts.ds, *text, *model, optimizer, lo, loss_fn, opt.out_dir, save);

  nlohmann::json j{{"dataset", parts.ds.spec.name},
                   {"mode", "pa_mlm"},
                   {"model", s.model_name},
                   {"seed", s.seed},
                   {"plm", s.plm_path},
                   {"config", nlohmann::json::parse(core::yaml_to_json_string(config))},
                   {"initial_valid_mlm_loss", r.initial_valid_mlm_loss},
                   {"valid_mlm_loss", r.valid_mlm_loss},
                   {"unigram_baseline", r.unigram_baseline},
                   {"train_samples_per_sec", r.train_samples_per_sec},
                   {"steps", r.steps},
                   {"threads", at::get_num_threads()},
                   {"device", s.device},
                   {"wall_seconds", std::chrono::duration<double>(Clock::now() - t_start).count()}};
  if (r.comm.world_size > 1) j["distributed"] = distributed_json(r.comm);
  if (dist::primary()) core::write_sealed(opt.out_dir + "/result.json", j.dump(2) + "\n");
  spdlog::info("PA-MLM: valid MLM loss {:.4f} (before {:.4f}, unigram {:.4f}), {:.0f} samples/s -> {}",
               r.valid_mlm_loss, r.initial_valid_mlm_loss, r.unigram_baseline, r.train_samples_per_sec, opt.out_dir);
  return j;
}

nlohmann::json run_finetune_plm(const YAML::Node& config_in, const RunOptions& opt, const std::string& pretrained) {
  auto t_start = Clock::now();
  YAML::Node config = YAML::Clone(config_in);
  core::Params root(config, "config");
  Setup s = read_setup(root);
  core::Params model_p = root.child("model");
  core::Params train_p = root.child("train");
  root.check_unused({"pretrain"});

  Parts parts = build_parts(s, model_p, opt);
  auto text = std::make_shared<TextViews>(parts.ds, parts.tok);
  check_positions(s, parts, *text);
  auto model = make_model(s, parts);
  if (!pretrained.empty()) {
    auto sd = read_pretrained(pretrained, parts.ds);
    // The fusion head and alpha are new in fine-tuning; the generator is absent without prompts.
    auto missing = copy_state(*model, sd, "", {}, pretrained);
    std::vector<std::string> bad;
    for (const auto& m : missing)
      if (m.rfind("plm_head.", 0) != 0 && m != "alpha") bad.push_back(m);
    if (!bad.empty())
      throw Error(pretrained + " lacks tensors this model needs: " + join_some(bad) +
                  " (different clickprompt.fusion, num_prompts or generator than the PA-MLM run?)");
    spdlog::info("initialised from PA-MLM {}", pretrained);
  }
  // Scoring through the PLM: batches of 4096 texts make ~1 GB of activations per
  // batch that glibc returns to the kernel and faults back in; 256 scored 2.2x
  // faster (690 vs 310 samples/s, 2 x 128 PLM, one thread).
  TrainerOptions plm_defaults;
  plm_defaults.eval_batch_size = 256;
  TrainerOptions topt = TrainerOptions::from(train_p, plm_defaults);
  topt.seed = s.seed;
  topt.device = s.device;
  topt.progress = opt.progress;
  ClickPromptTask task(model, text, train_p);
  train_p.check_unused();
  write_run_files(opt.out_dir, config, parts.ds, opt.resume);

  Trainer trainer(topt, opt.out_dir);
  FitResult fit = trainer.fit(task, parts.ds, opt.resume);
  task.record_branches(true);
  nlohmann::json r = test_results(parts.ds, trainer, task, fit);
  // How much each branch ranks alone (the diagnostic of docs/clickprompt.md: does the
  // PLM branch carry signal, is the CTR branch better than the plain backbone?).
  auto [y_ctr, y_plm] = task.branch_logits();
  task.record_branches(false);
  if (dist::Group* dg = dist::group()) {  // each rank scored its shard of the test split
    y_ctr = dist::gather_floats(*dg, y_ctr, "the branch score gather");
    y_plm = dist::gather_floats(*dg, y_plm, "the branch score gather");
  }
  auto labels = to_float_vector(parts.ds.test.labels);
  if (y_ctr.size() == labels.size()) {
    double auc_ctr = metrics::auc(y_ctr, labels), auc_plm = metrics::auc(y_plm, labels);
    r["branch_test_auc"] = {{"ctr", auc_ctr}, {"plm", auc_plm}};
    spdlog::info("test AUC of each branch alone: CTR {:.5f}, PLM {:.5f}", auc_ctr, auc_plm);
  }
  int64_t n = 0;
  for (const auto& p : model->parameters()) n += p.numel();
  r["model"] = s.model_name;
  r["mode"] = opt.mode;
  r["seed"] = s.seed;
  r["plm"] = s.plm_path;
  r["pretrained"] = pretrained;
  r["alpha"] = model->alpha().item<double>();
  r["config"] = nlohmann::json::parse(core::yaml_to_json_string(config));
  r["parameters"] = n;
  finish_run(r, opt.out_dir, t_start);
  return r;
}

nlohmann::json run_finetune_ctr(const YAML::Node& config_in, const RunOptions& opt_in, const std::string& pretrained) {
  if (pretrained.empty()) throw Error("fine-tuning without the PLM needs --pretrained (a PA-MLM folder)");
  // A plain CTR run whose backbone starts from the PA-MLM checkpoint: the
  // ClickPrompt-only sections are dropped so the folder is an ordinary CTR run.
  YAML::Node config = YAML::Clone(config_in);
  for (const char* k : {"plm", "clickprompt", "pretrain"}) config.remove(k);
  if (config["train"]) {
    for (const char* k : {"plm_lr", "plm_weight_decay"}) config["train"].remove(k);
  }
  RunOptions opt = opt_in;
  opt.init_backbone = [&](ctr::CtrModel& model, const data::Dataset& ds) {
    auto sd = read_pretrained(pretrained, ds);
    // A fresh output layer: the parameters representation() does not use keep their new initialisation.
    auto sample = ds.train.ids.slice(0, 0, std::min<int64_t>(64, ds.train.rows)).to(torch::kInt64);
    auto out_layer = cp::output_layer_parameters(model, sample);
    std::set<std::string> skip(out_layer.begin(), out_layer.end());
    auto missing = copy_state(model, sd, "ctr.", skip, pretrained);
    if (!missing.empty())
      throw Error(pretrained + " has no backbone tensors " + join_some(missing) + " (a different CTR model or config?)");
    spdlog::info("backbone initialised from PA-MLM {} (fresh output layer: {})", pretrained, join_some(out_layer));
  };
  auto r = run_ctr(config, opt);
  r["pretrained"] = pretrained;
  if (dist::primary()) core::write_sealed(opt.out_dir + "/result.json", r.dump(2) + "\n");
  return r;
}

LoadedClickPrompt::LoadedClickPrompt(const YAML::Node& config_in, const std::string& where,
                                     const ctr::FeatureInfo& features, const std::string& checkpoint,
                                     const std::string& device)
    : device_(device) {
  YAML::Node config = YAML::Clone(config_in);
  core::Params root(config, where);
  Setup s = read_setup(root);
  core::Params train_p = root.child("train");
  precision_ = core::parse_precision(train_p.get<std::string>("precision", "fp32"));
  if (precision_ == core::Precision::Float16 && !device_.is_cuda()) {
    spdlog::warn("{}: the run was trained in fp16, which needs CUDA; scoring in fp32 on {}", where, device_.str());
    precision_ = core::Precision::Float32;
  }
  batch_size_ = train_p.get<int64_t>("eval_batch_size", 256);
  if (batch_size_ <= 0) throw Error(where + ": train.eval_batch_size must be > 0");
  // The PLM folder gives the architecture and the tokenizer; the checkpoint overwrites every weight.
  Parts parts;
  build_models(s, features, root.child("model"), parts);
  tok_ = parts.tok;
  model_ = make_model(s, parts);
  load_module(*model_, checkpoint);
  model_->to(device_);
  model_->eval();
}

cp::TextBatch LoadedClickPrompt::text_batch(const TextViews& views, const torch::Tensor& codes, int64_t begin,
                                            int64_t end) const {
  std::vector<int64_t> rows(static_cast<size_t>(end - begin));
  std::iota(rows.begin(), rows.end(), begin);
  auto [ids, mask] = views.batch(codes, rows.data(), end - begin);
  return {ids.to(device_), mask.to(device_)};
}

cp::FusedLogits LoadedClickPrompt::score(const torch::Tensor& ids, const std::vector<data::FieldMeta>& fields,
                                         const torch::Tensor& codes) {
  return score(ids, TextViews(fields, tok_), codes.to(torch::kInt32).contiguous());
}

cp::FusedLogits LoadedClickPrompt::score(const torch::Tensor& ids, const TextViews& views, const torch::Tensor& codes,
                                         const torch::Tensor& prompt_ids) {
  torch::NoGradGuard ng;
  const int64_t n = ids.size(0);
  std::vector<torch::Tensor> fused, y_ctr, y_plm;
  for (int64_t s = 0; s < n; s += batch_size_) {
    const int64_t e = std::min(n, s + batch_size_);
    auto text = text_batch(views, codes, s, e);
    core::AutocastGuard ac(precision_, device_);
    auto on_device = [&](const torch::Tensor& t) {
      return t.defined() ? t.slice(0, s, e).to(device_, torch::kInt64) : torch::Tensor();
    };
    auto y = model_->logits(on_device(ids), text, on_device(prompt_ids));
    fused.push_back(y.fused.to(torch::kCPU, torch::kFloat32));
    y_ctr.push_back(y.ctr.to(torch::kCPU, torch::kFloat32));
    y_plm.push_back(y.plm.to(torch::kCPU, torch::kFloat32));
  }
  if (fused.empty()) return {torch::empty({0}), torch::empty({0}), torch::empty({0})};
  return {torch::cat(fused), torch::cat(y_ctr), torch::cat(y_plm)};
}

namespace {
// Sum of x [B, heads, L] over the real tokens (mask [B, L]), averaged over the heads.
double token_sum(const torch::Tensor& x, const torch::Tensor& mask) {
  return (x * mask.to(x.scalar_type()).unsqueeze(1)).sum().item<double>() / static_cast<double>(x.size(1));
}
}  // namespace

nlohmann::json LoadedClickPrompt::inspect(const torch::Tensor& ids, const std::vector<data::FieldMeta>& fields,
                                          const torch::Tensor& codes_in, const torch::Tensor& labels_t,
                                          int64_t attention_rows) {
  if (attention_rows <= 0) throw Error("inspect: attention_rows must be > 0, got " + std::to_string(attention_rows));
  const TextViews views(fields, tok_);
  const auto codes = codes_in.to(torch::kInt32).contiguous();
  auto labels = to_float_vector(labels_t);
  auto y = score(ids, views, codes);
  const auto fusion = model_->options().prompt.fusion;
  const int64_t rows = ids.size(0);
  auto auc_of = [&](const torch::Tensor& logit) { return metrics::auc(to_float_vector(logit), labels); };
  auto probs = to_float_vector(torch::sigmoid(y.fused));
  nlohmann::json j{{"rows", rows},
                   {"fusion", cp::fusion_name(fusion)},
                   {"alpha", model_->alpha().item<double>()},
                   {"fused", {{"auc", metrics::auc(probs, labels)}, {"logloss", metrics::logloss(probs, labels)}}},
                   {"ctr_branch_auc", auc_of(y.ctr)},
                   {"plm_branch_auc", auc_of(y.plm)}};
  if (fusion != cp::Fusion::None && rows >= 2) {
    // Half the split away: never the row itself, and far from it in a time-ordered split.
    auto ys = score(ids, views, codes, ids.roll(rows / 2, 0));
    j["shuffled_prompts"] = {{"fused_auc", auc_of(ys.fused)}, {"plm_branch_auc", auc_of(ys.plm)}};
  }
  nlohmann::json sweep = nlohmann::json::array();
  for (int i = 0; i <= 10; ++i) {
    const double a = i / 10.0;
    sweep.push_back({{"alpha", a}, {"auc", auc_of(a * y.ctr + (1 - a) * y.plm)}});
  }
  j["alpha_sweep"] = sweep;
  j["logit_std"] = {{"ctr", y.ctr.std().item<double>()}, {"plm", y.plm.std().item<double>()}};

  if (fusion != cp::Fusion::Layerwise) return j;
  // Per layer, in float32, on the first rows, with the layer's own attention
  // code: layer l's input is hidden_states[l].
  torch::NoGradGuard ng;
  const int64_t n = std::min<int64_t>(rows, attention_rows);
  const int64_t L = model_->plm()->config().num_hidden_layers;
  const int64_t heads = model_->plm()->config().num_attention_heads;
  enum { PK, PV, TK, TV, MASS, POUT, TOUT, STATS };  // PK, PV: per row; the rest: per real text token
  std::vector<std::array<double, STATS>> sum(static_cast<size_t>(L), std::array<double, STATS>{});
  double tokens = 0;
  for (int64_t s = 0; s < n; s += batch_size_) {
    const int64_t e = std::min(n, s + batch_size_);
    auto text = text_batch(views, codes, s, e);
    auto prompts = model_->prompts(model_->ctr().representation(ids.slice(0, s, e).to(device_, torch::kInt64)));
    auto prefix = plm::PrefixKV::from_layerwise(prompts, heads);
    auto out = model_->encode_prompted(prompts, text, /*all_hidden_states=*/true);
    const auto& mask = text.attention_mask;
    const int64_t B = mask.size(0), K = prefix.length();
    auto bias = plm::attention_bias(torch::cat({torch::ones({B, K}, mask.options()), mask}, 1));
    tokens += mask.sum().item<double>();
    for (int64_t l = 0; l < L; ++l) {
      auto& layer = *model_->plm()->encoder_->layers_[static_cast<size_t>(l)]->as<plm::TransformerLayerImpl>();
      const auto lu = static_cast<size_t>(l);
      auto att = layer.attention(out.hidden_states[lu], bias, prefix.keys[lu], prefix.values[lu]);
      auto keys = att.keys.norm(2, -1), values = att.values.norm(2, -1);  // [B, heads, K+T]
      auto p_prompt = att.probs.slice(-1, 0, K), p_text = att.probs.slice(-1, K);
      auto& acc = sum[lu];
      acc[PK] += keys.slice(-1, 0, K).mean({1, 2}).sum().item<double>();
      acc[PV] += values.slice(-1, 0, K).mean({1, 2}).sum().item<double>();
      acc[TK] += token_sum(keys.slice(-1, K), mask);
      acc[TV] += token_sum(values.slice(-1, K), mask);
      acc[MASS] += token_sum(p_prompt.sum(-1), mask);
      acc[POUT] += token_sum(torch::matmul(p_prompt, att.values.slice(2, 0, K)).norm(2, -1), mask);
      acc[TOUT] += token_sum(torch::matmul(p_text, att.values.slice(2, K)).norm(2, -1), mask);
    }
  }
  nlohmann::json layers = nlohmann::json::array();
  for (int64_t l = 0; l < L; ++l) {
    const auto& acc = sum[static_cast<size_t>(l)];
    auto per_token = [&](int k) { return acc[k] / tokens; };
    layers.push_back({{"layer", l},
                      {"prompt_key_norm", acc[PK] / static_cast<double>(n)},
                      {"text_key_norm", per_token(TK)},
                      {"prompt_value_norm", acc[PV] / static_cast<double>(n)},
                      {"text_value_norm", per_token(TV)},
                      {"attention_on_prompts", per_token(MASS)},
                      {"prompt_output_norm", per_token(POUT)},
                      {"text_output_norm", per_token(TOUT)}});
  }
  j["attention_rows"] = n;
  j["layers"] = layers;
  return j;
}

}  // namespace clickprompt::train
