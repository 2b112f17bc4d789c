#include "train/experiment.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "core/params.h"
#include "core/plot.h"
#include "core/strings.h"
#include "ctr/registry.h"
#include "data/dataset.h"
#include "data/reader.h"
#include "metrics/stats.h"
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
    fn();
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

namespace {

struct Result {
  std::string plm, backbone, variant;
  uint64_t seed;
  nlohmann::json j;
};

std::string label(const std::string& v) {
  static const std::map<std::string, std::string> names{
      {"backbone", "backbone"},
      {"with_plm", "ClickPrompt w/ PLM"},
      {"without_plm", "ClickPrompt w/o PLM"},
      {"no_pamlm", "w/o PA-MLM"},
      {"no_prompt", "w/o prompts"},
      {"no_both", "w/o PA-MLM, w/o prompts"},
      {"input_with_plm", "input-layer prompts, w/ PLM"},
      {"input_without_plm", "input-layer prompts, w/o PLM"}};
  auto it = names.find(v);
  return it == names.end() ? v : it->second;
}

std::string fmt(const char* f, double v) {
  if (std::isnan(v)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof(b), f, v);
  return b;
}

// Values of one metric per seed.
using BySeed = std::map<uint64_t, double>;

struct Table {
  std::string title, note;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::string markdown() const {
    std::string s = "### " + title + "\n\n";
    if (!note.empty()) s += note + "\n\n";
    s += "|";
    for (const auto& h : header) s += " " + h + " |";
    s += "\n|";
    for (size_t i = 0; i < header.size(); ++i) s += i ? "---:|" : "---|";
    s += "\n";
    for (const auto& r : rows) {
      s += "|";
      for (const auto& c : r) s += " " + c + " |";
      s += "\n";
    }
    return s + "\n";
  }
  std::string csv() const {
    std::string s;
    auto line = [&](const std::vector<std::string>& cells) {
      for (size_t i = 0; i < cells.size(); ++i) s += (i ? "," : "") + data::csv_escape(cells[i]);
      s += "\n";
    };
    line(header);
    for (const auto& r : rows) line(r);
    return s;
  }
};

class Report {
 public:
  Report(std::vector<Result> rs) : rs_(std::move(rs)) {}

  BySeed values(const std::string& plm, const std::string& bb, const std::string& v,
                const std::function<double(const nlohmann::json&)>& get) const {
    BySeed out;
    for (const auto& r : rs_)
      if (r.backbone == bb && r.variant == v && (v == "backbone" || r.plm == plm)) {
        double x = get(r.j);
        if (!std::isnan(x)) out[r.seed] = x;
      }
    return out;
  }
  static std::vector<double> list(const BySeed& m) {
    std::vector<double> v;
    for (const auto& [s, x] : m) v.push_back(x);
    return v;
  }
  static std::string mean_std(const BySeed& m, const char* f = "%.5f") {
    if (m.empty()) return "n/a";
    auto s = metrics::summarize(list(m));
    return fmt(f, s.mean) + (s.n > 1 ? " ± " + fmt(f, s.std) : "");
  }
  // Paired over the seeds both have (Welch when fewer than two are shared).
  static std::string p_value(const BySeed& a, const BySeed& b) {
    std::vector<double> x, y;
    for (const auto& [s, v] : a)
      if (b.count(s)) x.push_back(v), y.push_back(b.at(s));
    double p = x.size() >= 2 ? metrics::paired_t_test(x, y).p : metrics::welch_t_test(list(a), list(b)).p;
    return std::isnan(p) ? "n/a" : fmt(p < 0.001 ? "%.1e" : "%.3f", p);
  }
  static std::string rel(const BySeed& a, const BySeed& base) {
    if (a.empty() || base.empty()) return "n/a";
    double ma = metrics::summarize(list(a)).mean, mb = metrics::summarize(list(base)).mean;
    return fmt("%+.2f%%", 100.0 * (ma - mb) / mb);
  }
  bool has(const std::string& plm, const std::string& bb, const std::string& v) const {
    for (const auto& r : rs_)
      if (r.backbone == bb && r.variant == v && (v == "backbone" || r.plm == plm)) return true;
    return false;
  }
  const std::vector<Result>& results() const { return rs_; }

 private:
  std::vector<Result> rs_;
};

double num(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<double>() : NAN;
}
double group_metric(const nlohmann::json& j, const std::string& list, const std::string& group, const char* k) {
  if (!j.contains("long_tail")) return NAN;
  for (const auto& g : j["long_tail"][list])
    if (g["group"] == group) return g[k].is_number() ? g[k].get<double>() : NAN;
  return NAN;
}

// One row per variant: AUC, log loss (mean ± std), relative AUC improvement and p-value against the backbone.
void variant_rows(const Report& R, Table& t, const std::string& plm, const std::string& bb,
                  const std::vector<std::string>& variants, const std::string& prefix) {
  auto auc = [](const nlohmann::json& j) { return num(j, "test_auc"); };
  auto ll = [](const nlohmann::json& j) { return num(j, "test_logloss"); };
  auto base = R.values(plm, bb, "backbone", auc), base_ll = R.values(plm, bb, "backbone", ll);
  for (const auto& v : variants) {
    if (!R.has(plm, bb, v)) continue;
    auto a = R.values(plm, bb, v, auc), l = R.values(plm, bb, v, ll);
    bool is_base = v == "backbone";
    t.rows.push_back({prefix + (is_base ? bb : label(v)), R.mean_std(a), R.mean_std(l), is_base ? "" : R.rel(a, base),
                      is_base ? "" : R.p_value(a, base), is_base ? "" : R.p_value(l, base_ll),
                      std::to_string(a.size())});
  }
}

const std::vector<std::string> kHeader{"model", "test AUC", "test log loss", "rel. AUC impr.", "p (AUC)", "p (log loss)",
                                       "seeds"};

}  // namespace

void write_report(const YAML::Node& config, const std::string& out_dir) {
  Grid g = read_grid(config);
  std::vector<Result> rs;
  for (uint64_t seed : g.seeds)
    for (const auto& bb : g.backbones) {
      auto load = [&](const std::string& plm, const std::string& v) {
        std::string d = run_dir(out_dir, plm, bb, seed, v);
        if (core::file_exists(d + "/result.json")) rs.push_back({plm, bb, v, seed, read_result(d)});
      };
      if (std::count(g.variants.begin(), g.variants.end(), "backbone")) load("", "backbone");
      for (const auto& p : g.plms)
        for (const auto& v : g.variants)
          if (v != "backbone") load(p.name, v);
    }
  const std::string rdir = out_dir + "/report";
  core::make_dirs(rdir);
  Report R(rs);

  // Every run, one line.
  {
    std::string csv = "plm,backbone,variant,seed,test_auc,test_logloss,valid_auc,best_epoch,train_samples_per_sec,"
                      "infer_samples_per_sec,bayes_test_auc\n";
    for (const auto& r : rs) {
      csv += data::csv_escape(r.plm) + "," + r.backbone + "," + r.variant + "," + std::to_string(r.seed);
      for (const char* k : {"test_auc", "test_logloss", "valid_auc", "best_epoch", "train_samples_per_sec",
                            "infer_samples_per_sec", "bayes_test_auc"})
        csv += "," + fmt("%.6g", num(r.j, k));
      csv += "\n";
    }
    core::atomic_write_string(rdir + "/results.csv", csv);
  }

  std::vector<Table> tables;
  const std::string first_plm = g.plms.empty() ? "" : g.plms[0].name;
  std::string seeds;
  for (auto s : g.seeds) seeds += (seeds.empty() ? "" : ", ") + std::to_string(s);
  const std::string stat_note = "Mean ± std over seeds " + seeds +
                                "; p: two-sided paired t-test over seeds against the backbone (Welch when unpaired).";
  {  // Table 2: overall.
    Table t{"Table 2: overall performance", stat_note, kHeader, {}};
    for (const auto& bb : g.backbones) {
      variant_rows(R, t, first_plm, bb, {"backbone"}, "");
      for (const auto& p : g.plms)
        variant_rows(R, t, p.name, bb, {"with_plm", "without_plm"}, g.plms.size() > 1 ? p.name + ": " : "");
    }
    auto bayes = R.values("", g.backbones[0], "backbone", [](const nlohmann::json& j) { return num(j, "bayes_test_auc"); });
    if (!bayes.empty())
      t.rows.push_back({"Bayes-optimal (true probabilities)", R.mean_std(bayes),
                        R.mean_std(R.values("", g.backbones[0], "backbone",
                                            [](const nlohmann::json& j) { return num(j, "bayes_test_logloss"); })),
                        "", "", "", std::to_string(bayes.size())});
    tables.push_back(t);
  }
  {  // Table 3: compatibility, CTR backbones x PLMs (test AUC).
    Table t{"Table 3: compatibility (test AUC; CTR backbones x PLMs)", stat_note, {"backbone", "alone"}, {}};
    for (const auto& p : g.plms) {
      t.header.push_back(p.name + " w/o PLM");
      t.header.push_back(p.name + " w/ PLM");
    }
    auto auc = [](const nlohmann::json& j) { return num(j, "test_auc"); };
    for (const auto& bb : g.backbones) {
      auto base = R.values(first_plm, bb, "backbone", auc);
      std::vector<std::string> row{bb, R.mean_std(base)};
      for (const auto& p : g.plms)
        for (const char* v : {"without_plm", "with_plm"}) {
          auto a = R.values(p.name, bb, v, auc);
          row.push_back(a.empty() ? "n/a" : R.mean_std(a) + " (" + R.rel(a, base) + ")");
        }
      t.rows.push_back(row);
    }
    tables.push_back(t);
  }
  for (const auto& [title, variants] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"Table 4: prompt strategy (layer-wise prefix vs input layer)",
            {"backbone", "with_plm", "without_plm", "input_with_plm", "input_without_plm"}},
           {"Table 5: fusion ablation (fine-tuning with the PLM)",
            {"backbone", "with_plm", "no_prompt", "no_pamlm", "no_both"}}}) {
    Table t{title, stat_note, kHeader, {}};
    for (const auto& bb : g.backbones)
      for (const auto& p : g.plms) variant_rows(R, t, p.name, bb, variants, g.plms.size() > 1 ? p.name + ": " : "");
    tables.push_back(t);
  }
  {  // Table 6: long tail.
    const std::vector<std::string> groups{"tail user / tail item", "tail user / head item", "head user / tail item",
                                          "head user / head item"};
    Table t{"Table 6: long-tail users and items (test AUC / log loss)", "", {"model"}, {}};
    for (const auto& gr : groups) t.header.push_back(gr);
    for (const auto& r : rs)
      if (r.j.contains("long_tail")) {
        const auto& lt = r.j["long_tail"];
        t.note = "Tail = train-split frequency <= the " + fmt("%.0f", 100 * lt["tail_quantile"].get<double>()) +
                 "% quantile over test rows: users with <= " + lt["user_threshold"].dump() + " and items with <= " +
                 lt["item_threshold"].dump() + " training impressions. Mean over seeds " + seeds + ".";
        break;
      }
    for (const auto& bb : g.backbones)
      for (const auto& p : g.plms)
        for (const auto& v : g.variants) {
          if (!R.has(p.name, bb, v) || (v == "backbone" && &p != &g.plms[0])) continue;
          std::vector<std::string> row{v == "backbone" ? bb : label(v)};
          for (const auto& gr : groups) {
            auto a = R.values(p.name, bb, v, [&](const nlohmann::json& j) { return group_metric(j, "groups", gr, "auc"); });
            auto l = R.values(p.name, bb, v, [&](const nlohmann::json& j) { return group_metric(j, "groups", gr, "logloss"); });
            row.push_back(R.mean_std(a, "%.4f") + " / " + R.mean_std(l, "%.4f"));
          }
          t.rows.push_back(row);
        }
    tables.push_back(t);
  }

  std::string md = "# " + g.name + ": ClickPrompt experiment report\n\nData set: " +
                   (g.dataset["name"] ? g.dataset["name"].as<std::string>() : std::string("?")) + "; backbones: " +
                   core::join(g.backbones, ", ") + "; " + std::to_string(rs.size()) + " finished runs (results.csv).\n\n";
  for (size_t i = 0; i < tables.size(); ++i) {
    md += tables[i].markdown();
    std::string stem = rdir + "/table" + std::to_string(i + 2);
    core::atomic_write_string(stem + ".md", tables[i].markdown());
    core::atomic_write_string(stem + ".csv", tables[i].csv());
  }

  // Plots: test AUC per variant (bars with std), AUC by item frequency bucket (lines).
  if (!rs.empty()) {
    std::vector<std::string> cats;
    for (const auto& v : g.variants) cats.push_back(label(v));
    std::vector<core::Series> series;
    for (const auto& bb : g.backbones) {
      core::Series s{bb, {}, {}};
      for (const auto& v : g.variants) {
        auto a = Report::list(R.values(first_plm, bb, v, [](const nlohmann::json& j) { return num(j, "test_auc"); }));
        auto st = metrics::summarize(a);
        s.values.push_back(st.mean);
        s.errors.push_back(std::isnan(st.std) ? 0.0 : st.std);
      }
      series.push_back(s);
    }
    core::ChartOptions co;
    co.title = g.name + ": test AUC (mean, std over seeds)";
    co.y_label = "test AUC";
    co.width = 1000;
    core::write_bar_chart(rdir + "/auc_by_variant.png", cats, series, co);
    md += "![test AUC by variant](auc_by_variant.png)\n\n";

    std::vector<std::string> buckets;
    for (const auto& r : rs)
      if (r.j.contains("long_tail")) {
        // Buckets with few test rows give noise, not AUC: plotted from 200 rows (5% of a small test split) on.
        int64_t total = 0;
        for (const auto& b : r.j["long_tail"]["item_frequency_buckets"]) total += b["samples"].get<int64_t>();
        for (const auto& b : r.j["long_tail"]["item_frequency_buckets"])
          if (b["samples"].get<int64_t>() >= std::min<int64_t>(200, total / 20)) buckets.push_back(b["group"]);
        break;
      }
    if (!buckets.empty()) {
      std::vector<core::Series> lines;
      for (const auto& v : g.variants) {
        core::Series s{label(v), {}, {}};
        for (const auto& b : buckets) {
          auto a = Report::list(R.values(first_plm, g.backbones[0], v, [&](const nlohmann::json& j) {
            return group_metric(j, "item_frequency_buckets", b, "auc");
          }));
          s.values.push_back(metrics::summarize(a).mean);
        }
        lines.push_back(s);
      }
      core::ChartOptions lo;
      lo.title = g.name + ": test AUC by item train frequency (" + g.backbones[0] + ")";
      lo.x_label = "item impressions in the training split";
      lo.y_label = "test AUC";
      lo.width = 1000;
      core::write_line_chart(rdir + "/auc_by_item_frequency.png", buckets, lines, lo);
      md += "![test AUC by item frequency](auc_by_item_frequency.png)\n";
    }
  }
  core::atomic_write_string(rdir + "/report.md", md);
  spdlog::info("report: {} runs -> {}/report.md", rs.size(), rdir);
}

}  // namespace clickprompt::train
