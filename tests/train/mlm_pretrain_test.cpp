#include "train/mlm_pretrain.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/params.h"
#include "data/synthetic.h"
#include "plm/checkpoint.h"
#include "plm/tokenizer/tokenizer.h"
#include "test_util.h"

using namespace clickprompt;
using clickprompt::test_util::TempDir;

namespace {
// A tiny encoder (width 32) trained for two epochs: enough to beat the unigram baseline.
train::MlmPretrainOptions tiny_options(int64_t vocab_size, int64_t valid_rows) {
  train::MlmPretrainOptions o;
  o.vocab_size = vocab_size;
  o.hidden_size = 32;
  o.intermediate_size = 64;
  o.loop.epochs = 2;
  o.lr = 2e-3;
  o.loop.valid_rows = valid_rows;
  o.loop.progress = false;
  return o;
}
}  // namespace

TEST(MlmPretrain, LearnsTheTextViewsAndSavesAnHfFolder) {
  at::set_num_threads(2);
  TempDir d;
  auto ds = data::prepare_dataset(data::DatasetSpec::load(test_util::synthetic_spec(d, "syn-mlm", 8000, 200, 300)), {"", false});
  auto o = tiny_options(600, 500);
  auto r = train::pretrain_mlm(ds, o, d.file("plm"));
  double loss = r["valid_mlm_loss"], unigram = r["unigram_baseline"];
  EXPECT_LT(loss, 0.8 * unigram) << r.dump();
  // The folder is what the language-model stack loads: same vocabulary, same shapes.
  auto tok = plm::load_tokenizer(d.file("plm"));
  EXPECT_EQ(tok->vocab_size(), r["config"]["vocab_size"].get<int64_t>());
  auto lm = plm::load_pretrained(d.file("plm"));
  EXPECT_EQ(lm->config().hidden_size, 32);
  // Text views tokenize into the trained pieces (no unknown tokens in a byte-level BPE).
  auto ids = tok->encode(ds.text_view(ds.test, 0));
  EXPECT_GT(ids.size(), 10u);
  EXPECT_LE(static_cast<int64_t>(ids.size()), lm->config().max_position_embeddings - 2);
}

TEST(MlmPretrain, WordPieceVocabularyAndBertStyleEncoder) {
  at::set_num_threads(2);
  TempDir d;
  auto ds = data::prepare_dataset(data::DatasetSpec::load(test_util::synthetic_spec(d, "syn-wp", 4000, 100, 150)), {"", false});
  auto o = tiny_options(500, 300);
  o.tokenizer = "wordpiece";
  auto r = train::pretrain_mlm(ds, o, d.file("plm"));
  EXPECT_LT(r["valid_mlm_loss"].get<double>(), r["unigram_baseline"].get<double>()) << r.dump();
  auto tok = plm::load_tokenizer(d.file("plm"));
  EXPECT_EQ(tok->kind(), "wordpiece");
  auto lm = plm::load_pretrained(d.file("plm"));
  EXPECT_FALSE(lm->config().is_roberta());
  auto ids = tok->encode(ds.text_view(ds.test, 0));
  for (auto id : ids) EXPECT_NE(id, tok->unk_id());
  o.tokenizer = "sentencepiece";
  EXPECT_THROW(train::pretrain_mlm(ds, o, d.file("plm2")), Error);
}
