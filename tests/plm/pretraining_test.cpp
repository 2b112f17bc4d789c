// In-project pretraining pieces: BPE vocabulary training, MLM masking (15%,
// 80/10/10, special tokens never chosen), the MLM loss, and a tiny end-to-end
// pretraining run whose masked-token loss falls below the unigram baseline.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "core/error.h"
#include "plm/checkpoint.h"
#include "plm/mlm.h"
#include "plm/tokenizer/tokenizer.h"
#include "plm/tokenizer/trainer.h"
#include "test_util.h"

using namespace clickprompt;
using namespace clickprompt::plm;

namespace {

std::shared_ptr<BpeTokenizer> trained(int64_t vocab_size) {
  BpeTrainerOptions opt;
  opt.vocab_size = vocab_size;
  BpeTrainer trainer(opt);
  for (const auto& t : test_util::movie_texts(400, 1)) trainer.add_text(t);
  return trainer.train();
}

}  // namespace

TEST(BpeTrainer, LearnsAUsableVocabulary) {
  auto tok = trained(400);
  EXPECT_LE(tok->vocab_size(), 400);
  EXPECT_GT(tok->vocab_size(), 300);
  EXPECT_EQ(tok->token_to_id("<s>"), 0);
  EXPECT_EQ(tok->pad_id(), 1);
  EXPECT_EQ(tok->mask_id(), tok->vocab_size() - 1);
  // Frequent words become single tokens; text round-trips byte-exactly.
  auto ids = tok->encode(" Gender is", false);
  EXPECT_LE(ids.size(), 2u);
  for (const auto& t : test_util::movie_texts(20, 9)) EXPECT_EQ(tok->decode(tok->encode(t)), t);
  // Unseen characters still encode (byte fallback), never to <unk>.
  auto odd = tok->encode("東京 😀", false);
  for (auto id : odd) EXPECT_NE(id, tok->unk_id());
  EXPECT_EQ(tok->decode(tok->encode("東京 😀")), "東京 😀");
  // Deterministic.
  EXPECT_EQ(trained(400)->merges(), tok->merges());
  EXPECT_THROW(BpeTrainer(BpeTrainerOptions{100}), Error);
}

TEST(BpeTrainer, SavesAndLoadsBack) {
  auto tok = trained(350);
  auto dir = std::filesystem::temp_directory_path() / ("cp_bpe_" + std::to_string(::getpid()));
  tok->save(dir.string());
  auto back = load_tokenizer(dir.string());
  for (const auto& t : test_util::movie_texts(30, 5)) EXPECT_EQ(back->encode(t), tok->encode(t));
  EXPECT_EQ(back->encode("a <mask> b"), tok->encode("a <mask> b"));
  std::filesystem::remove_all(dir);
}

TEST(MlmMasking, RatesAndSpecialTokens) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
  const int64_t B = 64, L = 128, V = 1000, mask_id = 999;
  auto ids = torch::randint(5, 900, {B, L}, torch::kLong);
  ids.select(1, 0).fill_(0);
  ids.select(1, L - 1).fill_(2);
  ids.slice(1, L - 20, L - 1).fill_(1);  // padding
  auto protect = ids.le(2);
  auto m = mask_tokens(ids, protect, mask_id, V, gen);
  auto chosen = m.labels.ne(-100);
  EXPECT_FALSE((chosen & protect).any().item<bool>()) << "special/pad tokens were chosen";
  EXPECT_TRUE(torch::equal(m.labels.index({chosen}), ids.index({chosen})));
  double eligible = static_cast<double>(protect.logical_not().sum().item<int64_t>());
  double n = static_cast<double>(chosen.sum().item<int64_t>());
  EXPECT_NEAR(n / eligible, 0.15, 0.01);
  double as_mask = static_cast<double>((m.input_ids.eq(mask_id) & chosen).sum().item<int64_t>());
  double unchanged = static_cast<double>((m.input_ids.eq(ids) & chosen).sum().item<int64_t>());
  EXPECT_NEAR(as_mask / n, 0.8, 0.03);
  EXPECT_NEAR(unchanged / n, 0.1, 0.03);  // (+ the rare random draw of the same id)
  EXPECT_TRUE(torch::equal(m.input_ids.index({chosen.logical_not()}), ids.index({chosen.logical_not()})));
}

TEST(MlmPretraining, TinyModelBeatsUnigramBaseline) {
  // Tiny matrices: threading only adds overhead. Restored afterwards (the
  // test binary is shared with other suites).
  struct Threads {
    int prev = at::get_num_threads();
    Threads() { at::set_num_threads(1); }
    ~Threads() { at::set_num_threads(prev); }
  } threads;
  torch::manual_seed(0);
  auto tok = trained(360);
  HfConfig cfg = HfConfig::roberta_base();
  cfg.vocab_size = tok->vocab_size();
  cfg.hidden_size = 32;
  cfg.num_hidden_layers = 2;
  cfg.num_attention_heads = 2;
  cfg.intermediate_size = 64;
  cfg.max_position_embeddings = 80;
  cfg.hidden_dropout_prob = 0.0;
  cfg.attention_probs_dropout_prob = 0.0;
  MaskedLm model(cfg);
  init_weights(model, 0.02, 1);
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0.01));
  auto texts = test_util::movie_texts(512, 3);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  auto batch_of = [&](size_t start, size_t n) {
    std::vector<std::string> b(texts.begin() + static_cast<std::ptrdiff_t>(start),
                               texts.begin() + static_cast<std::ptrdiff_t>(start + n));
    return to_tensors(tok->encode_batch(b), torch::kCPU);
  };
  model->train();
  for (int step = 0; step < 120; ++step) {
    auto [ids, mask] = batch_of(static_cast<size_t>(step * 16) % 448, 16);
    auto m = mask_tokens(ids, special_tokens_mask(ids, *tok, mask), tok->mask_id(), tok->vocab_size(), gen);
    EncoderInput in;
    in.input_ids = m.input_ids;
    in.attention_mask = mask;
    in.output_hidden_states = false;
    auto loss = mlm_loss(model, model->encode(in).last_hidden_state, m.labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  model->eval();
  torch::NoGradGuard ng;
  auto [ids, mask] = batch_of(448, 64);  // held out
  auto m = mask_tokens(ids, special_tokens_mask(ids, *tok, mask), tok->mask_id(), tok->vocab_size(), gen);
  EncoderInput in;
  in.input_ids = m.input_ids;
  in.attention_mask = mask;
  double loss = mlm_loss(model, model->encode(in).last_hidden_state, m.labels).item<double>();
  double baseline = unigram_entropy(m.labels, tok->vocab_size());
  std::printf("[ mlm ] held-out masked-token loss %.3f vs unigram baseline %.3f nats\n", loss, baseline);
  EXPECT_LT(loss, 0.7 * baseline);
  // What we train saves in HF layout and loads back to the same loss.
  auto dir = std::filesystem::temp_directory_path() / ("cp_mlm_" + std::to_string(::getpid()));
  save_pretrained(model, dir.string());
  tok->save(dir.string());
  auto back = load_pretrained(dir.string());
  double loss2 = mlm_loss(back, back->encode(in).last_hidden_state, m.labels).item<double>();
  EXPECT_DOUBLE_EQ(loss, loss2);
  EXPECT_EQ(load_tokenizer(dir.string())->encode(texts[0]), tok->encode(texts[0]));
  std::filesystem::remove_all(dir);
}
