#include "report/grid_report.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"
#include "data/reader.h"
#include "metrics/stats.h"
#include "report/chart.h"
#include "report/table.h"

namespace clickprompt::report {

std::string variant_label(const std::string& v) {
  static const std::map<std::string, std::string> names{{"backbone", "backbone"},
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

std::string run_status(const std::string& dir) {
  if (core::file_exists(dir + "/result.json")) return "finished";
  if (core::file_exists(dir + "/failed.txt")) return "failed";
  if (std::filesystem::is_directory(dir)) return "running";
  return "not started";
}

namespace {

const char* kHint = "the run folder is damaged: train it again";

struct Result {
  std::string plm, backbone, variant;
  uint64_t seed;
  nlohmann::json j;
};

std::string fmt(const char* f, double v) {
  if (std::isnan(v)) return "n/a";
  char b[64];
  std::snprintf(b, sizeof(b), f, v);
  return b;
}

double num(const nlohmann::json& j, const char* k) {
  return j.contains(k) && j[k].is_number() ? j[k].get<double>() : NAN;
}
double group_metric(const nlohmann::json& j, const std::string& list, const std::string& group, const char* k) {
  if (!j.contains("long_tail") || !j["long_tail"].contains(list)) return NAN;
  for (const auto& g : j["long_tail"][list])
    if (g["group"] == group) return g[k].is_number() ? g[k].get<double>() : NAN;
  return NAN;
}

// metrics.jsonl's records (empty when the run has none yet).
std::vector<nlohmann::json> epochs_of(const std::string& dir) {
  std::vector<nlohmann::json> out;
  if (!core::file_exists(dir + "/metrics.jsonl")) return out;
  const std::string text = core::read_sealed(dir + "/metrics.jsonl", kHint);  // the lines view it
  for (const auto& line : core::split(text, "\n"))
    if (!line.empty()) {
      auto e = nlohmann::json::parse(line, nullptr, false);
      if (e.is_object()) out.push_back(e);
    }
  return out;
}

// Values of one metric per seed.
using BySeed = std::map<uint64_t, double>;

class Results {
 public:
  explicit Results(std::vector<Result> rs) : rs_(std::move(rs)) {}
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
  const std::vector<Result>& all() const { return rs_; }

 private:
  std::vector<Result> rs_;
};

const std::vector<std::string> kHeader{"model",   "test AUC",     "test log loss", "rel. AUC impr.",
                                       "p (AUC)", "p (log loss)", "seeds"};
const std::vector<int> kRank{0, +1, -1, 0, 0, 0, 0};

// One row per variant: AUC, log loss (mean ± std), relative AUC improvement and p-value against the backbone.
void variant_rows(const Results& R, Table& t, const std::string& plm, const std::string& bb,
                  const std::vector<std::string>& variants, const std::string& prefix) {
  auto auc = [](const nlohmann::json& j) { return num(j, "test_auc"); };
  auto ll = [](const nlohmann::json& j) { return num(j, "test_logloss"); };
  auto base = R.values(plm, bb, "backbone", auc), base_ll = R.values(plm, bb, "backbone", ll);
  for (const auto& v : variants) {
    if (!R.has(plm, bb, v)) continue;
    auto a = R.values(plm, bb, v, auc), l = R.values(plm, bb, v, ll);
    bool is_base = v == "backbone";
    t.rows.push_back({prefix + (is_base ? bb : variant_label(v)), R.mean_std(a), R.mean_std(l),
                      is_base ? "" : R.rel(a, base), is_base ? "" : R.p_value(a, base),
                      is_base ? "" : R.p_value(l, base_ll), std::to_string(a.size())});
  }
}

std::vector<Table> grid_tables(const Grid& g, const Results& R) {
  std::vector<Table> tables;
  const std::string first_plm = g.plms.empty() ? "" : g.plms[0];
  std::string seeds;
  for (auto s : g.seeds) seeds += (seeds.empty() ? "" : ", ") + std::to_string(s);
  const std::string stat_note = "Mean ± std over seeds " + seeds +
                                "; p: two-sided paired t-test over seeds against the backbone (Welch when unpaired).";
  {  // Table 2: overall.
    Table t{"Table 2: overall performance", stat_note, kHeader, {}, kRank, {}};
    for (const auto& bb : g.backbones) {
      variant_rows(R, t, first_plm, bb, {"backbone"}, "");
      for (const auto& p : g.plms)
        variant_rows(R, t, p, bb, {"with_plm", "without_plm"}, g.plms.size() > 1 ? p + ": " : "");
    }
    auto bayes =
        R.values("", g.backbones[0], "backbone", [](const nlohmann::json& j) { return num(j, "bayes_test_auc"); });
    if (!bayes.empty()) {
      t.reference_rows.push_back(t.rows.size());
      t.rows.push_back({"Bayes-optimal (true probabilities)", R.mean_std(bayes),
                        R.mean_std(R.values("", g.backbones[0], "backbone",
                                            [](const nlohmann::json& j) { return num(j, "bayes_test_logloss"); })),
                        "", "", "", std::to_string(bayes.size())});
    }
    tables.push_back(t);
  }
  {  // Table 3: compatibility, CTR backbones x PLMs (test AUC).
    Table t{
        "Table 3: compatibility (test AUC; CTR backbones x PLMs)", stat_note, {"backbone", "alone"}, {}, {0, +1}, {}};
    for (const auto& p : g.plms) {
      t.header.push_back(p + " w/o PLM");
      t.header.push_back(p + " w/ PLM");
      t.rank.push_back(+1);
      t.rank.push_back(+1);
    }
    auto auc = [](const nlohmann::json& j) { return num(j, "test_auc"); };
    for (const auto& bb : g.backbones) {
      auto base = R.values(first_plm, bb, "backbone", auc);
      std::vector<std::string> row{bb, R.mean_std(base)};
      for (const auto& p : g.plms)
        for (const char* v : {"without_plm", "with_plm"}) {
          auto a = R.values(p, bb, v, auc);
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
    Table t{title, stat_note, kHeader, {}, kRank, {}};
    for (const auto& bb : g.backbones)
      for (const auto& p : g.plms) variant_rows(R, t, p, bb, variants, g.plms.size() > 1 ? p + ": " : "");
    tables.push_back(t);
  }
  {  // Table 6: long tail.
    const std::vector<std::string> groups{"tail user / tail item", "tail user / head item", "head user / tail item",
                                          "head user / head item"};
    Table t{"Table 6: long-tail users and items (test AUC / log loss)", "", {"model"}, {}, {0, +1, +1, +1, +1}, {}};
    for (const auto& gr : groups) t.header.push_back(gr);
    for (const auto& r : R.all())
      if (r.j.contains("long_tail")) {
        const auto& lt = r.j["long_tail"];
        t.note = "Tail = train-split frequency <= the " + fmt("%.0f", 100 * lt["tail_quantile"].get<double>()) +
                 "% quantile over test rows: users with <= " + lt["user_threshold"].dump() +
                 " and items with <= " + lt["item_threshold"].dump() + " training impressions. Mean over seeds " +
                 seeds + ".";
        break;
      }
    for (const auto& bb : g.backbones)
      for (size_t pi = 0; pi < g.plms.size() || (pi == 0 && g.plms.empty()); ++pi) {
        const std::string p = g.plms.empty() ? "" : g.plms[pi];
        for (const auto& v : g.variants) {
          if (!R.has(p, bb, v) || (v == "backbone" && pi > 0)) continue;
          std::vector<std::string> row{v == "backbone" ? bb : variant_label(v)};
          for (const auto& gr : groups) {
            auto a = R.values(p, bb, v, [&](const nlohmann::json& j) { return group_metric(j, "groups", gr, "auc"); });
            auto l =
                R.values(p, bb, v, [&](const nlohmann::json& j) { return group_metric(j, "groups", gr, "logloss"); });
            row.push_back(R.mean_std(a, "%.4f") + " / " + R.mean_std(l, "%.4f"));
          }
          t.rows.push_back(row);
        }
      }
    tables.push_back(t);
  }
  return tables;
}

// Every SVG inlined into one page gets its own id prefix (cairo names its
// glyphs and clip paths glyph0-1, clip1, ... in every file).
std::string inline_svg(const std::string& svg, const std::string& prefix) {
  std::string s = svg.substr(std::min(svg.size(), svg.find("<svg")));
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"id=\"", "id=\"" + prefix}, {"href=\"#", "href=\"#" + prefix}, {"url(#", "url(#" + prefix}}) {
    std::string out;
    size_t pos = 0, hit;
    while ((hit = s.find(from, pos)) != std::string::npos) {
      out.append(s, pos, hit - pos).append(to);
      pos = hit + from.size();
    }
    s = out + s.substr(pos);
  }
  return s;
}

struct Figure {
  std::string name, caption, svg;
};

// A chart written as <dir>/<name>.{svg,pdf,png}, kept for the page.
void add_figure(std::vector<Figure>& figs, const Chart& c, const std::string& dir, const std::string& name,
                const std::string& caption) {
  auto f = write_chart(c, dir + "/" + name);
  figs.push_back({name, caption, inline_svg(f.svg, "f" + std::to_string(figs.size()) + "-")});
}

struct RunEntry {
  std::string name, dir, status;
  nlohmann::json result;  // null unless finished
};

// Training curves of one run: validation AUC and training loss per epoch
// (CTR and fine-tuning runs), or validation MLM loss (PA-MLM, pretraining).
void curve_figures(std::vector<Figure>& figs, const RunEntry& r, const std::string& dir) {
  auto epochs = epochs_of(r.dir);
  if (epochs.empty()) return;
  std::vector<std::string> x;
  for (const auto& e : epochs) x.push_back(e.value("epoch", nlohmann::json(0)).dump());
  auto series = [&](const char* key, const std::string& name) {
    Series s{name, {}, {}};
    for (const auto& e : epochs) s.values.push_back(num(e, key));
    return s;
  };
  std::string stem = r.name;  // a file name: letters, digits, '.', '-', '_'
  for (char& ch : stem)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-' && ch != '_') ch = '_';
  auto curve = [&](const std::string& what, const std::string& y_label, std::vector<Series> s, const std::string& file) {
    Chart c{Chart::Kind::lines, r.name + ": " + what + " per epoch", "epoch", y_label, x, std::move(s)};
    add_figure(figs, c, dir, "curve_" + stem + file, r.name + ": " + what + " per epoch");
  };
  if (epochs[0].contains("valid_mlm_loss")) {
    curve("validation and training MLM loss", "MLM loss (nats)",
          {series("valid_mlm_loss", "validation"), series("train_mlm_loss", "training")}, "");
    return;
  }
  curve("validation AUC", "validation AUC", {series("valid_auc", "validation AUC")}, "_auc");
  curve("training loss", "training log loss", {series("train_loss", "training loss")}, "_loss");
}

// A run file shown as text (sealed files are checked; failed.txt has no seal).
std::string pre_file(const std::string& path, bool sealed = true) {
  if (!core::file_exists(path)) return "<p>(none)</p>";
  try {
    return "<pre>" + html_escape(sealed ? core::read_sealed(path, kHint) : core::read_file(path)) + "</pre>";
  } catch (const Error& e) {
    return "<p class=\"bad\">" + html_escape(e.what()) + "</p>";
  }
}

std::string runs_html(const std::vector<RunEntry>& runs) {
  std::string s =
      "<table class=\"runs\">\n<caption>Runs</caption>\n<thead><tr><th>run</th><th>status</th><th>best epoch</th>"
      "<th>valid AUC</th><th>test AUC</th><th>test log loss</th><th>config and result</th></tr></thead>\n<tbody>\n";
  for (const auto& r : runs) {
    const auto& j = r.result;
    auto cell = [&](const char* k, const char* f) { return j.is_object() ? fmt(f, num(j, k)) : std::string(); };
    std::string cls = r.status;
    std::replace(cls.begin(), cls.end(), ' ', '-');
    s += "<tr class=\"" + cls + "\"><td>" + html_escape(r.name) + "</td><td>" + r.status + "</td><td>" +
         cell("best_epoch", "%.0f") + "</td><td>" + cell("valid_auc", "%.5f") + "</td><td>" + cell("test_auc", "%.5f") +
         "</td><td>" + cell("test_logloss", "%.5f") + "</td><td>";
    if (r.status != "not started") {
      s += "<details><summary>config.yaml</summary>" + pre_file(r.dir + "/config.yaml") + "</details>";
      s += "<details><summary>result.json</summary>" + pre_file(r.dir + "/result.json") + "</details>";
      if (r.status == "failed")
        s += "<details open><summary>error</summary>" + pre_file(r.dir + "/failed.txt", false) + "</details>";
    }
    s += "</td></tr>\n";
  }
  return s + "</tbody>\n</table>\n";
}

const char* kStyle =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}caption{font-weight:bold;text-align:left;padding:.3em 0}"
    "th,td{border-top:1px solid #ccc;border-bottom:1px solid #ccc;padding:.25em .6em;text-align:right}"
    "th:first-child,td:first-child{text-align:left}thead th{border-bottom:2px solid #444}"
    ".note{font-size:.85em;color:#555;margin-top:-.5em}.failed td{color:#a00}.running td{color:#a60}"
    "figure{margin:1.5em 0}figcaption{font-size:.9em;color:#444}pre{text-align:left;font-size:.8em;max-height:24em;"
    "overflow:auto;background:#f6f6f6;padding:.5em}details{text-align:left}svg{max-width:100%;height:auto}";

std::string page(const std::string& title, const std::string& intro, const std::vector<Table>& tables,
                 const std::vector<Figure>& figs, const std::vector<RunEntry>& runs) {
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
                  html_escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<h1>" +
                  html_escape(title) + "</h1>\n<p>" + html_escape(intro) + "</p>\n";
  if (!tables.empty()) s += "<h2>Tables</h2>\n";
  for (const auto& t : tables) s += t.html();
  if (!figs.empty()) s += "<h2>Figures</h2>\n";
  for (const auto& f : figs)
    s += "<figure id=\"" + f.name + "\">\n" + f.svg + "\n<figcaption>" + html_escape(f.caption) + " (" + f.name +
         ".svg / .pdf / .png)</figcaption>\n</figure>\n";
  s += "<h2>Runs</h2>\n" + runs_html(runs);
  return s + "</body>\n</html>\n";
}

// <stem>.md, .csv and .tex; the Markdown also goes to the report's.
void write_table(const Table& t, const std::string& stem, std::string& md) {
  md += t.markdown();
  core::atomic_write_string(stem + ".md", t.markdown());
  core::atomic_write_string(stem + ".csv", t.csv());
  core::atomic_write_string(stem + ".tex", t.latex());
}

}  // namespace

void write_grid_report(const Grid& g, const std::string& rdir) {
  std::vector<Result> rs;
  std::vector<RunEntry> entries;
  for (const auto& run : g.runs) {
    RunEntry e{(run.variant == "backbone" ? "backbone" : run.plm) + "/" + run.backbone + "/s" +
                   std::to_string(run.seed) + "/" + run.variant,
               run.dir, run_status(run.dir), nullptr};
    if (e.status == "finished") {
      e.result = core::read_sealed_json(run.dir + "/result.json", kHint);
      rs.push_back({run.plm, run.backbone, run.variant, run.seed, e.result});
    }
    entries.push_back(e);
  }
  for (const auto& dir : g.pamlm)
    entries.push_back({"PA-MLM " + std::filesystem::path(dir).parent_path().filename().string() + "/" +
                           std::filesystem::path(dir).filename().string(),
                       dir, run_status(dir), nullptr});
  core::make_dirs(rdir);
  Results R(rs);

  {  // Every finished run, one line.
    std::string csv =
        "plm,backbone,variant,seed,test_auc,test_logloss,valid_auc,best_epoch,train_samples_per_sec,"
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
  const auto tables = grid_tables(g, R);
  const std::string intro = "Data set: " + g.dataset + "; backbones: " + core::join(g.backbones, ", ") + "; " +
                            std::to_string(rs.size()) + " of " + std::to_string(g.runs.size()) + " runs finished.";
  std::string md = "# " + g.name + ": ClickPrompt experiment report\n\n" + intro + " (results.csv, report.html)\n\n";
  for (size_t i = 0; i < tables.size(); ++i) write_table(tables[i], rdir + "/table" + std::to_string(i + 2), md);

  std::vector<Figure> figs;
  const std::string first_plm = g.plms.empty() ? "" : g.plms[0];
  if (!rs.empty()) {
    Chart bars{
        Chart::Kind::bars, g.name + ": test AUC by variant (mean ± std over seeds)", "", "test AUC", {}, {}, 1000};
    for (const auto& v : g.variants) bars.x.push_back(variant_label(v));
    for (const auto& bb : g.backbones) {
      Series s{bb, {}, {}};
      for (const auto& v : g.variants) {
        auto st = metrics::summarize(
            Results::list(R.values(first_plm, bb, v, [](const nlohmann::json& j) { return num(j, "test_auc"); })));
        s.values.push_back(st.n > 0 ? st.mean : NAN);
        s.errors.push_back(st.n > 1 ? st.std : 0.0);
      }
      bars.series.push_back(s);
    }
    add_figure(figs, bars, rdir, "auc_by_variant", "Test AUC by variant and backbone, mean ± std over seeds");
    for (const auto& [list, who] : std::vector<std::pair<std::string, std::string>>{
             {"item_frequency_buckets", "item"}, {"user_frequency_buckets", "user"}}) {
      std::vector<std::string> buckets;
      for (const auto& r : rs)
        if (r.j.contains("long_tail") && r.j["long_tail"].contains(list)) {
          // Buckets with few test rows give noise, not AUC: plotted from 200 rows (5% of a small test split) on.
          int64_t total = 0;
          for (const auto& b : r.j["long_tail"][list]) total += b["samples"].get<int64_t>();
          for (const auto& b : r.j["long_tail"][list])
            if (b["samples"].get<int64_t>() >= std::min<int64_t>(200, total / 20)) buckets.push_back(b["group"]);
          break;
        }
      if (buckets.empty()) continue;
      Chart lines{Chart::Kind::lines,
                  g.name + ": test AUC by " + who + " train frequency (" + g.backbones[0] + ")",
                  who + " impressions in the training split",
                  "test AUC",
                  buckets,
                  {},
                  1000};
      for (const auto& v : g.variants) {
        Series s{variant_label(v), {}, {}};
        for (const auto& b : buckets) {
          auto st = metrics::summarize(Results::list(R.values(
              first_plm, g.backbones[0], v, [&](const nlohmann::json& j) { return group_metric(j, list, b, "auc"); })));
          s.values.push_back(st.n > 0 ? st.mean : NAN);
          s.errors.push_back(st.n > 1 ? st.std : 0.0);
        }
        lines.series.push_back(s);
      }
      add_figure(figs, lines, rdir, "auc_by_" + who + "_frequency",
                 "Test AUC by " + who + " frequency bucket, mean ± std over seeds");
    }
  }
  for (const auto& e : entries)
    if (e.status != "not started") curve_figures(figs, e, rdir);
  for (const auto& f : figs) md += "![" + f.caption + "](" + f.name + ".svg)\n\n";
  core::atomic_write_string(rdir + "/report.md", md);
  core::atomic_write_string(rdir + "/report.html",
                            page(g.name + ": ClickPrompt experiment report", intro, tables, figs, entries));
  spdlog::info("report: {} runs -> {}/report.html", rs.size(), rdir);
}

void write_runs_report(const std::vector<std::string>& run_dirs, const std::string& rdir) {
  core::make_dirs(rdir);
  std::vector<RunEntry> entries;
  Chart bars{Chart::Kind::bars, "Test AUC by run", "", "test AUC", {}, {Series{"test AUC", {}, {}}}, 1000};
  Table t{"Runs",
          "",
          {"run", "model", "seed", "best epoch", "valid AUC", "test AUC", "test log loss"},
          {},
          {0, 0, 0, 0, +1, +1, -1},
          {}};
  for (const auto& dir : run_dirs) {
    RunEntry e{std::filesystem::path(dir).filename().string(), dir, run_status(dir), nullptr};
    if (e.status == "finished") {
      e.result = core::read_sealed_json(dir + "/result.json", kHint);
      const auto& j = e.result;
      auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "?"; };
      t.rows.push_back({e.name, text("model"), fmt("%.0f", num(j, "seed")), fmt("%.0f", num(j, "best_epoch")),
                        fmt("%.5f", num(j, "valid_auc")), fmt("%.5f", num(j, "test_auc")),
                        fmt("%.5f", num(j, "test_logloss"))});
      if (!std::isnan(num(j, "test_auc"))) {  // PA-MLM and pretraining runs have none
        bars.x.push_back(e.name);
        bars.series[0].values.push_back(num(j, "test_auc"));
      }
    }
    entries.push_back(e);
  }
  std::vector<Figure> figs;
  if (!bars.x.empty()) add_figure(figs, bars, rdir, "test_auc_by_run", "Test AUC of each finished run");
  for (const auto& e : entries)
    if (e.status != "not started") curve_figures(figs, e, rdir);
  std::string md;
  write_table(t, rdir + "/runs", md);
  core::atomic_write_string(rdir + "/report.md", md);
  core::atomic_write_string(
      rdir + "/report.html",
      page("Run report", std::to_string(t.rows.size()) + " of " + std::to_string(run_dirs.size()) + " runs finished.",
           {t}, figs, entries));
}

}  // namespace clickprompt::report
