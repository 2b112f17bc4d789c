// `clickprompt train | evaluate | predict | models`.
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/io.h"
#include "core/params.h"
#include "core/runtime.h"
#include "core/strings.h"
#include "ctr/registry.h"
#include "data/dataset.h"
#include "metrics/metrics.h"
#include "report/grid_report.h"
#include "train/clickprompt_run.h"
#include "train/distributed.h"
#include "train/experiment.h"
#include "train/run.h"
#include "train/trainer.h"

namespace clickprompt::cli {

namespace {
struct TrainArgs {
  std::string config, data, model, model_config, out, device, run, input, split = "test", cache_dir = ".cache";
  std::string mode = "ctr", pretrained;
  std::vector<std::string> sets;
  int64_t seed = -1;
  bool resume = false, rebuild = false, no_progress = false;
};

// A dataset entry may be a spec mapping or the path of a spec file (relative
// to the working directory or to the config that names it). The spec's own
// data path then resolves against the spec file.
YAML::Node load_spec_yaml(const std::string& path) {
  YAML::Node spec = core::load_yaml(path);
  if (spec["path"] && spec["path"].IsScalar()) spec["path"] = core::resolve_relative(spec["path"].Scalar(), path);
  return spec;
}
YAML::Node resolve_dataset(const YAML::Node& d, const std::string& config_path) {
  if (d && d.IsScalar()) return load_spec_yaml(core::resolve_relative(d.Scalar(), config_path));
  return d;
}

YAML::Node build_config(const TrainArgs& a) {
  YAML::Node cfg = a.config.empty() ? YAML::Node(YAML::NodeType::Map) : core::load_yaml(a.config);
  if (!a.data.empty()) cfg["dataset"] = load_spec_yaml(a.data);
  cfg["dataset"] = resolve_dataset(cfg["dataset"], a.config);
  if (!a.model_config.empty()) cfg["model"] = core::load_yaml(a.model_config);  // replaces the config's model
  if (!a.model.empty()) {
    if (!cfg["model"] || !cfg["model"].IsMap() || (cfg["model"]["model"] && cfg["model"]["model"].Scalar() != a.model))
      cfg["model"] = YAML::Node(YAML::NodeType::Map);
    cfg["model"]["model"] = a.model;
  }
  for (const auto& s : a.sets) core::apply_override(cfg, s);
  if (a.seed >= 0) cfg["seed"] = a.seed;
  if (!a.device.empty()) cfg["device"] = a.device;
  if (!cfg["dataset"]) throw Error("no dataset: give --data SPEC.yaml or a config with a dataset section");
  if (!cfg["model"]) throw Error("no model: give --model NAME (" + core::join(ctr::model_names(), ", ") + ")");
  return cfg;
}
}  // namespace

void add_train_commands(CLI::App& app, Common& common) {
  auto a = std::make_shared<TrainArgs>();

  auto* train = app.add_subcommand("train", "Train a CTR model; writes checkpoints, metrics.jsonl and result.json");
  train->add_option("--config", a->config, "Run config (YAML with dataset, model, train sections)");
  train->add_option("--data", a->data, "Dataset spec (YAML); replaces the config's dataset");
  train->add_option("--model", a->model, "Model name (" + core::join(ctr::model_names(), ", ") + ")");
  train->add_option("--model-config", a->model_config, "Model hyper-parameters (YAML)");
  train->add_option("--set", a->sets, "Override a config value, e.g. --set train.lr=0.0005 --set model.embedding_dim=16");
  train->add_option("--out", a->out, "Output folder")->required();
  train->add_option("--mode", a->mode,
                    "ctr: a CTR model alone | pa-mlm: ClickPrompt's prompt-augmented MLM pretraining | with-plm: "
                    "fine-tune CTR model + prompts + PLM | without-plm: fine-tune the CTR backbone of a PA-MLM run alone")
      ->check(CLI::IsMember({"ctr", "pa-mlm", "with-plm", "without-plm"}))
      ->capture_default_str();
  train->add_option("--pretrained", a->pretrained,
                    "PA-MLM run folder to start from (with-plm: optional, without it the ablation 'without PA-MLM'; "
                    "without-plm: required)");
  train->add_option("--seed", a->seed, "Random seed (model init, shuffling)")->check(at_least(0));
  train->add_option("--device", a->device, "cpu | cuda | cuda:N");
  train->add_option("--cache-dir", a->cache_dir, "Data cache root")->capture_default_str();
  train->add_flag("--rebuild-cache", a->rebuild, "Rebuild the data cache");
  train->add_flag("--resume", a->resume, "Continue from the output folder's last checkpoint");
  train->add_flag("--no-progress", a->no_progress, "No progress line");
  train->callback([a, &common] {
    setup_runtime(common);
    YAML::Node cfg = build_config(*a);
    setup_distributed(common, cfg["device"]);
    train::RunOptions ro;
    ro.out_dir = a->out;
    ro.cache_root = a->cache_dir;
    ro.rebuild_cache = a->rebuild;
    ro.resume = a->resume;
    ro.progress = !a->no_progress;
    ro.mode = a->mode == "ctr" ? "ctr" : a->mode == "with-plm" ? "clickprompt_with_plm" : "clickprompt_without_plm";
    if ((a->mode == "ctr" || a->mode == "pa-mlm") && !a->pretrained.empty())
      throw Error("--pretrained applies to --mode with-plm and without-plm");
    auto r = a->mode == "pa-mlm"        ? train::run_pa_mlm(cfg, ro)
             : a->mode == "with-plm"    ? train::run_finetune_plm(cfg, ro, a->pretrained)
             : a->mode == "without-plm" ? train::run_finetune_ctr(cfg, ro, a->pretrained)
                                        : train::run_ctr(cfg, ro);
    finish_distributed();
    if (!train::dist::primary()) return;  // rank 0 reports
    // One line on stdout (the whole record is result.json).
    auto num = [&](const char* k) { return r.contains(k) && r[k].is_number() ? core::format_number(r[k].get<double>()) : "-"; };
    if (a->mode == "pa-mlm")
      std::cout << a->out << ": valid MLM loss " << num("valid_mlm_loss") << " (before " << num("initial_valid_mlm_loss")
                << ")\n";
    else
      std::cout << a->out << ": test AUC " << num("test_auc") << ", logloss " << num("test_logloss") << " (best epoch "
                << num("best_epoch") << ", valid AUC " << num("valid_auc") << "); details in " << a->out
                << "/result.json\n";
  });

  auto* eval = app.add_subcommand("evaluate", "Evaluate a finished run's best checkpoint on a split");
  eval->add_option("--run", a->run, "Run folder (from train)")->required();
  eval->add_option("--split", a->split, "train | valid | test")->capture_default_str();
  eval->add_option("--data", a->data, "Dataset spec to evaluate on (default: the run's)");
  eval->add_option("--device", a->device, "cpu | cuda | cuda:N");
  eval->add_option("--cache-dir", a->cache_dir, "Data cache root")->capture_default_str();
  eval->callback([a, &common] {
    setup_runtime(common);
    auto run = train::load_run(a->run, a->device);
    auto spec = a->data.empty() ? run.spec : data::DatasetSpec::load(a->data);
    auto ds = data::prepare_dataset(spec, {a->cache_dir, false});
    auto r = train::evaluate_run(run, ds, a->split);
    r["run"] = a->run;
    std::cout << r.dump(2) << "\n";
  });

  struct InspectArgs {
    int64_t rows = 0, attention_rows = 4096;
  };
  auto ia = std::make_shared<InspectArgs>();
  auto* insp = app.add_subcommand(
      "inspect",
      "Look inside a ClickPrompt run with the PLM: each branch's AUC, the PLM branch with shuffled prompts, the "
      "fused AUC over the weight a, and per PLM layer the prompts' norms and the attention they receive (JSON)");
  insp->add_option("--run", a->run, "Run folder (train --mode with-plm)")->required();
  insp->add_option("--split", a->split, "train | valid | test")->capture_default_str();
  insp->add_option("--data", a->data, "Dataset spec (default: the run's)");
  insp->add_option("--rows", ia->rows, "Score the first N rows of the split (0 = all)")->capture_default_str();
  insp->add_option("--attention-rows", ia->attention_rows, "Rows for the per-layer statistics")
      ->capture_default_str()
      ->check(at_least(1));
  insp->add_option("--device", a->device, "cpu | cuda | cuda:N");
  insp->add_option("--cache-dir", a->cache_dir, "Data cache root")->capture_default_str();
  insp->callback([a, ia, &common] {
    setup_runtime(common);
    auto run = train::load_run(a->run, a->device);
    auto spec = a->data.empty() ? run.spec : data::DatasetSpec::load(a->data);
    auto ds = data::prepare_dataset(spec, {a->cache_dir, false});
    auto r = train::inspect_run(run, ds, a->split, ia->rows, ia->attention_rows);
    r["run"] = a->run;
    std::cout << r.dump(2) << "\n";
  });

  struct ExpArgs {
    std::string config;
    std::vector<std::string> sets;
    train::ExperimentOptions o;
    bool no_progress = false;
  };
  auto e = std::make_shared<ExpArgs>();
  auto* exp = app.add_subcommand("experiment",
                                 "Run a grid of backbones x PLMs x ClickPrompt variants x seeds (resumable) and write "
                                 "the report: tables 2-6 (CSV + Markdown) and plots");
  exp->add_option("--config", e->config, "Experiment config (YAML; see docs/clickprompt.md)")->required();
  exp->add_option("--out", e->o.out_dir, "Output folder (runs/, plm/, report/)")->required();
  exp->add_option("--set", e->sets, "Override a config value, e.g. --set seeds=[1,2]");
  exp->add_option("--cache-dir", e->o.cache_root, "Data cache root")->capture_default_str();
  exp->add_flag("--report-only", e->o.report_only, "Only (re)write the report from the finished runs");
  exp->add_flag("--dry-run", e->o.dry_run, "List the runs still to train");
  exp->add_flag("--no-progress", e->no_progress, "No progress lines");
  exp->callback([e, &common] {
    setup_runtime(common);
    YAML::Node cfg = core::load_yaml(e->config);
    for (const auto& s : e->sets) core::apply_override(cfg, s);
    e->o.progress = !e->no_progress;
    setup_distributed(common, cfg["device"]);
    train::run_experiment(cfg, e->o);
    finish_distributed();
  });

  auto* report = app.add_subcommand(
      "report", "Print a Markdown table of finished runs (their result.json); --out also writes the report page");
  report->add_option("runs", a->sets, "Run folders")->required();
  report->add_option("--out", a->out,
                     "Folder for report.html (self-contained), the runs table as .md/.csv/.tex and the figures");
  report->callback([a] {
    if (!a->out.empty()) {
      report::write_runs_report(a->sets, a->out);
      std::cerr << "report: " << a->out << "/report.html\n";
    }
    std::cout << "| run | model | seed | best epoch | valid AUC | test AUC | test logloss | tail-item AUC | Bayes AUC | train samples/s | infer samples/s |\n"
              << "|---|---|---|---|---|---|---|---|---|---|---|\n";
    int shown = 0;
    for (const auto& dir : a->sets) {
      // `report runs/*` meets folders that are not finished runs (a demo's data, a run in progress).
      if (!core::file_exists(dir + "/result.json")) {
        std::cerr << "report: skipping " << dir << " (no result.json: not a finished run)\n";
        continue;
      }
      nlohmann::json r = train::read_result(dir);
      ++shown;
      auto num = [&](const char* k, const char* fmt) {
        if (!r.contains(k) || !r[k].is_number()) return std::string("-");
        char buf[64];
        std::snprintf(buf, sizeof(buf), fmt, r[k].get<double>());
        return std::string(buf);
      };
      std::string tail_item = "-";
      if (r.contains("long_tail") && r["long_tail"].is_object() && r["long_tail"].contains("items") &&
          r["long_tail"]["items"].is_array())
        for (const auto& g : r["long_tail"]["items"])
          if (g.is_object() && g.value("group", "") == "tail item" && g.contains("auc") && g["auc"].is_number()) {
            char buf[32];
            std::snprintf(buf, sizeof(buf), "%.4f", g["auc"].get<double>());
            tail_item = buf;
          }
      auto text = [&](const char* k) { return r.contains(k) && r[k].is_string() ? r[k].get<std::string>() : "?"; };
      std::cout << "| " << std::filesystem::path(dir).filename().string() << " | " << text("model") << " | "
                << num("seed", "%.0f") << " | " << num("best_epoch", "%.0f") << " | " << num("valid_auc", "%.4f")
                << " | " << num("test_auc", "%.4f") << " | " << num("test_logloss", "%.4f") << " | "
                << tail_item << " | " << num("bayes_test_auc", "%.4f") << " | " << num("train_samples_per_sec", "%.0f") << " | "
                << num("infer_samples_per_sec", "%.0f") << " |\n";
    }
    if (shown == 0) throw Error("report: none of the " + std::to_string(a->sets.size()) + " folders is a finished run");
  });

  auto* models = app.add_subcommand("models", "List the CTR models");
  models->callback([] {
    for (const auto& n : ctr::model_names()) std::cout << n << "\n";
  });

  auto* info = app.add_subcommand("info", "Print the runtime: torch, BLAS, threads, GEMM rate");
  info->callback([&common] {
    setup_runtime(common);
    std::cout << core::runtime_summary() << "\n";
    std::cout << "float32 GEMM 1024^3: " << core::measure_gemm_gflops(1024, 10) << " GFLOP/s\n";
  });
}

}  // namespace clickprompt::cli
