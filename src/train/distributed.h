#pragma once
// Data-parallel training on PyTorch's own distributed engine (c10d): a TCPStore
// rendezvous at MASTER_ADDR:MASTER_PORT (rank 0 hosts it) and a Gloo process
// group on the CPU (NCCL where built against a CUDA LibTorch with
// -DCLICKPROMPT_NCCL=ON). The environment is torchrun's: RANK, WORLD_SIZE,
// LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, so the tool runs
// unchanged under torchrun-style launchers, SLURM and PyTorchJob.
//
// What the training loops do with it (docs/distributed.md):
//  - every rank draws the same seeded permutation per epoch and trains on its
//    slice of each global batch (world x local batch), in single-process order;
//  - dense gradients are summed by bucketed all-reduce, embedding tables'
//    sparse gradients by an all-gather of the touched rows only, each rank's
//    share weighted by its rows in the global batch (exact for a short tail);
//  - evaluation is sharded and the scores gathered (exact AUC);
//  - rank 0 alone writes files; checkpoints are read by rank 0 and broadcast.
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace c10d {
class Work;
}

namespace clickprompt::train::dist {

// torchrun's environment. `present` when WORLD_SIZE is set.
struct Env {
  int rank = 0, world_size = 1, local_rank = 0, local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  bool present = false;
  // Throws Error naming the variable when one is malformed or inconsistent.
  static Env from_environment();
};

// Communication of this process since the group started.
struct Stats {
  int64_t exchanges = 0;  // gradient exchanges (optimizer steps)
  double dense_bytes = 0,
         sparse_bytes = 0;  // payload this rank put into the gradient collectives
  double seconds = 0;       // wall time in gradient collectives (includes waiting for
                            // slower ranks)
};

// What a training loop reports of its communication (result.json's
// "distributed").
struct CommSummary {
  int world_size = 1;
  std::string backend;
  int64_t global_batch = 0;
  int64_t steps = 0;  // gradient exchanges
  double dense_bytes_per_step = 0, sparse_bytes_per_step = 0, seconds = 0;
};

class Group {
 public:
  // Rendezvous and group creation; `timeout` bounds the rendezvous and every
  // collective. backend: gloo | nccl | auto (nccl on a CUDA device where built
  // with it, else gloo).
  Group(const Env& env, const std::string& backend, const std::string& device, std::chrono::milliseconds timeout);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool primary() const { return rank_ == 0; }
  const std::string& backend() const { return backend_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Sums in place across ranks (the tensors are issued together, then awaited).
  void all_reduce_sum(std::vector<torch::Tensor>& tensors, const char* what);
  // Every rank's `t` in rank order; the first dimension may differ between
  // ranks when `lengths` (every rank's, from an earlier exchange) is given.
  std::vector<torch::Tensor> all_gather(const torch::Tensor& t, const char* what,
                                        const std::vector<int64_t>& lengths = {});
  void broadcast(std::vector<torch::Tensor>& tensors, const char* what, int root = 0);
  std::string broadcast(const std::string& bytes, const char* what, int root = 0);
  void barrier(const char* what);

  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }
  // The device collectives run on (CPU for Gloo).
  torch::Device comm_device() const { return comm_device_; }

 private:
  struct Impl;
  // Runs `issue` on each tensor (one-element lists, as c10d takes them), then waits for all.
  void each(std::vector<torch::Tensor>& tensors, const char* what,
            const std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&)>& issue);
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, size_ = 1;
  std::string backend_;
  std::chrono::milliseconds timeout_;
  torch::Device comm_device_{torch::kCPU};
  Stats stats_;
};

// The process's group, null in a single process. The command line creates it
// (init) for the training commands when WORLD_SIZE > 1.
Group* group();
void init(const Env& env, const std::string& backend, const std::string& device, std::chrono::milliseconds timeout);
// A last barrier (no rank tears down the store while another still needs it),
// then the group goes.
void shutdown();
// Rank 0, or no group: the process that writes files and logs progress.
bool primary();
int rank();
int world_size();
// The collective timeout from CLICKPROMPT_DIST_TIMEOUT (seconds; default 1800,
// PyTorch's).
std::chrono::milliseconds timeout_from_environment();

// The local part [begin, end) of the global batch [batch_begin, batch_end):
// the rank's slice of `local_batch` rows (empty for ranks past a short tail).
std::pair<int64_t, int64_t> batch_shard(int64_t batch_begin, int64_t batch_end, int64_t local_batch, int rank);
// Rank's contiguous share [begin, end) of n rows (evaluation).
std::pair<int64_t, int64_t> even_shard(int64_t n, int rank, int world);

// Sums every rank's gradients of `params` in place, each rank's scaled by its
// `share` of the global batch first: dense gradients by all-reduce in buckets
// of `bucket_bytes`, sparse ones (embedding tables) by an all-gather of the
// touched rows, coalesced (duplicates summed). A gradient defined on no rank
// stays undefined (the optimizer skips it, as in one process).
void all_reduce_gradients(Group& g, const std::vector<torch::Tensor>& params, double share,
                          int64_t bucket_bytes = int64_t{25} << 20);

// This rank's communication since `before` (a copy of the group's stats), for a
// loop of `global_batch` rows per step.
CommSummary summarize(const Group& g, const Stats& before, int64_t global_batch);

// Each rank's scores, concatenated in rank order (evaluation shards).
std::vector<float> gather_floats(Group& g, const std::vector<float>& local, const char* what);
// Rank 0's parameters and buffers copied into every rank's module.
void broadcast_module(Group& g, torch::nn::Module& m);
// The file's bytes as rank 0 reads them (read_sealed), on every rank; "" when
// rank 0 has no such file. Without a group: the local read.
std::string read_on_primary(const std::string& path, const std::string& hint);

}  // namespace clickprompt::train::dist
