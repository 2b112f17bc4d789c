// ClickPrompt's model pieces: the prompt generator's output layout against the
// encoder's prefix layout, prompts reaching and changing the PLM, gradients
// flowing back into the CTR model, the fused logit and the output-layer finder.
#include <gtest/gtest.h>

#include "clickprompt/clickprompt_model.h"
#include "core/error.h"
#include "core/params.h"
#include "ctr/registry.h"
#include "plm/checkpoint.h"
#include "test_util.h"

using namespace clickprompt;

namespace {
ctr::FeatureInfo features(int F = 4, int64_t per_field = 10) {
  ctr::FeatureInfo fi;
  fi.num_fields = F;
  for (int f = 0; f < F; ++f) {
    fi.field_offsets.push_back(f * per_field);
    fi.field_sizes.push_back(per_field);
    fi.field_names.push_back("f" + std::to_string(f));
  }
  fi.vocab_size = F * per_field;
  return fi;
}

ctr::CtrModelPtr ctr_model(const std::string& name = "dcnv2") {
  YAML::Node n = YAML::Load("{embedding_dim: 8, dnn_hidden_units: [16], num_cross_layers: 1}");
  core::Params p(n, "model");
  if (name == "fm") p = core::Params(YAML::Load("{embedding_dim: 8}"), "model");
  return ctr::create_model(name, features(), p);
}

plm::MaskedLm tiny_plm(int64_t layers = 2, int64_t width = 16, int64_t heads = 2) {
  plm::HfConfig cfg = plm::HfConfig::roberta_base();
  cfg.vocab_size = 40;
  cfg.hidden_size = width;
  cfg.num_hidden_layers = layers;
  cfg.num_attention_heads = heads;
  cfg.intermediate_size = 2 * width;
  cfg.max_position_embeddings = 40;
  cfg.hidden_dropout_prob = cfg.attention_probs_dropout_prob = 0;
  plm::MaskedLm m(cfg);
  plm::init_weights(m, 0.2, 7);
  return m;
}

torch::Tensor ids_batch(int64_t B, int64_t seed) {
  torch::manual_seed(seed);
  return torch::randint(0, 10, {B, 4}, torch::kInt64) + torch::arange(4, torch::kInt64) * 10;
}

cp::TextBatch text_batch(int64_t B, int64_t L) {
  auto ids = torch::randint(3, 40, {B, L}, torch::kInt64);
  ids.select(1, 0).fill_(0);      // <s>
  ids.select(1, L - 1).fill_(2);  // </s>
  return {ids, torch::ones({B, L}, torch::kInt64)};
}
}  // namespace

TEST(PromptGenerator, SharedOutputIsLayerTwoPromptWidth) {
  cp::PromptOptions o;
  o.num_prompts = 3;
  cp::PromptGenerator g(12, 4, 16, o);
  auto out = g->forward(torch::randn({5, 12}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 4, 2, 3, 16}));
  // Layout: slot (l, s, k) of the output is fc2's rows ((l*2+s)*K+k)*d ... +d.
  torch::NoGradGuard ng;
  g->fc2_->weight.zero_();
  g->fc2_->bias.copy_(torch::arange(4 * 2 * 3 * 16, torch::kFloat));
  out = g->forward(torch::randn({2, 12}));
  EXPECT_FLOAT_EQ(out[1][2][1][0][0].item<float>(), static_cast<float>(((2 * 2 + 1) * 3 + 0) * 16));
  EXPECT_FLOAT_EQ(out[0][3][0][2][5].item<float>(), static_cast<float>(((3 * 2 + 0) * 3 + 2) * 16 + 5));
}

TEST(PromptGenerator, PerPromptGeneratorsOwnTheirSlot) {
  cp::PromptOptions o;
  o.num_prompts = 2;
  o.generator = "per_prompt";
  o.hidden = 8;
  cp::PromptGenerator g(6, 3, 4, o);
  auto q = torch::randn({5, 6});
  EXPECT_EQ(g->forward(q).sizes(), (std::vector<int64_t>{5, 3, 2, 2, 4}));
  // Only generator g = l*K + k = 1*2 + 1 (layer 1, prompt 1) has an output bias; all else is zero.
  torch::NoGradGuard ng;
  g->w2_.zero_();
  g->b2_.zero_();
  g->b2_[3].fill_(1.0);
  auto out = g->forward(q);
  EXPECT_FLOAT_EQ(out.sum().item<float>(), 5 * 2 * 4);  // keys and values of one prompt, 5 samples
  EXPECT_FLOAT_EQ(out.select(1, 1).select(2, 1).sum().item<float>(), 5 * 2 * 4);
  // And the encoder's layer-1 prefix keys are exactly that prompt.
  auto kv = plm::PrefixKV::from_layerwise(out, 2);
  EXPECT_FLOAT_EQ(kv.keys[1].select(2, 1).sum().item<float>(), 5 * 4);
  EXPECT_FLOAT_EQ(kv.values[1].select(2, 1).sum().item<float>(), 5 * 4);
  EXPECT_FLOAT_EQ(kv.keys[0].abs().sum().item<float>(), 0);
}

TEST(PromptGenerator, InputLayerVariantAndErrors) {
  cp::PromptOptions o;
  o.num_prompts = 4;
  o.fusion = cp::Fusion::Input;
  cp::PromptGenerator g(6, 3, 8, o);
  EXPECT_EQ(g->forward(torch::randn({2, 6})).sizes(), (std::vector<int64_t>{2, 4, 8}));
  o.generator = "per_prompt";
  EXPECT_EQ(cp::PromptGenerator(6, 3, 8, o)->forward(torch::randn({2, 6})).sizes(), (std::vector<int64_t>{2, 4, 8}));
  o.generator = "shraed";
  EXPECT_NE(test_util::error_of([&] { cp::PromptGenerator(6, 3, 8, o); }).find("shared"), std::string::npos);
  EXPECT_THROW(cp::parse_fusion("prefix"), Error);
}

TEST(ClickPromptModel, PromptsChangeThePlmAndCarryGradientsToTheCtrModel) {
  for (auto fusion : {cp::Fusion::Layerwise, cp::Fusion::Input}) {
    cp::ClickPromptOptions o;
    o.prompt.num_prompts = 3;
    o.prompt.fusion = fusion;
    auto ctr = ctr_model();
    cp::ClickPromptModel m(ctr, tiny_plm(), o);
    m->eval();
    auto text = text_batch(6, 9);
    auto a = ids_batch(6, 1), b = ids_batch(6, 2);
    auto qa = ctr->representation(a), qb = ctr->representation(b);
    auto ha = m->encode(qa, text, false).last_hidden_state, hb = m->encode(qb, text, false).last_hidden_state;
    EXPECT_EQ(ha.sizes(), (std::vector<int64_t>{6, 9, 16}));  // text positions only
    EXPECT_GT((ha - hb).abs().max().item<double>(), 1e-6) << cp::fusion_name(fusion);
    auto ha2 = m->encode(ctr->representation(a), text, false).last_hidden_state;
    EXPECT_EQ((ha - ha2).abs().max().item<double>(), 0.0);  // same ids, same prompts, same output

    // PA-MLM: the CTR model learns only through the prompts; its output layer gets nothing.
    auto labels = torch::full({6, 9}, -100, torch::kInt64);
    labels.select(1, 3).copy_(text.input_ids.select(1, 3));
    m->zero_grad();
    m->mlm_loss(a, text, labels).backward();
    auto emb = ctr->embedding_parameters()[0].grad();
    ASSERT_TRUE(emb.defined());
    EXPECT_GT(emb.to_dense().abs().sum().item<double>(), 0);
    for (const auto& p : m->named_parameters())
      if (p.key().rfind("generator.", 0) == 0) {
        ASSERT_TRUE(p.value().grad().defined()) << p.key();
        EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0) << p.key();
      }
    for (const auto& p : ctr->named_parameters())
      if (p.key().rfind("out.", 0) == 0) {
        EXPECT_FALSE(p.value().grad().defined()) << p.key();
      }
  }
}

TEST(ClickPromptModel, FusedLogitMixesCtrAndPlmLogits) {
  auto text = text_batch(4, 7);
  auto ids = ids_batch(4, 3);
  for (double alpha : {1.0, 0.0, 0.3}) {
    cp::ClickPromptOptions o;
    o.alpha = alpha;
    o.prompt.fusion = cp::Fusion::None;  // no prompts: y_plm does not depend on ids
    auto ctr = ctr_model();
    cp::ClickPromptModel m(ctr, tiny_plm(), o);
    m->eval();
    torch::NoGradGuard ng;
    auto y = m->logit(ids, text);
    auto y_ctr = ctr->forward(ids);
    auto y_plm = m->logit(ids_batch(4, 9), text) - alpha * ctr->forward(ids_batch(4, 9));  // (1-a) y_plm
    EXPECT_TRUE(torch::allclose(y, alpha * y_ctr + y_plm, 1e-5, 1e-6)) << alpha;
    // The branches reported apart: the CTR model's own logit and the PLM head's.
    auto parts = m->logits(ids, text);
    EXPECT_TRUE(torch::allclose(parts.fused, y));
    EXPECT_TRUE(torch::allclose(parts.ctr, y_ctr, 1e-5, 1e-6)) << alpha;
    EXPECT_TRUE(torch::allclose((1 - alpha) * parts.plm, y_plm, 1e-5, 1e-6)) << alpha;
  }
  cp::ClickPromptOptions o;
  o.learn_alpha = true;
  o.alpha = 0.25;
  cp::ClickPromptModel m(ctr_model(), tiny_plm(), o);
  EXPECT_NEAR(m->alpha().item<double>(), 0.25, 1e-6);
  bool learned = false;
  for (const auto& p : m->other_parameters()) learned |= p.numel() == 1 && p.dim() == 0;
  EXPECT_TRUE(learned);
  o.alpha = 1.5;
  EXPECT_THROW(cp::ClickPromptModel(ctr_model(), tiny_plm(), o), Error);
}

TEST(ClickPromptModel, ParameterGroupsSplitThePlmFromTheRest) {
  cp::ClickPromptModel m(ctr_model(), tiny_plm(), cp::ClickPromptOptions{});
  size_t plm = m->plm_parameters().size(), rest = m->other_parameters().size();
  EXPECT_EQ(plm, m->plm()->parameters().size());
  EXPECT_EQ(plm + rest, m->parameters().size());
}

TEST(OutputLayer, FoundByAutogradForEveryModel) {
  auto ids = ids_batch(8, 4);
  auto dcn = ctr_model("dcnv2");
  auto out = cp::output_layer_parameters(*dcn, ids);
  EXPECT_EQ(out, (std::vector<std::string>{"out.weight", "out.bias"}));
  for (const auto& name : ctr::model_names()) {
    YAML::Node n = YAML::Load("{embedding_dim: 8}");
    auto m = ctr::create_model(name, features(), core::Params(n, "model"));
    auto o = cp::output_layer_parameters(*m, ids);
    EXPECT_FALSE(o.empty()) << name;
    EXPECT_LT(o.size(), m->parameters().size()) << name;
  }
}
