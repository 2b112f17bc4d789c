#include "train/distributed.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef CLICKPROMPT_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <cstring>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"

namespace clickprompt::train::dist {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int env_int(const char* name, int fallback, int lo, int hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < lo || n > hi)
    throw Error(std::string("environment: ") + name + "='" + v + "' must be an integer in [" + std::to_string(lo) +
                ", " + std::to_string(hi) + "]");
  return static_cast<int>(n);
}

// The address of this host on the route to `master`: what the Gloo transport
// binds to and announces to its peers (a UDP connect sends nothing).
std::string local_address_towards(const std::string& master, int port) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(master.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || !res)
    throw Error("MASTER_ADDR '" + master + "' does not resolve to an IPv4 address");
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  std::string out;
  if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
    sockaddr_in local{};
    socklen_t len = sizeof(local);
    char buf[INET_ADDRSTRLEN];
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
        inet_ntop(AF_INET, &local.sin_addr, buf, sizeof(buf)))
      out = buf;
  }
  if (fd >= 0) close(fd);
  freeaddrinfo(res);
  if (out.empty()) throw Error("no route from this host to MASTER_ADDR '" + master + "'");
  return out;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

Env Env::from_environment() {
  Env e;
  e.present = std::getenv("WORLD_SIZE") && *std::getenv("WORLD_SIZE");
  if (!e.present) return e;
  e.world_size = env_int("WORLD_SIZE", 1, 1, 1 << 20);
  e.rank = env_int("RANK", 0, 0, e.world_size - 1);
  e.local_world_size = env_int("LOCAL_WORLD_SIZE", 1, 1, e.world_size);
  e.local_rank = env_int("LOCAL_RANK", 0, 0, e.world_size - 1);
  e.master_port = env_int("MASTER_PORT", 29500, 1, 65535);
  if (const char* a = std::getenv("MASTER_ADDR"); a && *a) e.master_addr = a;
  if (e.world_size > 1 && !std::getenv("RANK"))
    throw Error("environment: WORLD_SIZE=" + std::to_string(e.world_size) + " but RANK is not set");
  return e;
}

struct Group::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
};

namespace {
// Runs a collective; a failure becomes a PeerFailure that names this rank, the
// step and the likely cause.
template <class F>
void guarded(const Group& g, const char* what, F&& f) {
  auto t0 = Clock::now();
  try {
    f();
    return;
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    std::string why = msg.find("imed out") != std::string::npos || msg.find("imeout") != std::string::npos
                          ? "no answer within " + std::to_string(g.timeout().count() / 1000) +
                                " s: a peer hangs or is far behind (CLICKPROMPT_DIST_TIMEOUT "
                                "/ launch --timeout sets the limit)"
                      : msg.find("losed") != std::string::npos || msg.find("reset") != std::string::npos ||
                              msg.find("roken pipe") != std::string::npos
                          ? "a peer closed its connection (another worker died; its own "
                            "error names it)"
                          : "the collective failed";
    throw PeerFailure("rank " + std::to_string(g.rank()) + " of " + std::to_string(g.size()) + ": " + what +
                      " failed after " + core::format_number(since(t0)) + " s: " + why + " [" + first_line(msg) + "]");
  }
}
}  // namespace

Group::Group(const Env& env, const std::string& backend, const std::string& device, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), rank_(env.rank), size_(env.world_size), timeout_(timeout) {
  torch::Device dev(device);
  backend_ = backend == "auto" ? (dev.is_cuda() ? "nccl" : "gloo") : backend;
#ifndef CLICKPROMPT_NCCL
  if (backend_ == "nccl") {
    if (backend == "nccl")
      throw Error(
          "backend nccl: this build has no NCCL (build against a CUDA "
          "LibTorch with -DCLICKPROMPT_NCCL=ON)");
    backend_ = "gloo";
  }
#endif
  if (backend_ != "gloo" && backend_ != "nccl")
    throw Error("distributed backend '" + backend + "' (" + core::suggest(backend, {"auto", "gloo", "nccl"}) + ")");
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  auto t0 = Clock::now();
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = env.world_size;
    so.waitWorkers = true;
    so.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    if (backend_ == "gloo") {
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      opts->devices.push_back(ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                                : c10d::ProcessGroupGloo::createDeviceForHostname(
                                                      local_address_towards(env.master_addr, env.master_port)));
      impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, rank_, size_, opts);
    } else {
#ifdef CLICKPROMPT_NCCL
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      impl_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, rank_, size_, opts);
      comm_device_ = dev;
#endif
    }
  } catch (const c10::Error& e) {
    throw PeerFailure("rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": rendezvous at " + where +
                      " failed after " + core::format_number(since(t0)) + " s (" +
                      first_line(e.what_without_backtrace()) + "); are all " + std::to_string(size_) +
                      " workers started, MASTER_ADDR/MASTER_PORT the same for "
                      "all and the port free?");
  }
  spdlog::debug("rank {}/{}: {} group up via {} in {:.2f}s", rank_, size_, backend_, where, since(t0));
}

Group::~Group() = default;

// One collective per tensor, all issued, then all awaited.
void Group::each(std::vector<torch::Tensor>& tensors, const char* what,
                 const std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&)>& issue) {
  guarded(*this, what, [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> work;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      work.push_back(issue(one));
    }
    for (auto& w : work) w->wait(timeout_);
  });
}

void Group::all_reduce_sum(std::vector<torch::Tensor>& tensors, const char* what) {
  each(tensors, what, [&](std::vector<at::Tensor>& one) { return impl_->pg->allreduce(one); });
}

std::vector<torch::Tensor> Group::all_gather(const torch::Tensor& t, const char* what,
                                             const std::vector<int64_t>& lengths) {
  auto input = t.contiguous();
  int64_t longest = input.dim() > 0 ? input.size(0) : 0;
  if (!lengths.empty()) longest = *std::max_element(lengths.begin(), lengths.end());
  if (input.dim() > 0 && input.size(0) < longest) {
    auto shape = input.sizes().vec();
    shape[0] = longest - input.size(0);
    input = torch::cat({input, torch::zeros(shape, input.options())});
  }
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < size_; ++r) out[0].push_back(torch::empty_like(input));
  std::vector<at::Tensor> in{input};
  guarded(*this, what, [&] { impl_->pg->allgather(out, in)->wait(timeout_); });
  if (!lengths.empty())
    for (int r = 0; r < size_; ++r) out[0][r] = out[0][r].slice(0, 0, lengths[r]);
  return out[0];
}

void Group::broadcast(std::vector<torch::Tensor>& tensors, const char* what, int root) {
  c10d::BroadcastOptions o;
  o.rootRank = root;
  each(tensors, what, [&](std::vector<at::Tensor>& one) { return impl_->pg->broadcast(one, o); });
}

std::string Group::broadcast(const std::string& bytes, const char* what, int root) {
  std::vector<torch::Tensor> len{torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kInt64).to(comm_device_)};
  broadcast(len, what, root);
  const int64_t n = len[0].item<int64_t>();
  if (n == 0) return {};
  std::vector<torch::Tensor> data{torch::empty({n}, torch::kUInt8)};
  if (rank_ == root) std::memcpy(data[0].data_ptr<uint8_t>(), bytes.data(), static_cast<size_t>(n));
  data[0] = data[0].to(comm_device_);
  broadcast(data, what, root);
  auto cpu = data[0].cpu();
  return std::string(reinterpret_cast<const char*>(cpu.data_ptr<uint8_t>()), static_cast<size_t>(n));
}

void Group::barrier(const char* what) {
  guarded(*this, what, [&] { impl_->pg->barrier()->wait(timeout_); });
}

namespace {
std::unique_ptr<Group>& the_group() {
  static std::unique_ptr<Group> g;
  return g;
}
}  // namespace

Group* group() { return the_group().get(); }

void init(const Env& env, const std::string& backend, const std::string& device, std::chrono::milliseconds timeout) {
  if (env.world_size <= 1) return;
  the_group() = std::make_unique<Group>(env, backend, device, timeout);
}

void shutdown() {
  auto& g = the_group();
  if (!g) return;
  g->barrier("the final barrier");
  g.reset();
}

bool primary() { return !group() || group()->primary(); }
int rank() { return group() ? group()->rank() : 0; }
int world_size() { return group() ? group()->size() : 1; }

std::chrono::milliseconds timeout_from_environment() {
  return std::chrono::milliseconds(int64_t{1000} * env_int("CLICKPROMPT_DIST_TIMEOUT", 1800, 1, 7 * 24 * 3600));
}

std::pair<int64_t, int64_t> batch_shard(int64_t batch_begin, int64_t batch_end, int64_t local_batch, int rank) {
  int64_t b = std::min(batch_end, batch_begin + rank * local_batch);
  return {b, std::min(batch_end, b + local_batch)};
}

std::pair<int64_t, int64_t> even_shard(int64_t n, int rank, int world) {
  return {n * rank / world, n * (rank + 1) / world};
}

void all_reduce_gradients(Group& g, const std::vector<torch::Tensor>& params, double share, int64_t bucket_bytes) {
  torch::NoGradGuard ng;
  auto t0 = Clock::now();
  const int64_t P = static_cast<int64_t>(params.size());
  const torch::Device cd = g.comm_device();
  // Layout first: per parameter -2 no gradient, -1 dense, n >= 0 sparse rows.
  auto meta = torch::empty({P}, torch::kInt64);
  auto* mp = meta.data_ptr<int64_t>();
  std::vector<torch::Tensor> sparse_local(params.size());
  for (int64_t i = 0; i < P; ++i) {
    const auto& gr = params[i].grad();
    if (!gr.defined()) {
      mp[i] = -2;
    } else if (gr.is_sparse()) {
      if (gr.sparse_dim() != 1) throw Error("distributed: sparse gradients must be row-sparse (sparse_dim 1)");
      sparse_local[i] = gr.coalesce();
      mp[i] = sparse_local[i]._nnz();
    } else {
      mp[i] = -1;
    }
  }
  auto metas = g.all_gather(meta.to(cd), "the gradient layout exchange");
  std::vector<std::vector<int64_t>> layout(g.size());
  for (int r = 0; r < g.size(); ++r) {
    auto m = metas[r].cpu();
    layout[r].assign(m.data_ptr<int64_t>(), m.data_ptr<int64_t>() + P);
  }
  std::vector<int64_t> dense, sparse;
  for (int64_t i = 0; i < P; ++i) {
    bool any_dense = false, any_sparse = false;
    for (int r = 0; r < g.size(); ++r) {
      any_dense |= layout[r][i] == -1;
      any_sparse |= layout[r][i] >= 0;
    }
    if (any_dense && any_sparse)
      throw Error("distributed: parameter " + std::to_string(i) +
                  " has a dense gradient on one rank and a sparse one on another");
    if (any_dense) dense.push_back(i);
    if (any_sparse) sparse.push_back(i);
  }

  // Dense: flat buckets of one dtype, all issued, then awaited.
  std::vector<torch::Tensor> buckets;
  std::vector<std::vector<int64_t>> members;
  int64_t bucket_fill = 0;
  for (int64_t i : dense) {
    const auto& p = params[i];
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    if (members.empty() || bucket_fill + bytes > bucket_bytes ||
        params[members.back().front()].scalar_type() != p.scalar_type()) {
      members.emplace_back();
      bucket_fill = 0;
    }
    members.back().push_back(i);
    bucket_fill += bytes;
  }
  for (const auto& mem : members) {
    int64_t n = 0;
    for (int64_t i : mem) n += params[i].numel();
    auto flat = torch::empty({n}, params[mem.front()].options().device(cd));
    int64_t off = 0;
    for (int64_t i : mem) {
      auto dst = flat.slice(0, off, off + params[i].numel());
      const auto& gr = params[i].grad();
      if (gr.defined())
        dst.copy_(share == 1.0 ? gr.reshape({-1}) : gr.reshape({-1}) * share);
      else
        dst.zero_();
      off += params[i].numel();
    }
    g.stats().dense_bytes += static_cast<double>(flat.numel() * flat.element_size());
    buckets.push_back(flat);
  }
  if (!buckets.empty()) g.all_reduce_sum(buckets, "the dense gradient all-reduce");
  for (size_t b = 0; b < members.size(); ++b) {
    int64_t off = 0;
    for (int64_t i : members[b]) {
      auto& p = const_cast<torch::Tensor&>(params[i]);
      p.mutable_grad() = buckets[b].slice(0, off, off + p.numel()).view(p.sizes()).to(p.device());
      off += p.numel();
    }
  }

  // Sparse: every rank's touched rows (indices and values) in two all-gathers.
  if (!sparse.empty()) {
    const auto vdtype = params[sparse.front()].scalar_type();
    std::vector<int64_t> row_width;  // elements per table row
    for (int64_t i : sparse) {
      if (params[i].scalar_type() != vdtype) throw Error("distributed: sparse tables of different dtypes");
      row_width.push_back(params[i].numel() / std::max<int64_t>(1, params[i].size(0)));
    }
    std::vector<int64_t> idx_len(g.size(), 0), val_len(g.size(), 0);
    for (int r = 0; r < g.size(); ++r)
      for (size_t s = 0; s < sparse.size(); ++s) {
        const int64_t rows = std::max<int64_t>(0, layout[r][sparse[s]]);
        idx_len[r] += rows;
        val_len[r] += rows * row_width[s];
      }
    std::vector<torch::Tensor> idx_parts, val_parts;
    for (int64_t i : sparse) {
      const auto& gr = sparse_local[i];
      if (!gr.defined() || gr._nnz() == 0) continue;
      idx_parts.push_back(gr._indices()[0]);
      auto v = gr._values().reshape({-1});
      val_parts.push_back(share == 1.0 ? v : v * share);
    }
    auto cat_or_empty = [&](std::vector<torch::Tensor>& parts, torch::ScalarType dt) {
      return parts.empty() ? torch::empty({0}, torch::TensorOptions().dtype(dt).device(cd)) : torch::cat(parts).to(cd);
    };
    auto idx = cat_or_empty(idx_parts, torch::kInt64), val = cat_or_empty(val_parts, vdtype);
    const int64_t max_idx = *std::max_element(idx_len.begin(), idx_len.end());
    const int64_t max_val = *std::max_element(val_len.begin(), val_len.end());
    g.stats().sparse_bytes +=
        static_cast<double>(max_idx * 8 + max_val * static_cast<int64_t>(c10::elementSize(vdtype)));
    std::vector<torch::Tensor> all_idx, all_val;
    if (max_idx > 0) {
      all_idx = g.all_gather(idx, "the sparse gradient rows all-gather", idx_len);
      all_val = g.all_gather(val, "the sparse gradient values all-gather", val_len);
    }
    // Rank r's buffers hold its tables in order: a running offset per rank walks them.
    std::vector<int64_t> io(g.size(), 0), vo(g.size(), 0);
    for (size_t s = 0; s < sparse.size(); ++s) {
      auto& p = const_cast<torch::Tensor&>(params[sparse[s]]);
      std::vector<torch::Tensor> ri, rv;
      for (int r = 0; r < g.size(); ++r) {
        const int64_t rows = std::max<int64_t>(0, layout[r][sparse[s]]);
        if (rows > 0) {
          ri.push_back(all_idx[r].slice(0, io[r], io[r] + rows));
          rv.push_back(all_val[r].slice(0, vo[r], vo[r] + rows * row_width[s]));
        }
        io[r] += rows;
        vo[r] += rows * row_width[s];
      }
      auto indices = ri.empty() ? torch::empty({1, 0}, torch::kInt64) : torch::cat(ri).to(p.device()).unsqueeze(0);
      auto values = rv.empty() ? torch::empty({0}, p.options()) : torch::cat(rv).to(p.device());
      auto vshape = p.sizes().vec();
      vshape[0] = indices.size(1);
      p.mutable_grad() = torch::sparse_coo_tensor(indices, values.view(vshape), p.sizes()).coalesce();
    }
  }
  g.stats().exchanges += 1;
  g.stats().seconds += since(t0);
}

CommSummary summarize(const Group& g, const Stats& before, int64_t global_batch) {
  const Stats& now = g.stats();
  const double n = static_cast<double>(std::max<int64_t>(1, now.exchanges - before.exchanges));
  return {g.size(),
          g.backend(),
          global_batch,
          now.exchanges - before.exchanges,
          (now.dense_bytes - before.dense_bytes) / n,
          (now.sparse_bytes - before.sparse_bytes) / n,
          now.seconds - before.seconds};
}

std::vector<float> gather_floats(Group& g, const std::vector<float>& local, const char* what) {
  auto n = g.all_gather(torch::tensor({static_cast<int64_t>(local.size())}, torch::kInt64).to(g.comm_device()), what);
  std::vector<int64_t> lengths;
  for (const auto& t : n) lengths.push_back(t.item<int64_t>());
  auto mine = torch::from_blob(const_cast<float*>(local.data()), {static_cast<int64_t>(local.size())}, torch::kFloat32)
                  .to(g.comm_device());
  std::vector<float> out;
  for (const auto& part : g.all_gather(mine, what, lengths)) {
    auto c = part.cpu().contiguous();
    out.insert(out.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  }
  return out;
}

void broadcast_module(Group& g, torch::nn::Module& m) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> ts, orig;
  for (auto& p : m.parameters()) orig.push_back(p);
  for (auto& b : m.buffers()) orig.push_back(b);
  for (auto& t : orig) ts.push_back(t.detach().to(g.comm_device()).contiguous());
  g.broadcast(ts, "the parameter broadcast from rank 0");
  for (size_t i = 0; i < orig.size(); ++i) orig[i].copy_(ts[i]);
}

std::string read_on_primary(const std::string& path, const std::string& hint) {
  Group* g = group();
  std::string bytes;
  if (!g || g->primary()) bytes = core::file_exists(path) ? core::read_sealed(path, hint) : "";
  if (g) bytes = g->broadcast(bytes, ("the broadcast of " + path).c_str());
  return bytes;
}

}  // namespace clickprompt::train::dist
