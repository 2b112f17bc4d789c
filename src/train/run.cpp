#include "train/run.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/params.h"
#include "core/runtime.h"
#include "core/strings.h"
#include "ctr/registry.h"
#include "data/reader.h"
#include "metrics/metrics.h"
#include "train/clickprompt_run.h"
#include "train/ctr_task.h"
#include "train/distributed.h"
#include "train/evaluation.h"
#include "train/trainer.h"

namespace clickprompt::train {

namespace {

std::string model_name(const YAML::Node& model) {
  if (!model || !model.IsMap() || !model["model"]) throw Error("config: model.model (the model name) is missing");
  if (!model["model"].IsScalar()) throw Error("config: model.model must be a model name, not a list or mapping");
  return model["model"].Scalar();
}

const char* kRunHint = "the run folder is damaged: train it again";

}  // namespace

data::Dataset load_dataset(const data::DatasetSpec& spec, const RunOptions& opt) {
  spdlog::info("{}", core::runtime_summary());
  // Distributed: rank 0 prepares (or checks) the cache first; the others then map
  // the same files (on hosts without a shared cache folder they prepare their own).
  dist::Group* dg = dist::group();
  if (dg && !dg->primary()) dg->barrier("waiting for rank 0 to prepare the data cache");
  data::Dataset ds = data::prepare_dataset(
      spec, data::PrepareOptions{opt.cache_root, opt.rebuild_cache && dist::primary()});
  if (dg && dg->primary()) dg->barrier("waiting for rank 0 to prepare the data cache");
  spdlog::info("data {}: {} train / {} valid / {} test rows, {} fields, {} ids ({}, {:.2f}s)", spec.name,
               ds.train.rows, ds.valid.rows, ds.test.rows, ds.fields.size(), ds.encoder.total_size(),
               ds.loaded_from_cache ? "from cache" : "prepared", ds.seconds);
  return ds;
}

namespace {
void prepare_run_dir(const std::string& out_dir, bool resume) {
  core::make_dirs(out_dir);
  const int stale = core::clean_temp_files(out_dir);
  if (stale > 0) spdlog::info("removed {} temp file(s) a killed run left in {}", stale, out_dir);
  if (resume) return;
  // A fresh run in a used folder: the previous run's files go first, so a run
  // that dies early cannot leave its config beside the old checkpoint and result.
  int removed = 0;
  for (const char* f : kRunFiles)
    for (const std::string& p : {out_dir + "/" + f, core::seal_path(out_dir + "/" + f)})
      if (std::filesystem::remove(p)) ++removed;
  if (removed > 0) spdlog::info("{} held a previous run: its files were removed (use --resume to continue one)", out_dir);
}
}  // namespace

void write_run_files(const std::string& out_dir, const YAML::Node& config, const data::Dataset& ds, bool resume) {
  if (!dist::primary()) return;  // rank 0 alone writes the run folder
  prepare_run_dir(out_dir, resume);
  YAML::Emitter e;
  e << config;
  core::write_sealed(out_dir + "/config.yaml", std::string(e.c_str()) + "\n");
  core::write_sealed(out_dir + "/encoder.json", data::encoder_json(ds.fields, ds.encoder).dump());
}

nlohmann::json read_result(const std::string& run_dir) {
  return core::read_sealed_json(run_dir + "/result.json", kRunHint);
}

YAML::Node read_run_config(const std::string& run_dir) {
  const std::string path = run_dir + "/config.yaml";
  return core::parse_yaml(core::read_sealed(path, kRunHint), path);
}

nlohmann::json distributed_json(const dist::CommSummary& c) {
  if (c.world_size <= 1) return nullptr;
  return {{"world_size", c.world_size},
          {"backend", c.backend},
          {"global_batch_size", c.global_batch},
          {"gradient_exchanges", c.steps},
          {"dense_gradient_bytes_per_step", c.dense_bytes_per_step},
          {"sparse_gradient_bytes_per_step", c.sparse_bytes_per_step},
          {"gradient_collective_seconds", c.seconds}};
}

nlohmann::json test_results(const data::Dataset& ds, const Trainer& trainer, Task& task, const FitResult& fit) {
  double infer_seconds = 0;
  auto test_probs = trainer.predict(task, ds.test, &infer_seconds);
  auto test_labels = to_float_vector(ds.test.labels);
  nlohmann::json r;
  r["dataset"] = ds.spec.name;
  r["split"] = ds.split_used;
  r["split_seed"] = ds.spec.split.seed;
  r["best_epoch"] = fit.best_epoch;
  r["epochs_run"] = fit.epochs_run;
  r["valid_auc"] = fit.valid_auc;
  r["valid_logloss"] = fit.valid_logloss;
  r["test_auc"] = metrics::auc(test_probs, test_labels);
  r["test_logloss"] = metrics::logloss(test_probs, test_labels);
  if (ds.test.prob.defined()) {
    auto bayes = to_float_vector(ds.test.prob);
    r["bayes_test_auc"] = metrics::auc(bayes, test_labels);
    r["bayes_test_logloss"] = metrics::logloss(bayes, test_labels);
  }
  auto tail = long_tail_metrics(ds, ds.test, test_probs);
  if (!tail.is_null()) r["long_tail"] = tail;
  r["train_samples_per_sec"] = fit.train_samples_per_sec;
  r["infer_samples_per_sec"] = infer_seconds > 0 ? ds.test.rows / infer_seconds : 0.0;
  r["eval_batch_size"] = trainer.options().eval_batch_size;
  r["threads"] = at::get_num_threads();
  r["device"] = trainer.options().device;
  r["blas"] = core::blas_backend();
  r["data_seconds"] = ds.seconds;
  if (fit.comm.world_size > 1) r["distributed"] = distributed_json(fit.comm);
  if (fit.earlier_wall_seconds > 0) r["resumed_wall_seconds"] = fit.earlier_wall_seconds;
  return r;
}

void finish_run(nlohmann::json& r, const std::string& out_dir, std::chrono::steady_clock::time_point start) {
  // A resumed run counts the time of the processes before it, too.
  r["wall_seconds"] = r.value("resumed_wall_seconds", 0.0) +
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!dist::primary()) return;
  core::write_sealed(out_dir + "/result.json", r.dump(2) + "\n");
  spdlog::info("test AUC {:.5f} logloss {:.5f} (best epoch {}) -> {}/result.json", r["test_auc"].get<double>(),
               r["test_logloss"].get<double>(), r["best_epoch"].get<int>(), out_dir);
}

nlohmann::json run_ctr(const YAML::Node& config_in, const RunOptions& opt) {
  auto t_start = std::chrono::steady_clock::now();
  YAML::Node config = YAML::Clone(config_in);
  core::Params root(config, "config");
  const uint64_t seed = root.get<uint64_t>("seed", 2024);
  const std::string device = core::check_device(root.get<std::string>("device", "cpu"));
  if (!config["dataset"] || !config["dataset"].IsMap()) throw Error("config: 'dataset' section (a dataset spec) is missing");
  data::DatasetSpec spec = data::DatasetSpec::from_yaml(config["dataset"], "config.dataset");
  root.has("dataset");
  core::Params model_p = root.child("model");
  core::Params train_p = root.child("train");
  const std::string name = model_name(config["model"]);
  root.check_unused();
  ctr::check_model_name(name);

  data::Dataset ds = load_dataset(spec, opt);
  torch::manual_seed(seed);
  auto model = ctr::create_model(name, ds.feature_info(), model_p);
  if (opt.init_backbone) opt.init_backbone(*model, ds);
  int64_t n_params = 0;
  for (const auto& p : model->parameters()) n_params += p.numel();
  spdlog::info("model {}: {} parameters, representation dim {}", name, n_params, model->representation_dim());

  TrainerOptions topt = TrainerOptions::from(train_p);
  topt.seed = seed;
  topt.device = device;
  topt.progress = opt.progress;
  CtrTask task(model, train_p);
  train_p.check_unused();
  // The config as used (defaults filled in) and the encoder: enough to reload the run.
  write_run_files(opt.out_dir, config, ds, opt.resume);

  Trainer trainer(topt, opt.out_dir);
  FitResult fit = trainer.fit(task, ds, opt.resume);
  nlohmann::json r = test_results(ds, trainer, task, fit);
  r["model"] = name;
  r["mode"] = opt.mode;
  r["seed"] = seed;
  r["config"] = nlohmann::json::parse(core::yaml_to_json_string(config));
  r["parameters"] = n_params;
  finish_run(r, opt.out_dir, t_start);
  return r;
}

LoadedRun load_run(const std::string& run_dir, const std::string& device_override) {
  LoadedRun run;
  const std::string cfg_path = run_dir + "/config.yaml", enc_path = run_dir + "/encoder.json";
  for (const auto& p : {cfg_path, enc_path, run_dir + "/best.ckpt"})
    if (!core::file_exists(p)) throw Error("not a finished run folder: " + p + " is missing");
  run.config = read_run_config(run_dir);
  run.spec = data::DatasetSpec::from_yaml(run.config["dataset"], cfg_path + ":dataset");
  nlohmann::json enc;
  try {
    enc = nlohmann::json::parse(core::read_sealed(enc_path, kRunHint));
    data::read_encoder_json(enc, run.fields, run.encoder);
  } catch (const nlohmann::json::exception& e) {
    throw CorruptFile("corrupt " + enc_path + ": " + e.what() + "; " + kRunHint);
  }
  std::vector<std::string> names;
  for (const auto& f : run.fields) names.push_back(f.name);
  run.device = core::check_device(device_override.empty()
                                      ? (run.config["device"] ? run.config["device"].as<std::string>() : "cpu")
                                      : device_override);
  if (run.config["plm"] && run.config["clickprompt"]) {
    run.clickprompt = std::make_shared<LoadedClickPrompt>(run.config, cfg_path, run.encoder.feature_info(names),
                                                          run_dir + "/best.ckpt", run.device);
    run.model = run.clickprompt->model()->ctr_ptr();
    return run;
  }
  core::Params model_p(run.config["model"], cfg_path + ":model");
  run.model = ctr::create_model(model_name(run.config["model"]), run.encoder.feature_info(names), model_p);
  load_module(*run.model, run_dir + "/best.ckpt");
  run.model->to(torch::Device(run.device));
  run.model->eval();
  return run;
}

namespace {
// Global ids under the run's encoder of rows given as dictionary codes [rows, F]
// (int32) into `fields`' values: each distinct raw value is encoded once.
struct CodeIds {
  const data::Encoder* enc;
  std::vector<std::vector<int32_t>> ids;  // [field][code * width + k] -> global id
};
CodeIds code_ids_of(const data::Encoder& enc, const std::vector<data::FieldMeta>& fields) {
  CodeIds out{&enc, std::vector<std::vector<int32_t>>(fields.size())};
  for (size_t f = 0; f < fields.size(); ++f) {
    const int w = enc.width[f];
    out.ids[f].resize(fields[f].values.size() * w);
    for (size_t c = 0; c < fields[f].values.size(); ++c) enc.encode_into(static_cast<int>(f), fields[f].values[c], out.ids[f].data() + c * w);
  }
  return out;
}

torch::Tensor encode_rows(const CodeIds& code_ids, const torch::Tensor& codes) {
  const auto& enc = *code_ids.enc;
  const int F = static_cast<int>(code_ids.ids.size()), S = enc.num_slots();
  const int64_t rows = codes.size(0);
  const int32_t* c = codes.data_ptr<int32_t>();
  auto ids = torch::empty({rows, S}, torch::kInt64);
  auto* p = ids.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; ++r)
    for (int f = 0; f < F; ++f) {
      const int w = enc.width[f];
      const int32_t* src = code_ids.ids[f].data() + static_cast<size_t>(static_cast<uint32_t>(c[r * F + f])) * w;
      std::copy_n(src, w, p + r * S + enc.slot_offset(f));
    }
  return ids;
}

// Click probabilities of rows given as codes into `fields` (see encode_rows).
// Encoded a batch at a time: a split is never held a second time as int64 ids.
std::vector<float> score(const LoadedRun& run, const std::vector<data::FieldMeta>& fields, const torch::Tensor& codes,
                         int64_t batch_size) {
  torch::NoGradGuard ng;
  torch::Device dev(run.device);
  std::vector<float> scores;
  scores.reserve(codes.size(0));
  const CodeIds code_ids = code_ids_of(run.encoder, fields);
  for (int64_t s = 0; s < codes.size(0); s += batch_size) {
    int64_t e = std::min<int64_t>(codes.size(0), s + batch_size);
    auto batch = codes.slice(0, s, e).contiguous();
    auto ids = encode_rows(code_ids, batch);
    auto logit = run.clickprompt ? run.clickprompt->score(ids, fields, batch).fused : run.model->forward(ids.to(dev));
    auto prob = torch::sigmoid(logit).to(torch::kCPU, torch::kFloat32).contiguous();
    scores.insert(scores.end(), prob.data_ptr<float>(), prob.data_ptr<float>() + prob.numel());
  }
  return scores;
}

// The data set must have the run's fields, in the run's order (ids are positional).
void check_fields(const LoadedRun& run, const data::Dataset& ds) {
  auto names = [](const std::vector<data::FieldMeta>& fields) {
    std::vector<std::string> n;
    for (const auto& f : fields) n.push_back(f.name);
    return core::join(n, ", ");
  };
  if (names(ds.fields) != names(run.fields))
    throw Error("the data set's fields (" + names(ds.fields) + ") differ from the run's (" + names(run.fields) + ")");
}
}  // namespace

nlohmann::json evaluate_run(const LoadedRun& run, const data::Dataset& ds, const std::string& split) {
  check_fields(run, ds);
  const auto& s = ds.split(split);
  auto probs = score(run, ds.fields, s.codes.contiguous(), 8192);
  auto labels = to_float_vector(s.labels);
  return {{"dataset", ds.spec.name}, {"split", split}, {"rows", s.rows},
          {"auc", metrics::auc(probs, labels)}, {"logloss", metrics::logloss(probs, labels)}};
}

nlohmann::json inspect_run(const LoadedRun& run, const data::Dataset& ds, const std::string& split, int64_t max_rows,
                           int64_t attention_rows) {
  if (!run.clickprompt)
    throw Error("inspect needs a ClickPrompt run with the PLM (train --mode with-plm); this run is a CTR model alone");
  check_fields(run, ds);
  const auto& s = ds.split(split);
  const int64_t n = max_rows > 0 ? std::min(max_rows, s.rows) : s.rows;
  auto codes = s.codes.slice(0, 0, n).contiguous();
  auto r = run.clickprompt->inspect(encode_rows(code_ids_of(run.encoder, ds.fields), codes), ds.fields, codes,
                                    s.labels.slice(0, 0, n), attention_rows);
  r["dataset"] = ds.spec.name;
  r["split"] = split;
  return r;
}

bundle::Contents bundle_contents(LoadedRun& run, const std::string& run_dir) {
  bundle::Contents c;
  c.fields = run.fields;
  c.encoder = run.encoder;
  c.model_name = model_name(run.config["model"]);
  c.model = YAML::Clone(run.config["model"]);
  c.model.remove("model");
  const YAML::Node train = run.config["train"];
  c.precision = train && train["precision"] ? train["precision"].as<std::string>() : "fp32";
  c.created_from = {{"run", std::filesystem::absolute(run_dir).lexically_normal().string()},
                    {"dataset", run.spec.name}};
  if (core::file_exists(run_dir + "/result.json")) {
    auto r = read_result(run_dir);
    c.mode = r.value("mode", "ctr");
    for (const char* k : {"seed", "best_epoch", "valid_auc", "test_auc", "test_logloss"})
      if (r.contains(k)) c.created_from[k] = r[k];
  }
  if (run.clickprompt) {
    c.kind = bundle::kKindWithPlm;
    c.mode = "clickprompt_with_plm";
    c.clickprompt = YAML::Clone(run.config["clickprompt"]);
    c.plm_dir = run.config["plm"].as<std::string>();
    c.batch_size = train && train["eval_batch_size"] ? train["eval_batch_size"].as<int64_t>() : 256;
    c.weights = bundle::flat_state(*run.clickprompt->model());
  } else {
    c.weights = bundle::flat_state(*run.model);
  }
  return c;
}

nlohmann::json export_run(const std::string& run_dir, const std::string& out_dir) {
  auto run = load_run(run_dir, "cpu");
  return bundle::save(bundle_contents(run, run_dir), out_dir);
}

}  // namespace clickprompt::train
