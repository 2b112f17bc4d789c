// Data-parallel training on c10d (Gloo over loopback): the gradient exchange
// in-process (two ranks on two threads), then whole jobs through `launch`:
// 2 processes x batch B against 1 process x batch 2B (CTR with sparse
// embeddings, ClickPrompt fine-tuning with the PLM, PA-MLM), a killed and a
// hung worker, and two hosts as two network namespaces where the sandbox
// allows.
#include "train/distributed.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"
#include "test_util.h"
#include "train/clickprompt_run.h"
#include "train/run.h"

namespace clickprompt {
namespace {

namespace fs = std::filesystem;
using test_util::TempDir;
namespace dist = train::dist;

// A port nobody listens on now (the kernel's pick for port 0).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

dist::Env env_of(int rank, int world, int port) {
  dist::Env e;
  e.rank = rank;
  e.world_size = world;
  e.master_port = port;
  e.present = true;
  return e;
}

// Runs fn(group) on `world` threads, one rank each.
void on_ranks(int world, const std::function<void(dist::Group&)>& fn) {
  const int port = free_port();
  std::vector<std::thread> ts;
  std::vector<std::string> errors(world);
  for (int r = 0; r < world; ++r)
    ts.emplace_back([&, r] {
      try {
        dist::Group g(env_of(r, world, port), "gloo", "cpu", std::chrono::milliseconds(20000));
        fn(g);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : ts) t.join();
  for (int r = 0; r < world; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

using Span = std::pair<int64_t, int64_t>;

TEST(Distributed, BatchShardsCoverTheGlobalBatchInOrder) {
  // Global batch [100, 164) with local batch 32: rank 0 [100, 132), rank 1
  // [132, 164).
  EXPECT_EQ(dist::batch_shard(100, 164, 32, 0), (Span{100, 132}));
  EXPECT_EQ(dist::batch_shard(100, 164, 32, 1), (Span{132, 164}));
  // A short tail of 40 rows: rank 1 gets 8, rank 2 (of 3) none.
  EXPECT_EQ(dist::batch_shard(0, 40, 32, 1), (Span{32, 40}));
  EXPECT_EQ(dist::batch_shard(0, 40, 32, 2), (Span{40, 40}));
  int64_t covered = 0;
  for (int r = 0; r < 3; ++r) {
    auto [b, e] = dist::even_shard(10, r, 3);
    EXPECT_EQ(b, covered);
    covered = e;
  }
  EXPECT_EQ(covered, 10);
}

TEST(Distributed, EnvironmentIsTorchrunsAndChecked) {
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("RANK", "2", 1);
  ::setenv("LOCAL_RANK", "0", 1);
  ::setenv("MASTER_ADDR", "10.0.0.7", 1);
  ::setenv("MASTER_PORT", "29999", 1);
  auto e = dist::Env::from_environment();
  EXPECT_TRUE(e.present);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.rank, 2);
  EXPECT_EQ(e.master_addr, "10.0.0.7");
  EXPECT_EQ(e.master_port, 29999);
  ::setenv("RANK", "4", 1);
  EXPECT_NE(test_util::error_of([] { dist::Env::from_environment(); }).find("RANK='4'"), std::string::npos);
  ::setenv("RANK", "1", 1);
  ::setenv("MASTER_PORT", "http", 1);
  EXPECT_NE(test_util::error_of([] { dist::Env::from_environment(); }).find("MASTER_PORT"), std::string::npos);
  for (const char* k : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(k);
  EXPECT_FALSE(dist::Env::from_environment().present);
}

// Rank r's gradients: a dense matrix, a sparse table with a duplicate row on
// rank 0 (uncoalesced, as embedding backward makes them), a parameter with a
// gradient on rank 1 only and one with none anywhere.
struct Params {
  torch::Tensor dense = torch::zeros({3, 4}), table = torch::zeros({10, 2}), only1 = torch::zeros({5}),
                unused = torch::zeros({2});
  std::vector<torch::Tensor> all() { return {dense, table, only1, unused}; }
};
torch::Tensor dense_grad(int r) { return torch::arange(12, torch::kFloat32).view({3, 4}) * (r + 1); }
torch::Tensor table_grad(int r) {
  auto idx = r == 0 ? torch::tensor({{1, 3, 3}}, torch::kInt64) : torch::tensor({{3, 7}}, torch::kInt64);
  auto val = r == 0 ? torch::tensor({{1.f, 2.f}, {3.f, 4.f}, {5.f, 6.f}}) : torch::tensor({{10.f, 20.f}, {30.f, 40.f}});
  return torch::sparse_coo_tensor(idx, val, {10, 2});
}

TEST(Distributed, GradientExchangeSumsSharesOfDenseAndTouchedRowsOnly) {
  const double share[2] = {0.25, 0.75};
  std::vector<torch::Tensor> dense_out(2), table_out(2), only1_out(2);
  std::vector<bool> unused_defined(2), table_sparse(2);
  std::vector<dist::Stats> stats(2);
  on_ranks(2, [&](dist::Group& g) {
    const int r = g.rank();
    Params p;
    for (auto& t : p.all()) t.set_requires_grad(true);
    p.dense.mutable_grad() = dense_grad(r);
    p.table.mutable_grad() = table_grad(r);
    if (r == 1) p.only1.mutable_grad() = torch::ones({5});
    dist::all_reduce_gradients(g, p.all(), share[r],
                               /*bucket_bytes=*/16);  // several buckets
    dense_out[r] = p.dense.grad().clone();
    table_sparse[r] = p.table.grad().is_sparse();
    table_out[r] = p.table.grad().to_dense();
    only1_out[r] = p.only1.grad().clone();
    unused_defined[r] = p.unused.grad().defined();
    stats[r] = g.stats();
  });
  auto want_dense = dense_grad(0) * 0.25 + dense_grad(1) * 0.75;
  auto want_table = table_grad(0).to_dense() * 0.25 + table_grad(1).to_dense() * 0.75;
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(torch::allclose(dense_out[r], want_dense)) << r;
    EXPECT_TRUE(table_sparse[r]) << "the table's gradient stays sparse";
    EXPECT_TRUE(torch::allclose(table_out[r], want_table)) << r << "\n" << table_out[r];
    EXPECT_TRUE(torch::allclose(only1_out[r], torch::full({5}, 0.75f))) << r;
    EXPECT_FALSE(unused_defined[r]) << "no rank had a gradient: the optimizer must skip it";
    EXPECT_EQ(stats[r].exchanges, 1);
    // Dense: the 3x4 and the 5-vector in float32; sparse: the most distinct
    // rows of a rank (2, after coalescing rank 0's duplicate), each an index
    // and 2 floats.
    EXPECT_EQ(stats[r].dense_bytes, (12 + 5) * 4);
    EXPECT_EQ(stats[r].sparse_bytes, 2 * 8 + 2 * 2 * 4);
  }
  EXPECT_TRUE(torch::equal(table_out[0], table_out[1])) << "every rank must update identically";
}

TEST(Distributed, GatherBroadcastAndVariableLengths) {
  std::vector<std::vector<float>> gathered(3);
  std::vector<std::string> got(3);
  on_ranks(3, [&](dist::Group& g) {
    std::vector<float> mine(static_cast<size_t>(g.rank()),
                            static_cast<float>(g.rank()));  // 0, 1 or 2 values
    gathered[g.rank()] = dist::gather_floats(g, mine, "test gather");
    got[g.rank()] = g.broadcast(g.rank() == 0 ? std::string("from rank 0\n\0x", 14) : "", "test broadcast");
    g.barrier("test barrier");
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(gathered[r], (std::vector<float>{1, 2, 2})) << r;
    EXPECT_EQ(got[r], std::string("from rank 0\n\0x", 14)) << r;
  }
}

TEST(Distributed, AMissingPeerIsAPeerFailureNamingTheRendezvous) {
  const int port = free_port();
  auto t0 = std::chrono::steady_clock::now();
  std::string msg;
  try {
    dist::Group g(env_of(0, 2, port), "gloo", "cpu", std::chrono::milliseconds(1500));
  } catch (const PeerFailure& e) {
    msg = e.what();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(msg.find("rank 0 of 2: rendezvous at 127.0.0.1:" + std::to_string(port)), std::string::npos) << msg;
  EXPECT_LT(secs, 10);
}

// ---- whole jobs through the launcher
// ---------------------------------------------------------------

std::string launch(int nproc, const std::string& args, const std::string& extra = "") {
  return "launch --nproc-per-node " + std::to_string(nproc) + " --master-port " + std::to_string(free_port()) + " " +
         extra + " -- --threads 1 " + args;
}

nlohmann::json result_of(const std::string& run) {
  return nlohmann::json::parse(core::read_sealed(run + "/result.json", "rerun"));
}

// The largest difference between two finished runs' weights (best.ckpt).
double max_weight_diff(const std::string& a, const std::string& b) {
  auto ra = train::load_run(a, "cpu"), rb = train::load_run(b, "cpu");
  torch::nn::Module& ma = ra.clickprompt ? static_cast<torch::nn::Module&>(*ra.clickprompt->model()) : *ra.model;
  torch::nn::Module& mb = rb.clickprompt ? static_cast<torch::nn::Module&>(*rb.clickprompt->model()) : *rb.model;
  auto pa = ma.named_parameters(), pb = mb.named_parameters();
  EXPECT_EQ(pa.size(), pb.size());
  double worst = 0;
  for (const auto& item : pa) {
    auto other = pb.find(item.key());
    EXPECT_NE(other, nullptr) << item.key();
    if (!other) continue;
    worst = std::max(worst, (item.value() - *other).abs().max().item<double>());
  }
  return worst;
}

// Files a run folder may hold: one writer (rank 0), no temp files.
void expect_one_writer(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << e.path();
  }
  EXPECT_NO_THROW(core::verify_sealed(dir + "/result.json", ""));
}

// The tolerance of "the same run": float sums in another order (the all-reduce
// adds two half-batch gradients where one process sums one batch).
constexpr double kWeightTol = 2e-4, kAucTol = 2e-4;

// Run `two` (distributed) is run `one` (one process, the global batch): test AUC
// and every weight within the tolerances; the difference is printed.
void expect_same_run(const std::string& one, const std::string& two, const char* what) {
  const double a1 = result_of(one)["test_auc"].get<double>(), a2 = result_of(two)["test_auc"].get<double>();
  const double diff = max_weight_diff(one, two);
  std::printf("%s: largest weight difference %.3g; test AUC %.7f vs %.7f\n", what, diff, a1, a2);
  EXPECT_NEAR(a1, a2, kAucTol);
  EXPECT_LT(diff, kWeightTol);
}

TEST(DistributedCli, CtrTwoProcessesEqualOneProcessWithTheGlobalBatch) {
  TempDir d("cp-dist");
  ASSERT_EQ(test_util::run_cli("data synth --out " + d.path() + " --samples 6000 --users 100 --items 150").code, 0);
  // DeepFM: sparse embedding tables (the row exchange) and a dense DNN tower
  // (the all-reduce).
  const std::string base = "train --data " + d.file("dataset.yaml") + " --model deepfm --no-progress --cache-dir " +
                           d.file("cache") +
                           " --set train.epochs=2 --set train.patience=2 --set model.embedding_dim=8"
                           " --set 'model.dnn_hidden_units=[32,16]' --set model.net_dropout=0";
  auto one = test_util::run_cli("--threads 1 " + base + " --set train.batch_size=200 --out " + d.file("one"));
  ASSERT_EQ(one.code, 0) << one.output;
  // 4,200 training rows: 21 global batches of 200, 2 ranks x 100.
  auto two = test_util::run_cli(launch(2, base + " --set train.batch_size=100 --out " + d.file("two")));
  ASSERT_EQ(two.code, 0) << two.output;
  EXPECT_NE(two.output.find("[rank 0]"), std::string::npos) << two.output;

  auto r1 = result_of(d.file("one")), r2 = result_of(d.file("two"));
  EXPECT_NEAR(r1["valid_auc"].get<double>(), r2["valid_auc"].get<double>(), kAucTol);
  EXPECT_EQ(r1["best_epoch"], r2["best_epoch"]);
  expect_same_run(d.file("one"), d.file("two"), "CTR");
  ASSERT_TRUE(r2.contains("distributed")) << r2.dump(2);
  EXPECT_EQ(r2["distributed"]["world_size"], 2);
  EXPECT_EQ(r2["distributed"]["global_batch_size"], 200);
  EXPECT_GT(r2["distributed"]["sparse_gradient_bytes_per_step"].get<double>(), 0);
  EXPECT_GT(r2["distributed"]["dense_gradient_bytes_per_step"].get<double>(), 0);
  expect_one_writer(d.file("two"));
}

// A tiny PLM without dropout (so the two runs draw no random masks).
std::string tiny_plm(const TempDir& d) {
  auto pre = test_util::run_cli("--threads 1 pretrain-plm --data " + d.file("dataset.yaml") + " --cache-dir " +
                                d.file("cache") + " --out " + d.file("plm") +
                                " --vocab-size 300 --hidden 32 --ffn 64 "
                                "--epochs 1 --dropout 0 --no-progress");
  EXPECT_EQ(pre.code, 0) << pre.output;
  return d.file("plm");
}

TEST(DistributedCli, ClickPromptWithThePlmTwoProcessesEqualOne) {
  TempDir d("cp-dist-cp");
  ASSERT_EQ(test_util::run_cli("data synth --out " + d.path() + " --samples 2000 --users 60 --items 100").code, 0);
  const std::string plm = tiny_plm(d);
  auto cfg = [&](int batch) {
    return "model: {model: dnn, embedding_dim: 8, dnn_hidden_units: [32], "
           "net_dropout: 0}\n"
           "clickprompt: {num_prompts: 2}\n"
           "train: {batch_size: " +
           std::to_string(batch) +
           ", epochs: 2, patience: 2, plm_lr: 0.0001}\n"
           "plm: " +
           plm + "\nseed: 5\n";
  };
  d.write("one.yaml", cfg(128));
  d.write("two.yaml", cfg(64));
  const std::string base =
      "train --mode with-plm --data " + d.file("dataset.yaml") + " --cache-dir " + d.file("cache") + " --no-progress";
  auto one = test_util::run_cli("--threads 1 " + base + " --config " + d.file("one.yaml") + " --out " + d.file("one"));
  ASSERT_EQ(one.code, 0) << one.output;
  auto two = test_util::run_cli(launch(2, base + " --config " + d.file("two.yaml") + " --out " + d.file("two")));
  ASSERT_EQ(two.code, 0) << two.output;
  auto r1 = result_of(d.file("one")), r2 = result_of(d.file("two"));
  EXPECT_NEAR(r1["valid_auc"].get<double>(), r2["valid_auc"].get<double>(), kAucTol);
  EXPECT_NEAR(r1["branch_test_auc"]["plm"].get<double>(), r2["branch_test_auc"]["plm"].get<double>(), kAucTol);
  expect_same_run(d.file("one"), d.file("two"), "ClickPrompt with the PLM");
  expect_one_writer(d.file("two"));
}

TEST(DistributedCli, PaMlmAndPretrainingRunOnTwoProcesses) {
  TempDir d("cp-dist-mlm");
  ASSERT_EQ(test_util::run_cli("data synth --out " + d.path() + " --samples 2000 --users 60 --items 100").code, 0);
  const std::string pretrain = "pretrain-plm --data " + d.file("dataset.yaml") + " --cache-dir " + d.file("cache") +
                               " --vocab-size 300 --hidden 32 --ffn 64 --epochs 2 --no-progress";
  auto pre = test_util::run_cli(launch(2, pretrain + " --batch-size 64 --out " + d.file("plm")));
  ASSERT_EQ(pre.code, 0) << pre.output;
  auto one = test_util::run_cli("--threads 1 " + pretrain + " --batch-size 128 --out " + d.file("plm-one"));
  ASSERT_EQ(one.code, 0) << one.output;
  // The masks differ (drawn per rank), the objective and the steps do not.
  auto p = result_of(d.file("plm")), p1 = result_of(d.file("plm-one"));
  EXPECT_LT(p["valid_mlm_loss"].get<double>(), p["initial_valid_mlm_loss"].get<double>() - 0.2) << p.dump(2);
  EXPECT_NEAR(p["valid_mlm_loss"].get<double>(), p1["valid_mlm_loss"].get<double>(), 0.05);
  EXPECT_EQ(p["distributed"]["world_size"], 2);
  d.write("cp.yaml",
          "model: {model: dnn, embedding_dim: 8, dnn_hidden_units: "
          "[32]}\nclickprompt: {num_prompts: 2}\n"
          "pretrain: {batch_size: 32, epochs: 1}\nplm: " +
              d.file("plm") + "\nseed: 3\n");
  auto pa = test_util::run_cli(launch(2, "train --mode pa-mlm --config " + d.file("cp.yaml") + " --data " +
                                             d.file("dataset.yaml") + " --cache-dir " + d.file("cache") +
                                             " --no-progress --out " + d.file("pamlm")));
  ASSERT_EQ(pa.code, 0) << pa.output;
  auto r = result_of(d.file("pamlm"));
  EXPECT_LT(r["valid_mlm_loss"].get<double>(), r["initial_valid_mlm_loss"].get<double>()) << r.dump(2);
  expect_one_writer(d.file("pamlm"));
}

// A grid under the launcher: the in-project PLM's pretraining, PA-MLM, both
// fine-tunings and the report, every step on both ranks, rank 0 writing.
TEST(DistributedCli, ExperimentGridRunsEveryStepOnTwoProcesses) {
  TempDir d("cp-dist-exp");
  ASSERT_EQ(test_util::run_cli("data synth --out " + d.path() + " --samples 1500 --users 50 --items 80").code, 0);
  d.write("grid.yaml", "name: tiny\nseeds: [1]\nbackbones: [dnn]\ndataset: " + d.file("dataset.yaml") +
                           "\nmodels: {dnn: {embedding_dim: 8, dnn_hidden_units: [16]}}\n"
                           "plms:\n  - name: small\n    pretrain: {vocab_size: 300, hidden_size: 32, layers: 1, heads: 2, "
                           "intermediate_size: 64, epochs: 1, batch_size: 32}\n"
                           "clickprompt: {num_prompts: 2}\npretrain: {epochs: 1, batch_size: 32, valid_rows: 100}\n"
                           "train: {batch_size: 128, epochs: 1, patience: 1}\n"
                           "variants: [backbone, with_plm, without_plm]\n");
  const std::string args = "experiment --config " + d.file("grid.yaml") + " --out " + d.file("exp") + " --cache-dir " +
                           d.file("cache") + " --no-progress";
  auto r = test_util::run_cli(launch(2, args));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(core::file_exists(d.file("exp/report/report.md"))) << r.output;
  auto csv = core::read_file(d.file("exp/report/results.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 3) << csv;
  // Resumable under the launcher too: rank 0's folder says every step is finished (PA-MLM counts per variant).
  auto again = test_util::run_cli(launch(2, args));
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("0 runs trained, 6 already finished"), std::string::npos) << again.output;
}

// Children of `pid` (the launcher's workers), from /proc.
std::vector<pid_t> children_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> out;
  pid_t c;
  while (in >> c) out.push_back(c);
  return out;
}

// The rank a worker process has (its RANK variable).
int rank_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& kv : core::split(env, std::string(1, '\0')))
    if (kv.rfind("RANK=", 0) == 0) return std::stoi(std::string(kv.substr(5)));
  return -1;
}

struct Job {
  pid_t pid = -1;
  std::string log;
};
// Starts the CLI with `args` in the background (output to `log`).
Job start(const std::string& args, const std::string& log) {
  Job j{fork(), log};
  if (j.pid == 0) {
    std::string cmd = std::string("exec ") + CP_CLI_PATH + " " + args + " >" + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    _exit(127);
  }
  return j;
}
// Waits up to `limit_s`; returns the exit code (-1: still running, then
// killed).
int wait_for(const Job& j, double limit_s, double* seconds = nullptr) {
  auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < limit_s) {
    if (waitpid(j.pid, &status, WNOHANG) == j.pid) {
      if (seconds) *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(j.pid, SIGKILL);
  waitpid(j.pid, &status, 0);
  return -1;
}

// Waits for the workers of a launcher and for the first epoch's checkpoint.
std::vector<pid_t> workers_once_training(const Job& j, const std::string& run, int n) {
  for (int i = 0; i < 1200; ++i) {
    auto kids = children_of(j.pid);
    if (static_cast<int>(kids.size()) == n && core::file_exists(run + "/last.ckpt")) return kids;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "no checkpoint after 60 s: " << core::read_file(j.log);
  return {};
}

bool no_process_left(const std::vector<pid_t>& pids) {
  for (pid_t p : pids)
    if (kill(p, 0) == 0) return false;
  return true;
}

std::string long_ctr_run(const TempDir& d) {
  EXPECT_EQ(test_util::run_cli("data synth --out " + d.path() + " --samples 20000 --users 200 --items 300").code, 0);
  return "train --data " + d.file("dataset.yaml") + " --model dnn --no-progress --cache-dir " + d.file("cache") +
         " --set train.epochs=6 --set train.patience=6 --set "
         "train.batch_size=64 --set model.embedding_dim=8 --out " +
         d.file("run");
}

TEST(DistributedCli, AKilledWorkerFailsTheJobNamingItsRankAndTheRunResumes) {
  TempDir d("cp-dist-kill");
  const std::string args = long_ctr_run(d);
  Job j = start(launch(2, args, "--timeout 30 --grace 5"), d.file("log"));
  auto kids = workers_once_training(j, d.file("run"), 2);
  ASSERT_EQ(kids.size(), 2u);
  pid_t victim = rank_of(kids[0]) == 1 ? kids[0] : kids[1];
  ASSERT_EQ(rank_of(victim), 1);
  kill(victim, SIGKILL);
  double secs = 0;
  int code = wait_for(j, 60, &secs);
  std::string log = core::read_file(d.file("log"));
  std::printf("killed rank 1: the job ended %.2f s later\n", secs);
  EXPECT_NE(code, 0) << log;
  EXPECT_NE(code, -1) << "the launcher did not end: " << log;
  EXPECT_LT(secs, 30) << log;
  EXPECT_NE(log.find("launch: rank 1 (local rank 1, pid " + std::to_string(victim) + ") was killed by signal 9"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("job failed: rank 1"), std::string::npos) << log;
  EXPECT_TRUE(no_process_left(kids)) << "a worker outlived the launcher";
  // The last finished epoch's checkpoint is intact: --resume finishes the job.
  auto resumed = test_util::run_cli(launch(2, args + " --resume"));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from"), std::string::npos) << resumed.output;
  EXPECT_EQ(result_of(d.file("run"))["epochs_run"].get<int>(), 6);
  expect_one_writer(d.file("run"));
}

TEST(DistributedCli, AHungWorkerFailsTheJobWithinTheTimeout) {
  TempDir d("cp-dist-hang");
  const std::string args = long_ctr_run(d);
  Job j = start(launch(2, args, "--timeout 4 --grace 2"), d.file("log"));
  auto kids = workers_once_training(j, d.file("run"), 2);
  ASSERT_EQ(kids.size(), 2u);
  pid_t hung = rank_of(kids[0]) == 1 ? kids[0] : kids[1];
  kill(hung, SIGSTOP);
  double secs = 0;
  int code = wait_for(j, 60, &secs);
  std::string log = core::read_file(d.file("log"));
  std::printf("stopped rank 1: the job ended %.2f s later\n", secs);
  EXPECT_EQ(code, kExitPeer) << log;
  EXPECT_LT(secs, 4 + 2 + 10) << log;
  EXPECT_NE(log.find("rank 0 of 2"), std::string::npos) << log;
  EXPECT_NE(log.find("no answer within 4 s"), std::string::npos) << log;
  EXPECT_NE(log.find("job failed: rank 0 exited with code 8"), std::string::npos) << log;
  EXPECT_TRUE(no_process_left(kids)) << "the stopped worker was not reaped";
}

TEST(DistributedCli, LauncherForwardsSigintAndLeavesNoWorkers) {
  TempDir d("cp-dist-int");
  const std::string args = long_ctr_run(d);
  Job j = start(launch(2, args), d.file("log"));
  auto kids = workers_once_training(j, d.file("run"), 2);
  kill(j.pid, SIGINT);
  int code = wait_for(j, 30);
  EXPECT_EQ(code, kExitInterrupted) << core::read_file(d.file("log"));
  EXPECT_TRUE(no_process_left(kids));
}

// Two hosts: two network namespaces joined by a veth pair, one launcher each
// with --nnodes 2. Needs root and `ip netns` (skips otherwise).
TEST(DistributedCli, TwoHostsAsTwoNetworkNamespaces) {
  const std::string tag = "cp" + std::to_string(getpid() % 100000);
  const std::string a = tag + "a", b = tag + "b";
  auto sh = [](const std::string& c) { return std::system((c + " >/dev/null 2>&1").c_str()) == 0; };
  if (geteuid() != 0 || !sh("ip netns add " + a)) GTEST_SKIP() << "ip netns unavailable here (needs root and iproute2)";
  struct Cleanup {
    std::string a, b;
    ~Cleanup() {
      std::system(("ip netns del " + a + " >/dev/null 2>&1; ip netns del " + b + " >/dev/null 2>&1").c_str());
    }
  } cleanup{a, b};
  ASSERT_TRUE(sh("ip netns add " + b));
  ASSERT_TRUE(sh("ip link add " + a + "v type veth peer name " + b + "v"));
  ASSERT_TRUE(sh("ip link set " + a + "v netns " + a + " && ip link set " + b + "v netns " + b));
  ASSERT_TRUE(sh("ip -n " + a + " addr add 10.213.0.1/24 dev " + a + "v && ip -n " + b +
                 " addr add 10.213.0.2/24 dev " + b + "v"));
  ASSERT_TRUE(sh("ip -n " + a + " link set " + a + "v up && ip -n " + b + " link set " + b + "v up && ip -n " + a +
                 " link set lo up && ip -n " + b + " link set lo up"));
  TempDir d("cp-dist-hosts");
  ASSERT_EQ(test_util::run_cli("data synth --out " + d.path() + " --samples 4000 --users 80 --items 120").code, 0);
  const std::string train = "train --data " + d.file("dataset.yaml") + " --model dnn --no-progress --cache-dir " +
                            d.file("cache") +
                            " --set train.epochs=2 --set model.embedding_dim=8 "
                            "--set model.net_dropout=0";
  auto one = test_util::run_cli("--threads 1 " + train + " --set train.batch_size=256 --out " + d.file("one"));
  ASSERT_EQ(one.code, 0) << one.output;
  const std::string args = "-- --threads 1 " + train + " --set train.batch_size=128 --out " + d.file("run");
  // Each node's launcher inside its namespace.
  auto in_ns = [&](const std::string& ns, int rank) {
    Job j{fork(), d.file("node" + std::to_string(rank) + ".log")};
    if (j.pid == 0) {
      std::string cmd = "exec ip netns exec " + ns + " " + CP_CLI_PATH +
                        " launch --nproc-per-node 1 --nnodes 2 --node-rank " + std::to_string(rank) +
                        " --master-addr 10.213.0.1 --master-port 29533 --timeout 60 " + args + " >" + j.log + " 2>&1";
      execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      _exit(127);
    }
    return j;
  };
  Job n0 = in_ns(a, 0), n1 = in_ns(b, 1);
  int c0 = wait_for(n0, 300), c1 = wait_for(n1, 300);
  EXPECT_EQ(c0, 0) << core::read_file(n0.log);
  EXPECT_EQ(c1, 0) << core::read_file(n1.log);
  // Two hosts make the steps of one process with the global batch, too.
  auto r = result_of(d.file("run"));
  EXPECT_EQ(r["distributed"]["world_size"], 2);
  expect_same_run(d.file("one"), d.file("run"), "two hosts");
}

}  // namespace
}  // namespace clickprompt
