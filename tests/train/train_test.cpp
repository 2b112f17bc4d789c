#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"
#include "data/reader.h"
#include "data/synthetic.h"
#include "metrics/metrics.h"
#include "train/run.h"
#include "train/schedule.h"
#include "train/trainer.h"
#include "core/params.h"
#include "serve/batch_scoring.h"
#include "test_util.h"

using namespace clickprompt;
using clickprompt::test_util::TempDir;

TEST(Schedule, WarmupThenDecay) {
  train::LrSchedule s{"linear", 10, 110};
  EXPECT_DOUBLE_EQ(s.factor(0), 0.1);
  EXPECT_DOUBLE_EQ(s.factor(9), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(10), 1.0);
  EXPECT_DOUBLE_EQ(s.factor(60), 0.5);
  EXPECT_DOUBLE_EQ(s.factor(110), 0.0);
  train::LrSchedule c{"cosine", 0, 100};
  EXPECT_NEAR(c.factor(50), 0.5, 1e-12);
  EXPECT_NEAR(c.factor(100), 0.0, 1e-12);
  EXPECT_DOUBLE_EQ((train::LrSchedule{"constant", 0, 0}.factor(1000)), 1.0);
  EXPECT_THROW((train::LrSchedule{"cosin", 0, 10}.factor(5)), Error);
}

TEST(EarlyStopping, PatienceCountsEpochsWithoutImprovement) {
  train::EarlyStopping e;
  e.patience = 2;
  EXPECT_TRUE(e.update(0.70, 1));
  EXPECT_TRUE(e.update(0.72, 2));
  EXPECT_FALSE(e.update(0.71, 3));
  EXPECT_FALSE(e.should_stop());
  EXPECT_FALSE(e.update(0.72, 4));  // equal is not better
  EXPECT_TRUE(e.should_stop());
  EXPECT_EQ(e.best_epoch, 2);
}

namespace {
YAML::Node small_config(const std::string& spec_path, const std::string& model, int epochs) {
  YAML::Node cfg;
  cfg["dataset"] = core::load_yaml(spec_path);
  cfg["model"]["model"] = model;
  cfg["model"]["embedding_dim"] = 8;
  if (model != "fm") cfg["model"]["dnn_hidden_units"] = std::vector<int>{32, 32};
  if (model == "dcnv2") cfg["model"]["num_cross_layers"] = 2;
  cfg["train"]["batch_size"] = 256;
  cfg["train"]["epochs"] = epochs;
  cfg["train"]["lr"] = 0.003;
  cfg["seed"] = 3;
  return cfg;
}

struct SyntheticWorld {
  TempDir dir{"cp-syn"};
  std::string spec;
  SyntheticWorld() {
    data::SyntheticOptions o;
    o.samples = 30000;
    o.users = 400;
    o.items = 800;
    data::write_synthetic(o, dir.file("syn.csv"));
    spec = dir.file("dataset.yaml");
    dir.write("dataset.yaml", data::synthetic_spec_yaml("syn-test", dir.file("syn.csv")));
  }
};
}  // namespace

TEST(EndToEnd, TrainsToNonTrivialAucAndWritesTheResultContract) {
  at::set_num_threads(2);
  SyntheticWorld w;
  TempDir out, cache;
  train::RunOptions ro;
  ro.out_dir = out.path();
  ro.cache_root = cache.path();
  ro.progress = false;
  auto r = train::run_ctr(small_config(w.spec, "dcnv2", 4), ro);
  for (const char* k : std::vector<const char*>{"dataset", "split", "model", "mode", "seed", "config", "best_epoch", "valid_auc",
                        "valid_logloss", "test_auc", "test_logloss", "train_samples_per_sec", "infer_samples_per_sec",
                        "wall_seconds", "threads", "bayes_test_auc"})
    EXPECT_TRUE(r.contains(k)) << k;
  double auc = r["test_auc"], bayes = r["bayes_test_auc"];
  EXPECT_GT(auc, 0.6) << r.dump();  // random is 0.5; 24k samples are far from Bayes
  EXPECT_LT(auc, bayes + 0.01);
  EXPECT_GT(bayes, 0.7);
  // Long-tail breakdown: four user/item groups covering the test split, thresholds stated.
  ASSERT_TRUE(r.contains("long_tail"));
  int64_t n = 0;
  for (const auto& g : r["long_tail"]["groups"]) n += g["samples"].get<int64_t>();
  EXPECT_EQ(n, 3000);
  EXPECT_EQ(r["long_tail"]["groups"].size(), 4u);
  EXPECT_GE(r["long_tail"]["item_threshold"].get<int64_t>(), 0);
  EXPECT_EQ(r["long_tail"]["items"][1]["group"], "tail item");
  // Defaults are recorded in the config as used.
  EXPECT_EQ(r["config"]["train"]["optimizer"], "adam");
  EXPECT_EQ(r["config"]["model"]["embedding_dim"], 8);
  // metrics.jsonl: one line per epoch.
  std::ifstream log(out.file("metrics.jsonl"));
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) {
    ++lines;
    EXPECT_TRUE(nlohmann::json::parse(line).contains("valid_auc"));
  }
  EXPECT_EQ(lines, r["epochs_run"].get<int>());

  // A finished run evaluates and predicts; scores match the run's own test AUC.
  auto run = train::load_run(out.path());
  auto pred = out.file("pred.csv");
  std::string test_csv = out.file("test.csv");
  auto ds = data::prepare_dataset(data::DatasetSpec::load(w.spec), {cache.path(), false});
  data::export_csv(ds, "test", test_csv);
  bundle::Model model(train::bundle_contents(run, out.path()), "cpu");
  serve::PredictOptions po;
  po.progress = false;
  EXPECT_EQ(serve::predict_file(model, test_csv, pred, po).rows, ds.test.rows);
  auto t = data::read_csv(pred, {}, {"score", "label"});
  std::vector<float> s(t.numbers["score"].begin(), t.numbers["score"].end());
  std::vector<float> l(t.numbers["label"].begin(), t.numbers["label"].end());
  EXPECT_NEAR(metrics::auc(s, l), auc, 2e-4);
}

TEST(EndToEnd, SameSeedSameResultAndResumeFinishesTheRun) {
  at::set_num_threads(1);
  SyntheticWorld w;
  TempDir a, b, cache;
  train::RunOptions ro;
  ro.cache_root = cache.path();
  ro.progress = false;
  ro.out_dir = a.path();
  auto ra = train::run_ctr(small_config(w.spec, "dnn", 2), ro);
  ro.out_dir = b.path();
  // First only 1 epoch (a "killed" run), then resume with the full budget.
  train::run_ctr(small_config(w.spec, "dnn", 1), ro);
  auto st = core::read_file(b.file("metrics.jsonl"));
  EXPECT_EQ(std::count(st.begin(), st.end(), '\n'), 1);
  ro.resume = true;
  auto rb = train::run_ctr(small_config(w.spec, "dnn", 2), ro);
  EXPECT_EQ(rb["epochs_run"], 2);
  // Without lr plateau changes in between, the resumed run equals the uninterrupted one.
  EXPECT_NEAR(ra["valid_auc"].get<double>(), rb["valid_auc"].get<double>(), 1e-9);
  EXPECT_NEAR(ra["test_auc"].get<double>(), rb["test_auc"].get<double>(), 1e-9);
}

TEST(Checkpoint, CorruptFileIsAClearError) {
  SyntheticWorld w;
  TempDir out, cache;
  train::RunOptions ro;
  ro.out_dir = out.path();
  ro.cache_root = cache.path();
  ro.progress = false;
  train::run_ctr(small_config(w.spec, "fm", 1), ro);
  core::atomic_write_string(out.file("best.ckpt"), "garbage");
  try {
    train::load_run(out.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("best.ckpt is corrupt"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), kExitCorrupt);
  }
}

TEST(TrainerOptions, MonitorAndEpochRowsAreRead) {
  YAML::Node n = YAML::Load("{monitor: auc-logloss, epoch_rows: 1000}");
  core::Params p(n, "train");
  auto o = train::TrainerOptions::from(p);
  EXPECT_EQ(o.monitor, "auc-logloss");
  EXPECT_EQ(o.epoch_rows, 1000);
  YAML::Node bad = YAML::Load("{monitor: logloss}");
  EXPECT_NE(test_util::error_of([&] { train::TrainerOptions::from(core::Params(bad, "train")); }).find("auc-logloss"),
            std::string::npos);
}
