#include "train/experiment.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/params.h"
#include "core/strings.h"
#include "ctr/registry.h"
#include "data/dataset.h"
#include "data/reader.h"
#include "report/grid_report.h"
#include "train/clickprompt_run.h"
#include "train/distributed.h"
#include "train/mlm_pretrain.h"
#include "train/run.h"

namespace clickprompt::train {

const std::vector<std::string>& experiment_variants() {
  static const std::vector<std::string> v{"backbone", "with_plm",  "without_plm",    "no_pamlm",
                                          "no_prompt", "no_both", "input_with_plm", "input_without_plm"};
  return v;
}

namespace {

struct PlmEntry {
  std::string name, path;  // path empty: pretrained in the project with `pretrain`
  YAML::Node pretrain;
};

struct Grid {
  std::string name;
  YAML::Node dataset;
  std::vector<uint64_t> seeds;
  std::vector<std::string> backbones, variants;
  std::map<std::string, YAML::Node> models;
  std::vector<PlmEntry> plms;
  YAML::Node clickprompt, pretrain, train, train_plm;
  std::string device;
};

YAML::Node map_or_empty(const YAML::Node& n) { return n ? YAML::Clone(n) : YAML::Node(YAML::NodeType::Map); }

Grid read_grid(const YAML::Node& config_in) {
  YAML::Node config = YAML::Clone(config_in);
  core::Params root(config, "experiment");
  Grid g;
  g.name = root.get<std::string>("name", "experiment");
  g.device = root.get<std::string>("device", "cpu");
  g.seeds = root.get<std::vector<uint64_t>>("seeds", {2024});
  g.backbones = root.get<std::vector<std::string>>("backbones", {"dcnv2"});
  g.variants = root.get<std::vector<std::string>>("variants", {"backbone", "with_plm", "without_plm"});
  const std::string model_dir = root.get<std::string>("model_configs", "configs/models");
  for (const char* k : {"dataset", "models", "plms", "clickprompt", "pretrain", "train", "train_plm"}) root.has(k);
  root.check_unused();
  if (!config["dataset"]) throw Error("experiment: 'dataset' (a spec or its path) is missing");
  g.dataset = config["dataset"].IsScalar() ? core::load_yaml(config["dataset"].as<std::string>()) : config["dataset"];
  if (g.seeds.empty() || g.backbones.empty() || g.variants.empty())
    throw Error("experiment: seeds, backbones and variants must not be empty");
  for (const auto& v : g.variants)
    if (std::find(experiment_variants().begin(), experiment_variants().end(), v) == experiment_variants().end())
      throw Error("experiment: unknown variant '" + v + "' " + core::suggest(v, experiment_variants()));
  for (const auto& b : g.backbones) {
    ctr::check_model_name(b);
    // Hyper-parameters: the inline `models.<name>` mapping over configs/models/<name>.yaml.
    YAML::Node m = core::file_exists(model_dir + "/" + b + ".yaml") ? core::load_yaml(model_dir + "/" + b + ".yaml")
                                                                    : YAML::Node(YAML::NodeType::Map);
    if (config["models"] && config["models"][b]) m = core::merge_yaml(m, config["models"][b]);
    m["model"] = b;
    g.models[b] = m;
  }
  bool needs_plm = false;
  for (const auto& v : g.variants) needs_plm |= v != "backbone";
  if (config["plms"]) {
    if (!config["plms"].IsSequence()) throw Error("experiment.plms must be a list of {name, path} or {name, pretrain}");
    for (const auto& p : config["plms"]) {
      PlmEntry e;
      e.name = p["name"] ? p["name"].as<std::string>() : "plm" + std::to_string(g.plms.size());
      if (p["path"]) e.path = p["path"].as<std::string>();
      e.pretrain = map_or_empty(p["pretrain"]);
      if (e.path.empty() && !p["pretrain"])
        throw Error("experiment.plms entry '" + e.name + "': give a path (HF folder) or a pretrain section");
      g.plms.push_back(e);
    }
  }
  if (needs_plm && g.plms.empty()) throw Error("experiment: the variants need a PLM: add a plms list");
  g.clickprompt = map_or_empty(config["clickprompt"]);
  g.pretrain = map_or_empty(config["pretrain"]);
  g.train = map_or_empty(config["train"]);
  g.train_plm = map_or_empty(config["train_plm"]);
  return g;
}

MlmPretrainOptions pretrain_options(const YAML::Node& node, const std::string& device, bool progress) {
  YAML::Node n = YAML::Clone(node);
  core::Params p(n, "plms[].pretrain");
  MlmPretrainOptions o;
  o.tokenizer = p.get<std::string>("tokenizer", o.tokenizer);
  o.vocab_size = p.get<int64_t>("vocab_size", o.vocab_size);
  o.hidden_size = p.get<int64_t>("hidden_size", o.hidden_size);
  o.layers = p.get<int64_t>("layers", o.layers);
  o.heads = p.get<int64_t>("heads", o.heads);
  o.intermediate_size = p.get<int64_t>("intermediate_size", o.intermediate_size);
  o.position_headroom = p.get<int64_t>("position_headroom", o.position_headroom);
  o.lr = p.get_number("lr", o.lr, core::Params::Range::positive);
  o.weight_decay = p.get_number("weight_decay", o.weight_decay, core::Params::Range::non_negative);
  o.dropout = p.get_number("dropout", o.dropout, core::Params::Range::unit_open);
  o.loop.batch_size = p.get<int64_t>("batch_size", o.loop.batch_size);
  o.loop.epochs = p.get<int>("epochs", o.loop.epochs);
  o.loop.max_train_rows = p.get<int64_t>("max_train_rows", o.loop.max_train_rows);
  o.loop.valid_rows = p.get<int64_t>("valid_rows", o.loop.valid_rows);
  o.loop.precision = p.get<std::string>("precision", o.loop.precision);
  o.loop.seed = p.get<uint64_t>("seed", o.loop.seed);
  o.loop.device = device;
  o.loop.progress = progress;
  p.check_unused();
  return o;
}

std::string plm_dir(const Grid& g, const PlmEntry& p, const std::string& out) {
  return p.path.empty() ? out + "/plm/" + p.name : p.path;
}
std::string seed_dir(const std::string& out, const std::string& plm, const std::string& bb, uint64_t seed) {
  return out + "/runs/" + plm + "/" + bb + "/s" + std::to_string(seed);
}
std::string run_dir(const std::string& out, const std::string& plm, const std::string& bb, uint64_t seed,
                    const std::string& variant) {
  if (variant == "backbone") return out + "/runs/backbone/" + bb + "/s" + std::to_string(seed);
  return seed_dir(out, plm, bb, seed) + "/" + variant;
}

// The run config of one stage.
YAML::Node base_config(const Grid& g, const std::string& bb, uint64_t seed) {
  YAML::Node c(YAML::NodeType::Map);
  c["dataset"] = YAML::Clone(g.dataset);
  c["model"] = YAML::Clone(g.models.at(bb));
  c["seed"] = seed;
  c["device"] = g.device;
  return c;
}
YAML::Node cp_config(const Grid& g, const std::string& bb, uint64_t seed, const std::string& plm, const std::string& fusion) {
  YAML::Node c = base_config(g, bb, seed);
  c["plm"] = plm;
  c["clickprompt"] = YAML::Clone(g.clickprompt);
  c["clickprompt"]["fusion"] = fusion;
  return c;
}

struct VariantPlan {
  std::string pamlm_fusion;  // "" when no PA-MLM is needed
  std::string fusion;        // fine-tuning fusion
  bool with_plm = true;
};
VariantPlan plan(const std::string& v) {
  if (v == "with_plm") return {"layerwise", "layerwise", true};
  if (v == "without_plm") return {"layerwise", "layerwise", false};
  if (v == "no_pamlm") return {"", "layerwise", true};
  if (v == "no_prompt") return {"layerwise", "none", true};
  if (v == "no_both") return {"", "none", true};
  if (v == "input_with_plm") return {"input", "input", true};
  if (v == "input_without_plm") return {"input", "input", false};
  throw Error("no plan for variant " + v);
}

}  // namespace

int run_experiment(const YAML::Node& config, const ExperimentOptions& opt) {
  Grid g = read_grid(config);
  if (opt.report_only) {
    write_report(config, opt.out_dir);
    return 0;
  }
  if (dist::primary()) core::make_dirs(opt.out_dir);
  int trained = 0, skipped = 0;
  std::vector<std::string> planned;
  dist::Group* dg = dist::group();
  auto step = [&](const std::string& dir, const std::string& what, const std::function<void()>& fn) {
    // Distributed: every rank runs every step together; rank 0's folder decides
    // what is finished, and a barrier ends each step (the next reads its files).
    bool finished = core::file_exists(dir + "/result.json");
    if (dg) finished = dg->broadcast(finished ? "1" : "0", "the grid's step decision") == "1";
    if (finished) {
      ++skipped;
      return;
    }
    if (opt.dry_run) {
      // Listed once (a PA-MLM run serves several variants).
      if (std::find(planned.begin(), planned.end(), what + " -> " + dir) == planned.end())
        planned.push_back(what + " -> " + dir);
      return;
    }
    spdlog::info("== [{}] {}", g.name, what);
    try {
      fn();
    } catch (const std::exception& e) {
      // The report lists the run as failed, with its error.
      if (dist::primary()) {
        core::make_dirs(dir);
        core::atomic_write_string(dir + "/failed.txt", std::string(e.what()) + "\n");
      }
      throw;
    }
    if (dist::primary() && core::file_exists(dir + "/failed.txt")) std::filesystem::remove(dir + "/failed.txt");
    if (dg) dg->barrier("the end of a grid step");
    ++trained;
  };
  RunOptions ro;
  ro.cache_root = opt.cache_root;
  ro.progress = opt.progress;
  ro.resume = true;

  for (const auto& p : g.plms) {
    if (!p.path.empty()) continue;
    std::string dir = plm_dir(g, p, opt.out_dir);
    step(dir, "pretrain PLM " + p.name, [&] {
      auto o = pretrain_options(p.pretrain, g.device, opt.progress);
      RunOptions r = ro;
      auto ds = load_dataset(data::DatasetSpec::from_yaml(g.dataset, "experiment.dataset"), r);
      pretrain_mlm(ds, o, dir);
    });
  }
  for (uint64_t seed : g.seeds) {
    for (const auto& bb : g.backbones) {
      if (std::count(g.variants.begin(), g.variants.end(), "backbone")) {
        std::string dir = run_dir(opt.out_dir, "", bb, seed, "backbone");
        step(dir, bb + " seed " + std::to_string(seed) + " backbone", [&] {
          YAML::Node c = base_config(g, bb, seed);
          c["train"] = YAML::Clone(g.train);
          RunOptions r = ro;
          r.out_dir = dir;
          run_ctr(c, r);
        });
      }
      for (const auto& p : g.plms) {
        const std::string pdir = plm_dir(g, p, opt.out_dir);
        for (const auto& v : g.variants) {
          if (v == "backbone") continue;
          VariantPlan pl = plan(v);
          std::string pamlm;
          if (!pl.pamlm_fusion.empty()) {
            pamlm = seed_dir(opt.out_dir, p.name, bb, seed) + "/pamlm-" + pl.pamlm_fusion;
            step(pamlm, bb + " seed " + std::to_string(seed) + " PA-MLM (" + pl.pamlm_fusion + ", " + p.name + ")", [&] {
              YAML::Node c = cp_config(g, bb, seed, pdir, pl.pamlm_fusion);
              c["pretrain"] = YAML::Clone(g.pretrain);
              RunOptions r = ro;
              r.out_dir = pamlm;
              run_pa_mlm(c, r);
            });
          }
          std::string dir = run_dir(opt.out_dir, p.name, bb, seed, v);
          step(dir, bb + " seed " + std::to_string(seed) + " " + v + " (" + p.name + ")", [&] {
            YAML::Node c = cp_config(g, bb, seed, pdir, pl.fusion);
            RunOptions r = ro;
            r.out_dir = dir;
            if (pl.with_plm) {
              c["train"] = core::merge_yaml(g.train, g.train_plm);
              r.mode = "clickprompt_with_plm";
              run_finetune_plm(c, r, pamlm);
            } else {
              c["train"] = YAML::Clone(g.train);
              r.mode = "clickprompt_without_plm";
              run_finetune_ctr(c, r, pamlm);
            }
          });
        }
      }
    }
  }
  if (opt.dry_run) {
    for (const auto& p : planned) std::printf("%s\n", p.c_str());
    std::printf("%zu runs to train, %d finished\n", planned.size(), skipped);
    return 0;
  }
  spdlog::info("[{}] {} runs trained, {} already finished", g.name, trained, skipped);
  if (dist::primary()) write_report(config, opt.out_dir);
  return trained;
}

// ---------------------------------------------------------------- report

void write_report(const YAML::Node& config, const std::string& out_dir) {
  Grid g = read_grid(config);
  report::Grid rg;
  rg.name = g.name;
  rg.dataset = g.dataset["name"] ? g.dataset["name"].as<std::string>() : std::string("?");
  rg.seeds = g.seeds;
  rg.backbones = g.backbones;
  rg.variants = g.variants;
  for (const auto& p : g.plms) rg.plms.push_back(p.name);
  for (uint64_t seed : g.seeds)
    for (const auto& bb : g.backbones) {
      if (std::count(g.variants.begin(), g.variants.end(), "backbone"))
        rg.runs.push_back({"", bb, "backbone", seed, run_dir(out_dir, "", bb, seed, "backbone")});
      for (const auto& p : g.plms)
        for (const auto& v : g.variants) {
          if (v == "backbone") continue;
          rg.runs.push_back({p.name, bb, v, seed, run_dir(out_dir, p.name, bb, seed, v)});
          const std::string fusion = plan(v).pamlm_fusion;
          const std::string pamlm = seed_dir(out_dir, p.name, bb, seed) + "/pamlm-" + fusion;
          if (!fusion.empty() && std::find(rg.pamlm.begin(), rg.pamlm.end(), pamlm) == rg.pamlm.end())
            rg.pamlm.push_back(pamlm);
        }
    }
  report::write_grid_report(rg, out_dir + "/report");
}

}  // namespace clickprompt::train
