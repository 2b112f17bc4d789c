#include "train/optimizer.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "core/error.h"
#include "train/adam_kernel.h"
#include "train/distributed.h"

namespace clickprompt::train {

namespace {

// The same update with tensor ops (any device, any dtype).
void adam_tensor_ops(torch::Tensor& p, torch::Tensor& m, torch::Tensor& v, const torch::Tensor& grad, const AdamCoef& c) {
  auto gr = c.scale != 1.0 ? grad * c.scale : grad;
  if (c.l2 != 0) gr = gr + c.l2 * p;
  if (c.decay != 1.0) p.mul_(c.decay);
  m.mul_(c.b1).add_(gr, 1 - c.b1);
  v.mul_(c.b2).addcmul_(gr, gr, 1 - c.b2);
  p.addcdiv_(m, (v.sqrt() / c.bc2_sqrt).add_(c.eps), -c.step_size);
}

bool fusable(const torch::Tensor& p, const torch::Tensor& g) {
  return p.device().is_cpu() && p.scalar_type() == torch::kFloat32 && g.scalar_type() == torch::kFloat32 &&
         p.is_contiguous() && g.is_contiguous();
}

}  // namespace

AdamOptimizer::AdamOptimizer(const std::vector<ParamGroup>& groups, AdamConfig cfg) : cfg_(cfg) {
  for (const auto& pg : groups) {
    Group g;
    g.lr = pg.lr;
    g.weight_decay = pg.weight_decay;
    for (const auto& p : pg.params) {
      if (!p.requires_grad()) continue;
      g.params.push_back(p);
      g.m.push_back(torch::zeros_like(p));
      g.v.push_back(torch::zeros_like(p));
    }
    groups_.push_back(std::move(g));
  }
}

void AdamOptimizer::zero_grad() {
  for (auto& g : groups_)
    for (auto& p : g.params)
      if (p.mutable_grad().defined()) p.mutable_grad() = torch::Tensor();
}

double AdamOptimizer::step(double max_norm, double share) {
  torch::NoGradGuard ng;
  ++step_;
  // Sum duplicate rows of sparse gradients first (clipping needs the true norm).
  for (auto& g : groups_)
    for (auto& p : g.params)
      if (p.grad().defined() && p.grad().is_sparse()) p.mutable_grad() = p.grad().coalesce();
  if (dist::Group* dg = dist::group()) {
    std::vector<torch::Tensor> all;
    for (auto& g : groups_) all.insert(all.end(), g.params.begin(), g.params.end());
    dist::all_reduce_gradients(*dg, all, share);
  }
  double scale = 1.0, norm = 0.0;
  if (max_norm > 0) {
    std::vector<torch::Tensor> sq;
    for (auto& g : groups_)
      for (auto& p : g.params) {
        const auto& gr = p.grad();
        if (!gr.defined()) continue;
        sq.push_back((gr.is_sparse() ? gr._values() : gr).pow(2).sum());
      }
    if (!sq.empty()) {
      norm = std::sqrt(torch::stack(sq).sum().item<double>());
      if (norm > max_norm) scale = max_norm / (norm + 1e-6);
    }
  }
  for (auto& g : groups_)
    for (size_t i = 0; i < g.params.size(); ++i) {
      auto& p = g.params[i];
      const auto& gr = p.grad();
      if (!gr.defined()) continue;
      if (gr.is_sparse())
        update_sparse(g, p, g.m[i], g.v[i], gr, scale);
      else
        update_dense(g, p, g.m[i], g.v[i], gr, scale);
    }
  return norm;
}

namespace {
AdamCoef coefficients(const AdamConfig& cfg, double lr, double weight_decay, int64_t step, double scale) {
  AdamCoef c;
  c.b1 = cfg.beta1;
  c.b2 = cfg.beta2;
  c.eps = cfg.eps;
  c.step_size = lr / (1 - std::pow(cfg.beta1, static_cast<double>(step)));
  c.bc2_sqrt = std::sqrt(1 - std::pow(cfg.beta2, static_cast<double>(step)));
  c.scale = scale;
  c.l2 = cfg.decoupled_weight_decay ? 0.0 : weight_decay;
  c.decay = cfg.decoupled_weight_decay ? 1.0 - lr * weight_decay : 1.0;
  return c;
}
}  // namespace

void AdamOptimizer::update_dense(Group& g, torch::Tensor& p, torch::Tensor& m, torch::Tensor& v,
                                 const torch::Tensor& grad, double scale) {
  const AdamCoef c = coefficients(cfg_, g.lr, g.weight_decay, step_, scale);
  if (fusable(p, grad)) {
    float* pp = p.data_ptr<float>();
    const float* gp = grad.data_ptr<float>();
    float* mp = m.data_ptr<float>();
    float* vp = v.data_ptr<float>();
    at::parallel_for(0, p.numel(), 16384, [&](int64_t b, int64_t e) {
      adam_kernel(pp + b, gp + b, mp + b, vp + b, e - b, c);
    });
    return;
  }
  adam_tensor_ops(p, m, v, grad, c);
}

void AdamOptimizer::update_sparse(Group& g, torch::Tensor& p, torch::Tensor& m, torch::Tensor& v,
                                  const torch::Tensor& grad, double scale) {
  // grad is coalesced: indices [1, R] unique rows, values [R, D].
  const AdamCoef c = coefficients(cfg_, g.lr, g.weight_decay, step_, scale);
  auto rows = grad._indices()[0];
  auto values = grad._values().contiguous();
  if (values.numel() == 0) return;
  const int64_t D = p.numel() / p.size(0);
  if (fusable(p, values) && m.is_contiguous() && v.is_contiguous()) {
    auto r = rows.contiguous();
    const int64_t* rp = r.data_ptr<int64_t>();
    float* pp = p.data_ptr<float>();
    const float* gp = values.data_ptr<float>();
    float* mp = m.data_ptr<float>();
    float* vp = v.data_ptr<float>();
    at::parallel_for(0, r.numel(), 256, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        int64_t row = rp[k];
        adam_kernel(pp + row * D, gp + k * D, mp + row * D, vp + row * D, D, c);
      }
    });
    return;
  }
  // Other devices: gather the rows, update them with tensor ops, scatter back.
  auto p_rows = p.index_select(0, rows), m_rows = m.index_select(0, rows), v_rows = v.index_select(0, rows);
  adam_tensor_ops(p_rows, m_rows, v_rows, values, c);
  m.index_copy_(0, rows, m_rows);
  v.index_copy_(0, rows, v_rows);
  p.index_copy_(0, rows, p_rows);
}

void AdamOptimizer::save(torch::serialize::OutputArchive& a) const {
  a.write("step", torch::tensor(step_));
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t i = 0; i < groups_[gi].params.size(); ++i) {
      std::string k = std::to_string(gi) + "." + std::to_string(i);
      a.write("m." + k, groups_[gi].m[i], /*is_buffer=*/true);
      a.write("v." + k, groups_[gi].v[i], /*is_buffer=*/true);
    }
}

void AdamOptimizer::load(torch::serialize::InputArchive& a) {
  torch::Tensor s;
  a.read("step", s);
  step_ = s.item<int64_t>();
  for (size_t gi = 0; gi < groups_.size(); ++gi)
    for (size_t i = 0; i < groups_[gi].params.size(); ++i) {
      std::string k = std::to_string(gi) + "." + std::to_string(i);
      torch::Tensor m, v;
      a.read("m." + k, m, /*is_buffer=*/true);
      a.read("v." + k, v, /*is_buffer=*/true);
      if (!m.sizes().equals(groups_[gi].m[i].sizes()))
        throw Error("optimizer state does not match the model (parameter " + k + ")");
      groups_[gi].m[i].copy_(m);
      groups_[gi].v[i].copy_(v);
    }
}

}  // namespace clickprompt::train
