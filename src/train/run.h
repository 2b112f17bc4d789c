#pragma once
// One training run end to end: config -> data -> model -> fit -> test ->
// result.json (the contract every later mode reuses), plus loading a finished
// run back for evaluation and prediction.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bundle/bundle.h"
#include "ctr/ctr_model.h"
#include "data/dataset.h"
#include "train/distributed.h"

namespace clickprompt::train {

struct RunOptions {
  std::string out_dir;
  std::string cache_root = ".cache";
  bool rebuild_cache = false;
  bool resume = false;
  bool progress = true;
  int threads = 0;  // as configured (for result.json)
  std::string mode = "ctr";  // result.json's mode
  // Called on the freshly created model before training (ClickPrompt's
  // fine-tuning without the PLM loads the PA-MLM backbone here).
  std::function<void(ctr::CtrModel&, const data::Dataset&)> init_backbone;
};

class Trainer;
class Task;
struct FitResult;
// Steps every mode shares: the data set (prepared or from cache, logged); the
// run folder's config.yaml + encoder.json; the test-split part of result.json
// (metrics, Bayes reference, long-tail breakdown, speeds); the final write.
data::Dataset load_dataset(const data::DatasetSpec& spec, const RunOptions& opt);
// What a run folder holds (each with its .sha256 seal).
inline constexpr const char* kRunFiles[] = {"config.yaml", "encoder.json", "best.ckpt", "last.ckpt", "metrics.jsonl",
                                            "result.json", "clickprompt.safetensors"};
// Creates the folder and removes killed writers' temp files; a fresh (not
// resumed) run first removes a previous run's files, so a folder never mixes
// two runs. Then writes config.yaml and encoder.json.
void write_run_files(const std::string& out_dir, const YAML::Node& config, const data::Dataset& ds, bool resume);
// A finished run's result.json and config.yaml, verified against their seals.
nlohmann::json read_result(const std::string& run_dir);
YAML::Node read_run_config(const std::string& run_dir);
// result.json's "distributed" record (null for one process).
nlohmann::json distributed_json(const dist::CommSummary& c);
nlohmann::json test_results(const data::Dataset& ds, const Trainer& trainer, Task& task, const FitResult& fit);
void finish_run(nlohmann::json& r, const std::string& out_dir, std::chrono::steady_clock::time_point start);

// `config` has sections dataset (a spec mapping), model (mapping with `model: name`),
// train (mapping), and keys seed, device. Returns result.json's content.
nlohmann::json run_ctr(const YAML::Node& config, const RunOptions& opt);

class LoadedClickPrompt;
// A finished run loaded back: its config, encoder and best weights. A
// ClickPrompt fine-tuning with the PLM (its config has `plm` and `clickprompt`
// sections) scores through the whole model and the rows' text views; `model`
// is then its CTR part. Every other run (a CTR model, a fine-tuning without
// the PLM) is the CTR model alone.
struct LoadedRun {
  YAML::Node config;
  data::DatasetSpec spec;
  data::Encoder encoder;
  std::vector<data::FieldMeta> fields;  // names and display names (values empty)
  ctr::CtrModelPtr model;
  std::shared_ptr<LoadedClickPrompt> clickprompt;  // with-PLM runs only
  std::string device;
};
LoadedRun load_run(const std::string& run_dir, const std::string& device = "");

// Evaluates a run on a split of a prepared data set (re-encoded with the run's
// encoder, so the data set may have been prepared on its own). Returns {rows, auc, logloss}.
nlohmann::json evaluate_run(const LoadedRun& run, const data::Dataset& ds, const std::string& split);

// ClickPrompt with the PLM only: LoadedClickPrompt::inspect on the first
// `max_rows` rows of a split (0 = all).
nlohmann::json inspect_run(const LoadedRun& run, const data::Dataset& ds, const std::string& split, int64_t max_rows,
                           int64_t attention_rows);

// The bundle of a finished run (bundle/bundle.h): its fields, encoder, model
// config and best weights, and for a with-PLM run the PLM's config and
// tokenizer files; created_from names `run_dir` and its result.json's metrics.
bundle::Contents bundle_contents(LoadedRun& run, const std::string& run_dir);
// `clickprompt export`: load_run + bundle::save. Returns the manifest.
nlohmann::json export_run(const std::string& run_dir, const std::string& out_dir);

}  // namespace clickprompt::train
