#pragma once
// The experiment report: from run folders (result.json, metrics.jsonl,
// config.yaml) to Tables 2-6 (Markdown, CSV, LaTeX), figures (SVG, PDF, PNG)
// and one self-contained page, report.html. It reads result files, never models.
#include <cstdint>
#include <string>
#include <vector>

namespace clickprompt::report {

// One run of a grid (finished or not) and where it lives.
struct GridRun {
  std::string plm, backbone, variant;  // plm empty for the backbone alone
  uint64_t seed = 0;
  std::string dir;
};

struct Grid {
  std::string name, dataset;
  std::vector<uint64_t> seeds;
  std::vector<std::string> backbones, plms, variants;
  std::vector<GridRun> runs;       // every run the grid plans
  std::vector<std::string> pamlm;  // PA-MLM folders (their validation MLM loss per epoch is plotted)
};

// The display name of a variant ("with_plm" -> "ClickPrompt w/ PLM").
std::string variant_label(const std::string& variant);

// A run folder's state: finished (result.json), failed (failed.txt, the error),
// running (a folder without either), not started (no folder).
std::string run_status(const std::string& dir);

// Writes <report_dir>/: results.csv, table2..6 .md/.csv/.tex, report.md,
// report.html and the figures (*.svg, *.pdf, *.png).
void write_grid_report(const Grid& g, const std::string& report_dir);

// The same page for a plain list of run folders (`clickprompt report --out`): the
// runs table, every run's curves and config/result, a figure of test AUC per run.
void write_runs_report(const std::vector<std::string>& run_dirs, const std::string& report_dir);

}  // namespace clickprompt::report
