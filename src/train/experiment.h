#pragma once
// The paper's experiments in one command: an experiment config names a data
// set, CTR backbones, PLMs, variants and seeds; run_experiment trains the whole
// grid (resumable: a run whose result.json exists is skipped, an interrupted
// one resumes from its last checkpoint) and write_report hands the grid's run
// folders to report/grid_report.h: Tables 2-6 (Markdown, CSV, LaTeX), figures
// (SVG, PDF, PNG) and report.html. docs/clickprompt.md describes the config and the report.
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace clickprompt::train {

// Every run variant the grid knows, in report order:
//   backbone           the CTR model alone
//   with_plm           PA-MLM (layer-wise) -> fine-tune with the PLM
//   without_plm        PA-MLM (layer-wise) -> fine-tune the CTR backbone alone
//   no_pamlm           fine-tune with the PLM, no PA-MLM (PLM + fresh CTR model)
//   no_prompt          PA-MLM -> fine-tune with the PLM without prompts (logits fused only)
//   no_both            no PA-MLM, no prompts: PLM and fresh CTR model fused at the output
//   input_with_plm     as with_plm, prompts at the input layer only (PA-MLM too)
//   input_without_plm  as without_plm from the input-layer PA-MLM
const std::vector<std::string>& experiment_variants();

struct ExperimentOptions {
  std::string out_dir;
  std::string cache_root = ".cache";
  bool progress = true;
  bool report_only = false;  // tables and plots from the runs that exist
  bool dry_run = false;      // list the runs, train nothing
};

// Trains what is missing, then writes <out_dir>/report/. Returns the number of runs trained.
int run_experiment(const YAML::Node& config, const ExperimentOptions& opt);

// The report of the runs under out_dir (report/: results.csv, table2..table6
// .md/.csv/.tex, report.md, report.html, figures as .svg/.pdf/.png).
void write_report(const YAML::Node& config, const std::string& out_dir);

}  // namespace clickprompt::train
