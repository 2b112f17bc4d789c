// WordPiece vocabulary training (HF tokenizers' WordPieceTrainer algorithm):
// merges worked out by hand, vocabulary layout, the vocab_size and
// min_frequency stops, [UNK] rules, round trips through encode/decode and
// save/load_tokenizer, and option checks.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "core/error.h"
#include "plm/tokenizer/tokenizer.h"
#include "plm/tokenizer/trainer.h"
#include "plm/tokenizer/wordpiece_tokenizer.h"
#include "test_util.h"

using namespace clickprompt;
using namespace clickprompt::plm;

namespace {

// The HF course corpus: hug x10, pug x5, pun x12, bun x4, hugs x5.
//
// Words as symbols: h ##u ##g | p ##u ##g | p ##u ##n | b ##u ##n | h ##u ##g ##s
// Pair counts: (##u,##g) 10+5+5=20, (p,##u) 5+12=17, (##u,##n) 12+4=16,
//              (h,##u) 10+5=15, (##g,##s) 5, (b,##u) 4
// 1. (##u,##g) 20 -> "##ug"  (the right part keeps the left's "##", drops its own)
//    h ##ug | p ##ug | p ##u ##n | b ##u ##n | h ##ug ##s
//    (##u,##n) 16, (h,##ug) 15, (p,##u) 12, (p,##ug) 5, (##ug,##s) 5, (b,##u) 4
// 2. (##u,##n) 16 -> "##un"
//    (h,##ug) 15, (p,##un) 12, (p,##ug) 5, (##ug,##s) 5, (b,##un) 4
// 3. (h,##ug) 15 -> "hug"
// 4. (p,##un) 12 -> "pun"
//    (hug,##s) 5, (p,##ug) 5, (b,##un) 4
// 5. tie at 5: ("hug","##s") < ("p","##ug") lexicographically -> "hugs"
// 6. (p,##ug) 5 -> "pug"
// 7. (b,##un) 4 -> "bun"   (not with min_frequency 5)
// Alphabet: b g h n p s u bare (ids 5..11), then ##b ##g ##h ##n ##p ##s ##u
// (ids 12..18: every letter can stand inside a word), merges from id 19.
WordPieceTrainer hug_trainer(WordPieceTrainerOptions opt) {
  WordPieceTrainer t(std::move(opt));
  t.add_text("hug", 10);
  t.add_text("pug", 5);
  t.add_text("pun", 12);
  t.add_text("bun", 4);
  t.add_text("hugs", 5);
  return t;
}

std::vector<std::string> vocab_of(const Tokenizer& tok) {
  std::vector<std::string> v;
  for (int64_t i = 0; i < tok.vocab_size(); ++i) v.push_back(tok.id_to_token(i));
  return v;
}

std::shared_ptr<WordPieceTokenizer> movie_tokenizer(int64_t vocab_size) {
  WordPieceTrainerOptions opt;
  opt.vocab_size = vocab_size;
  WordPieceTrainer trainer(opt);
  for (const auto& t : test_util::movie_texts(400, 1)) trainer.add_text(t);
  return trainer.train();
}

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

}  // namespace

TEST(WordPieceTrainer, FirstMergesMatchTheHandWorkedExample) {
  WordPieceTrainerOptions opt;
  opt.vocab_size = 1000;
  opt.min_frequency = 1;
  auto tok = hug_trainer(opt).train();
  std::vector<std::string> expected = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "b",   "g",   "h",
                                       "n",     "p",     "s",     "u",     "##b",    "##g", "##h", "##n",
                                       "##p",   "##s",   "##u",   "##ug",  "##un",   "hug", "pun", "hugs",
                                       "pug",   "bun"};
  EXPECT_EQ(vocab_of(*tok), expected);
  EXPECT_EQ(tok->pad_id(), 0);
  EXPECT_EQ(tok->unk_id(), 1);
  EXPECT_EQ(tok->cls_id(), 2);
  EXPECT_EQ(tok->sep_id(), 3);
  EXPECT_EQ(tok->mask_id(), 4);
  EXPECT_EQ(tok->tokenize("hugs pugs bun"), (std::vector<std::string>{"hugs", "pug", "##s", "bun"}));
}

TEST(WordPieceTrainer, VocabSizeAndMinFrequencyStopMerging) {
  WordPieceTrainerOptions opt;
  opt.min_frequency = 1;
  opt.vocab_size = 22;  // 5 specials + 14 alphabet + 3 merges
  auto small = hug_trainer(opt).train();
  EXPECT_EQ(small->vocab_size(), 22);
  EXPECT_EQ(small->id_to_token(19), "##ug");
  EXPECT_EQ(small->id_to_token(21), "hug");
  EXPECT_FALSE(small->has_token("pun"));

  opt.vocab_size = 1000;
  opt.min_frequency = 5;  // bun (4) is never merged
  auto freq = hug_trainer(opt).train();
  EXPECT_EQ(freq->vocab_size(), 25);
  EXPECT_TRUE(freq->has_token("pug"));
  EXPECT_FALSE(freq->has_token("bun"));
  EXPECT_EQ(freq->tokenize("bun"), (std::vector<std::string>{"b", "##un"}));

  opt.min_frequency = 13;  // the best pair (20) merges, then (##u,##n) 16, (h,##ug) 15; (p,##un) 12 stops
  auto high = hug_trainer(opt).train();
  EXPECT_EQ(high->vocab_size(), 22);

  // Specials + alphabet beyond vocab_size: the alphabet is kept whole, no merges.
  opt.min_frequency = 1;
  opt.vocab_size = 10;
  auto tight = hug_trainer(opt).train();
  EXPECT_EQ(tight->vocab_size(), 19);
  EXPECT_EQ(tight->id_to_token(18), "##u");
}

TEST(WordPieceTrainer, IncrementalCountsMatchANaiveRecount) {
  // Random lower-case words (runs like "aaaa" included); the reference
  // recounts every pair from scratch before each merge.
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    std::map<std::string, int64_t> counts;
    for (int i = 0; i < 300; ++i) {
      std::string w;
      int n = 1 + static_cast<int>(rng() % 7);
      for (int k = 0; k < n; ++k) w += static_cast<char>('a' + rng() % 5);
      counts[w] += 1 + static_cast<int64_t>(rng() % 9);
    }
    WordPieceTrainerOptions opt;
    opt.vocab_size = 5 + 10 + 120;
    opt.min_frequency = 3;
    WordPieceTrainer trainer(opt);
    for (const auto& [w, c] : counts) trainer.add_text(w, c);
    auto got = vocab_of(*trainer.train());

    std::vector<std::string> want = opt.special_tokens;
    std::set<char> chars;
    for (const auto& [w, c] : counts) chars.insert(w.begin(), w.end());
    for (char c : chars) want.push_back(std::string(1, c));
    for (char c : chars) want.push_back("##" + std::string(1, c));
    std::vector<std::pair<std::vector<std::string>, int64_t>> words;
    for (const auto& [w, c] : counts) {
      std::vector<std::string> sym;
      for (size_t i = 0; i < w.size(); ++i) sym.push_back((i ? "##" : "") + w.substr(i, 1));
      words.emplace_back(sym, c);
    }
    while (static_cast<int64_t>(want.size()) < opt.vocab_size) {
      std::map<std::pair<std::string, std::string>, int64_t> pairs;  // ordered: ties go to the smallest
      for (const auto& [sym, c] : words)
        for (size_t i = 0; i + 1 < sym.size(); ++i) pairs[{sym[i], sym[i + 1]}] += c;
      const std::pair<const std::pair<std::string, std::string>, int64_t>* best = nullptr;
      for (const auto& p : pairs)
        if (!best || p.second > best->second) best = &p;
      if (!best || best->second < opt.min_frequency) break;
      auto [l, r] = best->first;
      std::string merged = l + r.substr(r.rfind("##", 0) == 0 ? 2 : 0);
      if (std::find(want.begin(), want.end(), merged) == want.end()) want.push_back(merged);
      for (auto& [sym, c] : words) {
        std::vector<std::string> out;
        for (size_t i = 0; i < sym.size(); ++i) {
          if (i + 1 < sym.size() && sym[i] == l && sym[i + 1] == r) {
            out.push_back(merged);
            ++i;
          } else {
            out.push_back(sym[i]);
          }
        }
        sym.swap(out);
      }
    }
    EXPECT_EQ(got, want) << "seed " << seed;
    EXPECT_GT(got.size(), 60u);
  }
}

TEST(WordPieceTrainer, LearnsAUsableVocabulary) {
  auto tok = movie_tokenizer(300);
  EXPECT_LE(tok->vocab_size(), 300);
  EXPECT_GT(tok->vocab_size(), 250);
  const std::vector<std::string> specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (size_t i = 0; i < specials.size(); ++i) EXPECT_EQ(tok->id_to_token(static_cast<int64_t>(i)), specials[i]);
  // Frequent words become single tokens.
  EXPECT_EQ(tok->tokenize("Gender is"), (std::vector<std::string>{"gender", "is"}));
  EXPECT_EQ(tok->tokenize("Professional"), (std::vector<std::string>{"professional"}));
  for (const auto& t : test_util::movie_texts(50, 9)) {
    auto ids = tok->encode(t);
    EXPECT_EQ(ids.front(), tok->cls_id());
    EXPECT_EQ(ids.back(), tok->sep_id());
    for (auto id : ids) EXPECT_NE(id, tok->unk_id()) << t;
    // Lower-cased, accents stripped, BERT spacing around punctuation.
    EXPECT_EQ(tok->decode(ids), joined(tok->basic_tokenize(t))) << t;
  }
  EXPECT_EQ(tok->decode(tok->encode("Title is Léon: The Professional (1994).")),
            "title is leon : the professional ( 1994 ) .");
  // Deterministic.
  EXPECT_EQ(vocab_of(*movie_tokenizer(300)), vocab_of(*tok));
}

TEST(WordPieceTrainer, UnkOnlyForUnseenCharacters) {
  WordPieceTrainerOptions opt;
  opt.vocab_size = 1000;
  WordPieceTrainer trainer(opt);
  trainer.add_text("hug hug pug! 東京 東京", 3);
  EXPECT_EQ(trainer.distinct_words(), 5u);  // hug pug ! 東 京
  auto tok = trainer.train();
  // Never-seen words of seen characters, even with a letter that only started
  // words in the corpus (p, h) now inside one.
  EXPECT_EQ(tok->tokenize("uhp gup"), (std::vector<std::string>{"u", "##h", "##p", "g", "##u", "##p"}));
  // One unseen character makes its whole word [UNK] (BERT rule).
  EXPECT_EQ(tok->tokenize("hug hugz 京!"), (std::vector<std::string>{"hug", "[UNK]", "京", "!"}));
  // Punctuation and CJK characters are always words of their own: no "##" form.
  EXPECT_TRUE(tok->has_token("東"));
  EXPECT_FALSE(tok->has_token("##東"));
  EXPECT_TRUE(tok->has_token("!"));
  EXPECT_FALSE(tok->has_token("##!"));
  // Special tokens in the text are not counted as words.
  WordPieceTrainer t2(opt);
  t2.add_text("[CLS] hug [SEP] hug [MASK]");
  EXPECT_EQ(t2.distinct_words(), 1u);
}

TEST(WordPieceTrainer, CaseKeptWhenNotLowercasing) {
  WordPieceTrainerOptions opt;
  opt.vocab_size = 1000;
  opt.lowercase = false;
  WordPieceTrainer trainer(opt);
  trainer.add_text("Léon Léon léon", 2);
  EXPECT_EQ(trainer.distinct_words(), 2u);
  auto tok = trainer.train();
  EXPECT_FALSE(tok->options().lowercase);
  EXPECT_EQ(tok->tokenize("Léon léon"), (std::vector<std::string>{"Léon", "léon"}));
  EXPECT_EQ(tok->tokenize("leon"), (std::vector<std::string>{"[UNK]"}));  // no plain "e" was seen
}

TEST(WordPieceTrainer, SavesAndLoadsBack) {
  auto tok = movie_tokenizer(280);
  auto dir = std::filesystem::temp_directory_path() / ("cp_wordpiece_" + std::to_string(::getpid()));
  tok->save(dir.string());
  auto back = load_tokenizer(dir.string());
  EXPECT_EQ(back->kind(), "wordpiece");
  EXPECT_EQ(back->vocab_size(), tok->vocab_size());
  for (const auto& t : test_util::movie_texts(30, 5)) EXPECT_EQ(back->encode(t), tok->encode(t));
  for (const char* t : {"a [MASK] b", "HUGZ 東京 unseen-ish Wörds!", "[CLS]x[SEP]"})
    EXPECT_EQ(back->encode(t), tok->encode(t)) << t;
  EXPECT_EQ(back->mask_id(), tok->mask_id());
  EXPECT_EQ(back->pad_id(), tok->pad_id());
  std::filesystem::remove_all(dir);
}

TEST(WordPieceTrainer, LargeSyntheticCorpus) {
  // ~20k distinct syllable words with Zipf-like counts, to a 3,000 vocabulary.
  std::mt19937 rng(7);
  const char* cons[] = {"b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "st", "tr", "ch"};
  const char* vows[] = {"a", "e", "i", "o", "u", "ai", "ou", "ee"};
  std::set<std::string> seen;
  WordPieceTrainerOptions opt;
  opt.vocab_size = 3000;
  WordPieceTrainer trainer(opt);
  std::vector<std::string> words;
  while (words.size() < 20000) {
    std::string w;
    int n = 1 + static_cast<int>(rng() % 4);
    for (int s = 0; s < n; ++s) w += std::string(cons[rng() % 20]) + vows[rng() % 8];
    if (seen.insert(w).second) words.push_back(w);
  }
  for (size_t r = 0; r < words.size(); ++r) trainer.add_text(words[r], 1 + static_cast<int64_t>(20000 / (r + 1)));
  EXPECT_EQ(trainer.distinct_words(), 20000u);
  auto t0 = std::chrono::steady_clock::now();
  auto tok = trainer.train();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(tok->vocab_size(), 3000);
  auto vocab = vocab_of(*tok);
  std::set<std::string> distinct(vocab.begin(), vocab.end());
  EXPECT_EQ(distinct.size(), 3000u);
  for (size_t r = 0; r < 2000; r += 7)
    for (const auto& t : tok->tokenize(words[r])) EXPECT_NE(t, "[UNK]") << words[r];
  EXPECT_EQ(tok->tokenize(words[0]).size(), 1u);  // the most frequent word is one token
  RecordProperty("train_seconds", std::to_string(secs));
}

TEST(WordPieceTrainer, RejectsBadOptions) {
  auto with = [](auto edit) {
    WordPieceTrainerOptions o;
    edit(o);
    return o;
  };
  EXPECT_THROW(WordPieceTrainer(with([](auto& o) { o.vocab_size = 5; })), Error);  // == number of specials
  EXPECT_NO_THROW(WordPieceTrainer(with([](auto& o) { o.vocab_size = 6; })));
  EXPECT_THROW(WordPieceTrainer(with([](auto& o) { o.min_frequency = 0; })), Error);
  EXPECT_THROW(WordPieceTrainer(with([](auto& o) { o.max_input_chars_per_word = 0; })), Error);
  EXPECT_THROW(WordPieceTrainer(with([](auto& o) { o.special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"}; })), Error);
  EXPECT_THROW(WordPieceTrainer(with([](auto& o) { o.special_tokens.push_back("[PAD]"); })), Error);
  EXPECT_THROW(WordPieceTrainer(with([](auto& o) { o.special_tokens.push_back("a b"); })), Error);
  try {
    WordPieceTrainer(with([](auto& o) { o.special_tokens = {"<pad>", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}; }));
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[PAD]"), std::string::npos) << e.what();
  }
  WordPieceTrainer ok;
  EXPECT_THROW(ok.add_text("x", -1), Error);
  ok.add_text("x", 0);
  EXPECT_EQ(ok.distinct_words(), 0u);
  // Extra special tokens are reserved entries after the BERT ones.
  auto extra = with([](auto& o) {
    o.special_tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]"};
    o.min_frequency = 1;
  });
  WordPieceTrainer t(extra);
  t.add_text("ab ab");
  auto tok = t.train();
  EXPECT_EQ(tok->id_to_token(5), "[unused0]");
  EXPECT_EQ(tok->vocab_size(), 6 + 4 + 1);  // a b ##a ##b, then "ab"
  EXPECT_EQ(tok->id_to_token(10), "ab");
}
