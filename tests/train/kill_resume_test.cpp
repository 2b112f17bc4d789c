// Kill anywhere: SIGKILL training at random moments (data preparation,
// mid-epoch, checkpoint writing, validation, the test pass, result writing),
// then `--resume` until a run finishes. The result must equal an uninterrupted
// run of the same seed bit for bit (dropout included), every seal must hold,
// and no temp file may be left.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/checksum.h"
#include "core/io.h"
#include "core/strings.h"
#include "test_util.h"

namespace clickprompt {
namespace {

namespace fs = std::filesystem;
using test_util::TempDir;

// Runs the CLI; returns its wall time in seconds (start-up included).
double timed_run(const std::string& args) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = test_util::run_cli(args);
  EXPECT_EQ(r.code, 0) << r.output;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Every metric of result.json and metrics.jsonl (timings and speeds excluded).
nlohmann::json metrics_of(const std::string& run) {
  auto r = nlohmann::json::parse(core::read_sealed(run + "/result.json", "rerun"));
  nlohmann::json m;
  for (const char* k : {"best_epoch", "epochs_run", "valid_auc", "valid_logloss", "test_auc", "test_logloss",
                        "branch_test_auc", "alpha", "long_tail"})
    if (r.contains(k)) m[k] = r[k];
  std::string log = core::read_sealed(run + "/metrics.jsonl", "rerun");
  for (const auto& line : core::split(log, "\n")) {
    if (line.empty()) continue;
    auto e = nlohmann::json::parse(line);
    m["epochs"].push_back({e["epoch"], e["train_loss"], e["valid_auc"], e["valid_logloss"], e["lr"]});
  }
  return m;
}

void expect_clean(const std::string& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << "left behind: " << e.path();
    if (e.is_regular_file() && core::file_exists(core::seal_path(e.path().string()))) {
      EXPECT_NO_THROW(core::verify_sealed(e.path().string(), "")) << e.path();
    }
  }
}

// Runs `args --resume` (a fresh folder starts afresh), each try SIGKILLed after
// a random time in [0.05 s, max_s) until `kills_wanted` kills, then once more to
// the end; returns the number of kills (a try may finish before its kill).
int train_with_kills(const std::string& args, int kills_wanted, double max_s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> when(0.05, max_s);
  int kills = 0;
  for (int attempt = 0; attempt < 200; ++attempt) {
    const bool kill = kills < kills_wanted;
    char t[32];
    std::snprintf(t, sizeof(t), "%.3f", kill ? when(rng) : 600.0);
    std::string cmd = std::string("timeout -s KILL ") + t + " " + CP_CLI_PATH + " " + args + " --resume >/dev/null 2>&1";
    int status = std::system(cmd.c_str());
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 137) {
      ++kills;
      continue;
    }
    EXPECT_EQ(code, 0) << cmd;
    return kills;
  }
  ADD_FAILURE() << "never finished";
  return kills;
}

TEST(KillAnywhere, CtrTrainingWithDropoutResumesBitIdentical) {
  TempDir d("cp-kill");
  ASSERT_EQ(test_util::run_cli("data synth --out " + d.path() + " --samples 8000 --users 100 --items 150").code, 0);
  const std::string base = "--threads 1 train --data " + d.file("dataset.yaml") +
                           " --model dnn --no-progress --set model.net_dropout=0.3 --set 'model.dnn_hidden_units=[64,32]'"
                           " --set train.epochs=5 --set train.patience=5 --set model.embedding_dim=8";
  const double ref_seconds = timed_run(base + " --cache-dir " + d.file("cache-ref") + " --out " + d.file("ref"));
  auto expected = metrics_of(d.file("ref"));
  // Kills spread over the whole run (process start-up included).
  int total = 0;
  for (int round = 0; round < 4; ++round) {
    const std::string out = d.file("killed" + std::to_string(round));
    total += train_with_kills(base + " --cache-dir " + d.file("cache" + std::to_string(round)) + " --out " + out, 5,
                              0.6 * ref_seconds, 17 + round);
    EXPECT_EQ(metrics_of(out).dump(), expected.dump()) << "round " << round;
    expect_clean(out);
    expect_clean(d.file("cache" + std::to_string(round)));
  }
  EXPECT_GE(total, 20);
}

TEST(KillAnywhere, ClickPromptFineTuningResumesBitIdentical) {
  TempDir d("cp-kill-cp");
  ASSERT_EQ(test_util::run_cli("data synth --out " + d.path() + " --samples 3000 --users 60 --items 100").code, 0);
  auto pre = test_util::run_cli("--threads 1 pretrain-plm --data " + d.file("dataset.yaml") + " --cache-dir " +
                                d.file("cache") + " --out " + d.file("plm") +
                                " --vocab-size 400 --hidden 32 --ffn 64 --epochs 1 --no-progress");
  ASSERT_EQ(pre.code, 0) << pre.output;
  d.write("cp.yaml",
          "model: {model: dnn, embedding_dim: 8, dnn_hidden_units: [32], net_dropout: 0.2}\n"
          "clickprompt: {num_prompts: 2}\n"
          "train: {batch_size: 128, epochs: 4, patience: 4, plm_lr: 0.0001}\n"
          "plm: " + d.file("plm") + "\nseed: 5\n");
  const std::string base = "--threads 1 train --mode with-plm --config " + d.file("cp.yaml") + " --data " +
                           d.file("dataset.yaml") + " --cache-dir " + d.file("cache") + " --no-progress";
  const double ref_seconds = timed_run(base + " --out " + d.file("ref"));
  int kills = train_with_kills(base + " --out " + d.file("killed"), 5, 0.3 * ref_seconds, 99);
  EXPECT_EQ(metrics_of(d.file("killed")).dump(), metrics_of(d.file("ref")).dump());
  expect_clean(d.file("killed"));
  EXPECT_GE(kills, 5);
}

}  // namespace
}  // namespace clickprompt
