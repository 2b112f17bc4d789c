// bfloat16 autocast against the float32 path on the fixture model, plus the
// guard's state handling.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include "core/error.h"
#include "plm/checkpoint.h"
#include "core/precision.h"
#include "parity_util.h"

using namespace clickprompt;
using namespace clickprompt::plm;
using clickprompt::core::AutocastGuard;
using clickprompt::core::Precision;
using clickprompt::core::parse_precision;

TEST(Precision, GuardRestoresState) {
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
  {
    AutocastGuard g(Precision::BFloat16, torch::kCPU);
    EXPECT_TRUE(at::autocast::is_cpu_enabled());
    auto y = torch::matmul(torch::randn({4, 4}), torch::randn({4, 4}));
    EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  }
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
  { AutocastGuard g(Precision::Float32, torch::kCPU); EXPECT_FALSE(at::autocast::is_cpu_enabled()); }
  EXPECT_THROW(AutocastGuard(Precision::Float16, torch::kCPU), Error);
  EXPECT_EQ(parse_precision("bf16"), Precision::BFloat16);
  EXPECT_THROW(parse_precision("int8"), Error);
}

TEST(Precision, Bf16AutocastCloseToFloat32) {
  CP_REQUIRE_FIXTURE("roberta_tiny/model.safetensors");
  for (const std::string name : {"roberta", "bert"}) {
    auto model = load_pretrained(fixtures::fixture_dir() + "/" + name + "_tiny");
    auto exp = fixtures::load_expected(name);
    const auto& cfg = model->config();
    torch::NoGradGuard ng;
    EncoderInput in;
    in.input_ids = exp.t.at("input_ids");
    in.attention_mask = exp.t.at("attention_mask");
    auto prefix = PrefixKV::from_prompts(exp.t.at("prefix.prompts"), cfg.num_hidden_layers, cfg.num_attention_heads);
    in.prefix = &prefix;
    auto ref = model->encode(in);
    auto ref_logits = model->mlm_logits_at(ref.last_hidden_state, exp.t.at("logit_positions"));
    torch::Tensor hidden, logits, pooled;
    {
      AutocastGuard g(Precision::BFloat16, torch::kCPU);
      auto out = model->encode(in);
      hidden = out.last_hidden_state.to(torch::kFloat);
      logits = model->mlm_logits_at(out.last_hidden_state, exp.t.at("logit_positions")).to(torch::kFloat);
      pooled = pool(out, in.attention_mask, Pooling::Mean).to(torch::kFloat);
    }
    auto mask = in.attention_mask;
    auto h = fixtures::compare(hidden, ref.last_hidden_state, 0.1, 0.05, mask);
    auto l = fixtures::compare(logits, ref_logits, 0.3, 0.05);
    auto p = fixtures::compare(pooled, pool(ref, mask, Pooling::Mean), 0.05, 0.05);
    // Relative RMS error: bf16 keeps 8 mantissa bits (~0.4% per rounding).
    auto rel = [](const torch::Tensor& a, const torch::Tensor& b) {
      return ((a - b).pow(2).mean().sqrt() / b.pow(2).mean().sqrt()).item<double>();
    };
    double rh = rel(hidden.index({mask.to(torch::kBool)}), ref.last_hidden_state.index({mask.to(torch::kBool)}));
    double rl = rel(logits, ref_logits);
    std::printf("[ bf16 ] %s: hidden max abs %.3g (rel rms %.3g), logits max abs %.3g (rel rms %.3g), pooled %.3g\n",
                name.c_str(), h.max_abs, rh, l.max_abs, rl, p.max_abs);
    EXPECT_TRUE(h.ok) << h.max_abs;
    EXPECT_TRUE(l.ok) << l.max_abs;
    EXPECT_TRUE(p.ok) << p.max_abs;
    EXPECT_LT(rh, 0.02);
    EXPECT_LT(rl, 0.02);
    EXPECT_GT(rh, 0.0);  // autocast really ran in bf16
  }
}
