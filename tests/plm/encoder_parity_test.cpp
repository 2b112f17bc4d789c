// Numerical parity with HuggingFace RobertaForMaskedLM / BertForMaskedLM on the
// fixture checkpoints: hidden states, MLM logits, mean pooling, position ids,
// with and without ClickPrompt's layer-wise prefix, from .bin and .safetensors.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "plm/checkpoint.h"
#include "plm/encoder.h"
#include "plm/tokenizer/tokenizer.h"
#include "parity_util.h"

using namespace clickprompt;
using namespace clickprompt::plm;
using namespace clickprompt::plm::fixtures;

namespace {

constexpr double kHiddenAtol = 1e-4, kHiddenRtol = 1e-4;
constexpr double kLogitAtol = 5e-4, kLogitRtol = 1e-4;

// Worst errors of one run, printed (docs/plm.md quotes them).
std::map<std::string, double>& worst() {
  static std::map<std::string, double> w;
  return w;
}

void note(const std::string& key, double v) {
  auto& w = worst()[key];
  w = std::max(w, v);
}

void print_worst(const std::string& what) {
  for (const auto& [k, v] : worst()) std::printf("[ max abs err ] %s: %-24s %.3g\n", what.c_str(), k.c_str(), v);
  worst().clear();
}

void check_forward(const std::string& model_name, const std::string& weights_file) {
  const std::string dir = fixture_dir() + "/" + model_name + "_tiny";
  const std::string kind = model_name;
  auto exp = load_expected(model_name);
  HfConfig cfg = HfConfig::load(dir);
  MaskedLm model(cfg);
  auto rep = load_state_dict(*model, read_checkpoint_file(dir + "/" + weights_file), weights_file);
  EXPECT_TRUE(rep.missing.empty()) << rep.summary();
  EXPECT_TRUE(rep.unexpected.empty()) << rep.summary();
  model->eval();
  torch::NoGradGuard no_grad;

  const auto& T = exp.t;
  auto ids = T.at("input_ids");
  auto mask = T.at("attention_mask");
  auto positions = T.at("logit_positions");
  const int64_t N = cfg.num_hidden_layers;

  for (const std::string mode : {"plain", "prefix"}) {
    SCOPED_TRACE(model_name + " " + weights_file + " " + mode);
    EncoderInput in;
    in.input_ids = ids;
    in.attention_mask = mask;
    PrefixKV prefix;
    if (mode == "prefix") {
      prefix = PrefixKV::from_prompts(T.at("prefix.prompts"), N, cfg.num_attention_heads);
      ASSERT_EQ(prefix.length(), exp.meta["num_prefix"].get<int64_t>());
      for (int64_t l = 0; l < N; ++l) {
        EXPECT_TRUE(torch::equal(prefix.keys[l].contiguous(), T.at("prefix.past_key." + std::to_string(l))));
        EXPECT_TRUE(torch::equal(prefix.values[l].contiguous(), T.at("prefix.past_value." + std::to_string(l))));
      }
      in.prefix = &prefix;
    }
    auto out = model->encode(in);
    EXPECT_TRUE(torch::equal(out.position_ids, T.at(mode + ".position_ids"))) << "position ids differ";
    ASSERT_EQ(static_cast<int64_t>(out.hidden_states.size()), N + 1);
    for (int64_t i = 0; i <= N; ++i) {
      auto d = compare(out.hidden_states[i], T.at(mode + ".hidden_states." + std::to_string(i)), kHiddenAtol,
                       kHiddenRtol, mask);
      EXPECT_TRUE(d.ok) << "hidden_states." << i << " max abs diff " << d.max_abs;
      note(kind + " hidden (real rows)", d.max_abs);
      auto all = compare(out.hidden_states[i], T.at(mode + ".hidden_states." + std::to_string(i)), kHiddenAtol,
                         kHiddenRtol);
      EXPECT_TRUE(all.ok) << "hidden_states." << i << " (padded rows included) max abs diff " << all.max_abs;
      note(kind + " hidden (all rows)", all.max_abs);
    }
    auto d = compare(out.last_hidden_state, T.at(mode + ".last_hidden_state"), kHiddenAtol, kHiddenRtol, mask);
    EXPECT_TRUE(d.ok) << "last_hidden_state max abs diff " << d.max_abs;
    auto pooled = pool(out, mask, Pooling::Mean);
    d = compare(pooled, T.at(mode + ".mean_pooled"), kHiddenAtol, kHiddenRtol);
    EXPECT_TRUE(d.ok) << "mean_pooled max abs diff " << d.max_abs;
    note(kind + " mean_pooled", d.max_abs);
    auto logits = model->mlm_logits_at(out.last_hidden_state, positions);
    d = compare(logits, T.at(mode + ".mlm_logits_at_positions"), kLogitAtol, kLogitRtol);
    EXPECT_TRUE(d.ok) << "mlm logits max abs diff " << d.max_abs;
    note(kind + " mlm logits", d.max_abs);
  }
  print_worst(model_name + " " + weights_file);
}

}  // namespace

TEST(EncoderParity, RobertaFromPytorchBin) {
  CP_REQUIRE_FIXTURE("roberta_tiny/pytorch_model.bin");
  check_forward("roberta", "pytorch_model.bin");
}

TEST(EncoderParity, RobertaFromSafetensors) {
  CP_REQUIRE_FIXTURE("roberta_tiny/model.safetensors");
  check_forward("roberta", "model.safetensors");
}

TEST(EncoderParity, BertFromPytorchBin) {
  CP_REQUIRE_FIXTURE("bert_tiny/pytorch_model.bin");
  check_forward("bert", "pytorch_model.bin");
}

TEST(EncoderParity, BertFromSafetensors) {
  CP_REQUIRE_FIXTURE("bert_tiny/model.safetensors");
  check_forward("bert", "model.safetensors");
}

TEST(EncoderParity, TokenizerReproducesFixtureBatch) {
  CP_REQUIRE_FIXTURE("expected_roberta.json");
  for (const auto& [name, vocab] : {std::pair<std::string, std::string>{"roberta", "roberta-base"},
                                    std::pair<std::string, std::string>{"bert", "bert-base-uncased"}}) {
    auto exp = load_expected(name);
    auto tok = load_tokenizer(vocab_dir() + "/" + vocab);
    auto batch = tok->encode_batch(exp.meta["texts"].get<std::vector<std::string>>());
    auto [ids, mask] = to_tensors(batch, torch::kCPU);
    EXPECT_TRUE(torch::equal(ids, exp.t.at("input_ids"))) << name;
    EXPECT_TRUE(torch::equal(mask, exp.t.at("attention_mask"))) << name;
  }
}
