// Encoder behaviour beyond the HF fixtures: prefix layouts agree, the
// input-layer prompt variant, pooling, masking, error messages.
#include <gtest/gtest.h>

#include "core/error.h"
#include "plm/checkpoint.h"
#include "plm/encoder.h"

using namespace clickprompt;
using namespace clickprompt::plm;

namespace {

HfConfig small(const std::string& type) {
  HfConfig c = type == "roberta" ? HfConfig::roberta_base() : HfConfig::bert_base_uncased();
  c.vocab_size = 60;
  c.hidden_size = 24;
  c.num_hidden_layers = 3;
  c.num_attention_heads = 3;
  c.intermediate_size = 40;
  c.max_position_embeddings = 32;
  return c;
}

MaskedLm make(const std::string& type) {
  MaskedLm m(small(type));
  init_weights(m, 0.3, 5);
  m->eval();
  return m;
}

// `m` on padded ids with a layer-wise prefix, no gradients.
EncoderOutput encode_prefixed(MaskedLm& m, const torch::Tensor& ids, const torch::Tensor& mask, const PrefixKV& prefix) {
  EncoderInput in;
  in.input_ids = ids;
  in.attention_mask = mask;
  in.prefix = &prefix;
  torch::NoGradGuard ng;
  return m->encode(in);
}

}  // namespace

TEST(Encoder, PrefixLayoutsAgree) {
  auto m = make("roberta");
  const auto& cfg = m->config();
  int64_t B = 2, K = 4, N = cfg.num_hidden_layers, H = cfg.hidden_size;
  auto prompts = torch::randn({B, K, 2 * N * H});
  auto a = PrefixKV::from_prompts(prompts, N, cfg.num_attention_heads);
  // Same numbers in the [B, N, 2, K, H] layout.
  auto lw = prompts.view({B, K, 2 * N, H}).permute({0, 2, 1, 3}).reshape({B, N, 2, K, H});
  auto b = PrefixKV::from_layerwise(lw, cfg.num_attention_heads);
  for (int64_t l = 0; l < N; ++l) {
    EXPECT_TRUE(torch::equal(a.keys[l], b.keys[l]));
    EXPECT_TRUE(torch::equal(a.values[l], b.values[l]));
  }
  EXPECT_THROW(PrefixKV::from_prompts(torch::randn({B, K, 7}), N, cfg.num_attention_heads), Error);
}

TEST(Encoder, PrefixPositionRules) {
  for (const std::string type : {"roberta", "bert"}) {
    auto m = make(type);
    const auto& cfg = m->config();
    auto ids = torch::tensor(std::vector<int64_t>{5, 6, 7, cfg.pad_token_id}, torch::kLong).view({1, 4});
    auto mask = torch::tensor({1, 1, 1, 0}, torch::kLong).view({1, 4});
    auto prefix = PrefixKV::from_prompts(torch::randn({1, 2, 2 * cfg.num_hidden_layers * cfg.hidden_size}),
                                         cfg.num_hidden_layers, cfg.num_attention_heads);
    auto out = encode_prefixed(m, ids, mask, prefix);
    std::vector<int64_t> expect = type == "roberta" ? std::vector<int64_t>{4, 5, 6, 1} : std::vector<int64_t>{2, 3, 4, 5};
    EXPECT_TRUE(torch::equal(out.position_ids, torch::tensor(expect, torch::kLong).view({1, 4}))) << type;
  }
}

TEST(Encoder, PaddingDoesNotChangeRealTokens) {
  auto m = make("bert");
  torch::NoGradGuard ng;
  EncoderInput a;
  a.input_ids = torch::tensor({2, 9, 14, 3}, torch::kLong).view({1, 4});
  auto oa = m->encode(a);
  EncoderInput b;
  b.input_ids = torch::tensor({2, 9, 14, 3, 0, 0}, torch::kLong).view({1, 6});
  b.attention_mask = torch::tensor({1, 1, 1, 1, 0, 0}, torch::kLong).view({1, 6});
  auto ob = m->encode(b);
  EXPECT_TRUE(torch::allclose(oa.last_hidden_state, ob.last_hidden_state.slice(1, 0, 4), 1e-5, 1e-5));
  // Masked mean ignores the padding.
  EXPECT_TRUE(torch::allclose(pool(oa, torch::ones({1, 4}, torch::kLong), Pooling::Mean),
                              pool(ob, b.attention_mask, Pooling::Mean), 1e-5, 1e-5));
}

// LayerAttention (what `clickprompt inspect` reads): layer l run on hidden_states[l]
// gives hidden_states[l + 1]; prefix keys come first; padded keys get no attention.
TEST(Encoder, LayerAttentionIsTheLayersOwn) {
  auto m = make("roberta");
  const auto& cfg = m->config();
  const int64_t B = 2, K = 3, N = cfg.num_hidden_layers;
  auto ids = torch::tensor(std::vector<int64_t>{0, 9, 14, 2, 0, 11, 2, cfg.pad_token_id}, torch::kLong).view({B, 4});
  auto mask = torch::tensor({1, 1, 1, 1, 1, 1, 1, 0}, torch::kLong).view({B, 4});
  auto prefix = PrefixKV::from_prompts(torch::randn({B, K, 2 * N * cfg.hidden_size}), N, cfg.num_attention_heads);
  auto out = encode_prefixed(m, ids, mask, prefix);
  torch::NoGradGuard ng;
  ASSERT_EQ(static_cast<int64_t>(out.hidden_states.size()), N + 1);
  auto bias = attention_bias(torch::cat({torch::ones({B, K}, torch::kLong), mask}, 1));
  for (int64_t l = 0; l < N; ++l) {
    auto& layer = *m->encoder_->layers_[static_cast<size_t>(l)]->as<TransformerLayerImpl>();
    const auto& h = out.hidden_states[static_cast<size_t>(l)];
    auto next = layer.forward(h, bias, prefix.keys[l], prefix.values[l]);
    EXPECT_TRUE(torch::allclose(next, out.hidden_states[static_cast<size_t>(l + 1)], 1e-5, 1e-5)) << l;
    auto att = layer.attention(h, bias, prefix.keys[l], prefix.values[l]);
    ASSERT_EQ(att.probs.sizes(), (std::vector<int64_t>{B, cfg.num_attention_heads, 4, K + 4}));
    EXPECT_TRUE(torch::equal(att.keys.slice(2, 0, K), prefix.keys[l]));
    EXPECT_TRUE(torch::equal(att.values.slice(2, 0, K), prefix.values[l]));
    EXPECT_TRUE(torch::allclose(att.probs.sum(-1), torch::ones({B, cfg.num_attention_heads, 4}), 1e-5, 1e-5));
    EXPECT_EQ(att.probs.select(0, 1).select(-1, K + 3).abs().max().item<float>(), 0.0f) << l;
    EXPECT_GT(att.probs.slice(-1, 0, K).sum().item<float>(), 0.0f) << l;
  }
}

TEST(Encoder, InputLayerPromptsArePrependedAndAttended) {
  for (const std::string type : {"roberta", "bert"}) {
    auto m = make(type);
    const auto& cfg = m->config();
    torch::NoGradGuard ng;
    EncoderInput in;
    in.input_ids = torch::tensor({2, 9, 14, 3}, torch::kLong).view({1, 4});
    auto plain = m->encode(in);
    in.input_prompts = torch::randn({1, 3, cfg.hidden_size});
    auto out = m->encode(in);
    EXPECT_EQ(out.last_hidden_state.sizes(), plain.last_hidden_state.sizes());
    EXPECT_EQ(out.hidden_states.size(), plain.hidden_states.size());
    EXPECT_GT((out.last_hidden_state - plain.last_hidden_state).abs().max().item<double>(), 1e-3) << type;
    // Same as feeding the prompt vectors as embeddings by hand: compare with
    // position ids given explicitly (RoBERTa: pad+1.., BERT: 0..).
    int64_t first = type == "roberta" ? cfg.pad_token_id + 1 : 0;
    auto pos = torch::arange(first, first + 7, torch::kLong).view({1, 7});
    EXPECT_TRUE(torch::equal(out.position_ids, pos.slice(1, 3))) << type;
  }
}

TEST(Encoder, PoolingVariants) {
  auto m = make("roberta");
  torch::NoGradGuard ng;
  EncoderInput in;
  in.input_ids = torch::tensor({0, 9, 14, 2, 1, 1, 0, 7, 2, 1, 1, 1}, torch::kLong).view({2, 6});
  in.attention_mask = in.input_ids.ne(1).to(torch::kLong);
  auto out = m->encode(in);
  auto mask = in.attention_mask.to(torch::kFloat).unsqueeze(-1);
  auto mean = [&](const torch::Tensor& h) { return (h * mask).sum(1) / mask.sum(1); };
  EXPECT_TRUE(torch::equal(pool(out, in.attention_mask, Pooling::Cls), out.last_hidden_state.select(1, 0)));
  EXPECT_TRUE(torch::allclose(pool(out, in.attention_mask, Pooling::Mean), mean(out.last_hidden_state)));
  EXPECT_TRUE(torch::allclose(pool(out, in.attention_mask, Pooling::FirstLastMean),
                              mean((out.hidden_states.front() + out.hidden_states.back()) / 2)));
  EXPECT_TRUE(torch::allclose(pool(out, in.attention_mask, Pooling::TopTwoMean),
                              mean((out.hidden_states[out.hidden_states.size() - 2] + out.hidden_states.back()) / 2)));
  EXPECT_EQ(parse_pooling("avg_first_last"), Pooling::FirstLastMean);
  EXPECT_THROW(parse_pooling("max"), Error);
}

TEST(Encoder, ClearErrors) {
  auto m = make("bert");
  EncoderInput in;
  in.input_ids = torch::zeros({4}, torch::kLong);
  EXPECT_THROW(m->encode(in), Error);
  in.input_ids = torch::zeros({1, 40}, torch::kLong);  // > max_position_embeddings
  try {
    m->encode(in);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("positions"), std::string::npos) << e.what();
  }
  in.input_ids = torch::zeros({1, 5}, torch::kLong);
  in.attention_mask = torch::ones({1, 4}, torch::kLong);
  EXPECT_THROW(m->encode(in), Error);
  MaskedLm bare(small("bert"), false);
  EXPECT_THROW(bare->mlm_logits(torch::zeros({1, 24})), Error);
}

TEST(Encoder, TrainsThroughPrefixes) {
  auto m = make("roberta");
  m->train();
  const auto& cfg = m->config();
  auto prompts = torch::randn({2, 2, 2 * cfg.num_hidden_layers * cfg.hidden_size}, torch::requires_grad());
  auto prefix = PrefixKV::from_prompts(prompts, cfg.num_hidden_layers, cfg.num_attention_heads);
  EncoderInput in;
  in.input_ids = torch::randint(3, cfg.vocab_size, {2, 5}, torch::kLong);
  in.prefix = &prefix;
  auto out = m->encode(in);
  auto loss = m->mlm_logits(out.last_hidden_state).logsumexp(-1).mean();
  loss.backward();
  ASSERT_TRUE(prompts.grad().defined());
  EXPECT_GT(prompts.grad().abs().sum().item<double>(), 0.0);
  // Through the embeddings only (no tied decoder), the padding row gets no
  // gradient (padding_idx, as in HF).
  m->zero_grad();
  in.input_ids[1][4] = cfg.pad_token_id;
  in.attention_mask = in.input_ids.ne(cfg.pad_token_id).to(torch::kLong);
  m->encode(in).last_hidden_state.pow(2).mean().backward();
  auto g = m->named_parameters()["roberta.embeddings.word_embeddings.weight"].grad();
  EXPECT_EQ(g[cfg.pad_token_id].abs().sum().item<double>(), 0.0);
  EXPECT_GT(g.abs().sum().item<double>(), 0.0);
}

TEST(Encoder, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  auto m = make("roberta");
  const auto& cfg = m->config();
  torch::NoGradGuard ng;
  EncoderInput in;
  in.input_ids = torch::randint(3, cfg.vocab_size, {2, 6}, torch::kLong);
  auto prefix = PrefixKV::from_prompts(torch::randn({2, 2, 2 * cfg.num_hidden_layers * cfg.hidden_size}),
                                       cfg.num_hidden_layers, cfg.num_attention_heads);
  in.prefix = &prefix;
  auto cpu = m->mlm_logits(m->encode(in).last_hidden_state);
  m->to(torch::kCUDA);
  EncoderInput gin = in;
  gin.input_ids = in.input_ids.to(torch::kCUDA);
  PrefixKV gp;
  for (size_t l = 0; l < prefix.keys.size(); ++l) {
    gp.keys.push_back(prefix.keys[l].to(torch::kCUDA));
    gp.values.push_back(prefix.values[l].to(torch::kCUDA));
  }
  gin.prefix = &gp;
  auto gpu = m->mlm_logits(m->encode(gin).last_hidden_state).to(torch::kCPU);
  EXPECT_TRUE(torch::allclose(cpu, gpu, 1e-3, 1e-3));
}
