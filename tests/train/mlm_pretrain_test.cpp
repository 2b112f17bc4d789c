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

TEST(MlmPretrain, LearnsTheTextViewsAndSavesAnHfFolder) {
  at::set_num_threads(2);
  TempDir d;
  auto ds = data::prepare_dataset(data::DatasetSpec::load(test_util::synthetic_spec(d, "syn-mlm", 8000, 200, 300)), {"", false});
  train::MlmPretrainOptions o;
  o.vocab_size = 600;
  o.hidden_size = 32;
  o.intermediate_size = 64;
  o.loop.epochs = 2;
  o.lr = 2e-3;
  o.loop.valid_rows = 500;
  o.loop.progress = false;
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
  train::MlmPretrainOptions o;
  o.tokenizer = "wordpiece";
  o.vocab_size = 500;
  o.hidden_size = 32;
  o.intermediate_size = 64;
  o.loop.epochs = 2;
  o.lr = 2e-3;
  o.loop.valid_rows = 300;
  o.loop.progress = false;
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
