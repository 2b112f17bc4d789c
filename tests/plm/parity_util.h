#pragma once
// Helpers for the HF parity tests: fixture loading and tolerance checks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "plm/checkpoint.h"
#include "plm_fixtures.h"

namespace clickprompt::plm::fixtures {

struct Expected {
  nlohmann::json meta;
  StateDict t;
};

inline Expected load_expected(const std::string& model) {
  Expected e;
  std::ifstream in(fixture_dir() + "/expected_" + model + ".json");
  e.meta = nlohmann::json::parse(in);
  e.t = read_safetensors(fixture_dir() + "/expected_" + model + ".safetensors");
  return e;
}

// max |a - b| and whether |a - b| <= atol + rtol * |b| everywhere (rows where
// `row_mask` [B, L] is 1 when given, for [B, L, ...] tensors).
struct Diff {
  double max_abs = 0;
  bool ok = true;
};

inline Diff compare(const torch::Tensor& a_in, const torch::Tensor& b_in, double atol, double rtol,
                    const torch::Tensor& row_mask = {}) {
  auto a = a_in.detach().to(torch::kCPU).to(torch::kDouble);
  auto b = b_in.detach().to(torch::kCPU).to(torch::kDouble);
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return {1e30, false};
  auto d = (a - b).abs();
  auto excess = d - (atol + rtol * b.abs());
  if (row_mask.defined()) {
    auto m = row_mask.to(torch::kBool).to(torch::kCPU);
    d = d.index({m});
    excess = excess.index({m});
  }
  Diff r;
  r.max_abs = d.numel() ? d.max().item<double>() : 0.0;
  r.ok = excess.numel() == 0 || excess.max().item<double>() <= 0.0;
  return r;
}

}  // namespace clickprompt::plm::fixtures
