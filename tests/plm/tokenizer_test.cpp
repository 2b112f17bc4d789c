// Tokenizer parity with HF's slow RobertaTokenizer / BertTokenizer on every
// fixture sentence, plus unit checks of the pieces (pre-tokenization,
// WordPiece, special tokens, padding/truncation, the piece cache).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "plm/tokenizer/bpe_tokenizer.h"
#include "plm/tokenizer/tokenizer.h"
#include "plm/tokenizer/wordpiece_tokenizer.h"
#include "plm_fixtures.h"

using namespace clickprompt;
using namespace clickprompt::plm;

namespace {

struct Case {
  std::string text;
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
};

std::vector<Case> read_cases(const std::string& path) {
  std::vector<Case> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    out.push_back({j["text"].get<std::string>(), j["ids"].get<std::vector<int64_t>>(),
                   j["tokens"].get<std::vector<std::string>>()});
  }
  return out;
}

std::shared_ptr<BpeTokenizer> roberta() {
  static auto tok = BpeTokenizer::from_files(fixtures::vocab_dir() + "/roberta-base/vocab.json",
                                             fixtures::vocab_dir() + "/roberta-base/merges.txt");
  return tok;
}

std::shared_ptr<WordPieceTokenizer> bert() {
  static auto tok = WordPieceTokenizer::from_vocab_txt(fixtures::vocab_dir() + "/bert-base-uncased/vocab.txt");
  return tok;
}

void check_all(const Tokenizer& tok, const std::string& file) {
  auto cases = read_cases(fixtures::fixture_dir() + "/" + file);
  ASSERT_GT(cases.size(), 50u);
  int same = 0;
  for (const auto& c : cases) {
    auto ids = tok.encode(c.text);
    EXPECT_EQ(ids, c.ids) << "text: " << c.text;
    std::vector<std::string> tokens;
    for (auto id : ids) tokens.push_back(tok.id_to_token(id));
    EXPECT_EQ(tokens, c.tokens) << "text: " << c.text;
    same += ids == c.ids;
  }
  EXPECT_EQ(same, static_cast<int>(cases.size()));
  std::printf("[ parity ] %s: %d/%zu identical\n", file.c_str(), same, cases.size());
}

}  // namespace

TEST(TokenizerParity, RobertaAllFixtureSentences) {
  CP_REQUIRE_FIXTURE("tokenizer_roberta.jsonl");
  check_all(*roberta(), "tokenizer_roberta.jsonl");
}

TEST(TokenizerParity, BertAllFixtureSentences) {
  CP_REQUIRE_FIXTURE("tokenizer_bert.jsonl");
  check_all(*bert(), "tokenizer_bert.jsonl");
}

TEST(TokenizerParity, LoadTokenizerPicksTheFormat) {
  CP_REQUIRE_FIXTURE("../plm-vocab/roberta-base/vocab.json");
  auto r = load_tokenizer(fixtures::vocab_dir() + "/roberta-base");
  EXPECT_EQ(r->kind(), "bpe");
  EXPECT_EQ(r->encode("Hello world"), (std::vector<int64_t>{0, 31414, 232, 2}));
  auto b = load_tokenizer(fixtures::vocab_dir() + "/bert-base-uncased");
  EXPECT_EQ(b->kind(), "wordpiece");
  EXPECT_EQ(b->encode("hello world"), (std::vector<int64_t>{101, 7592, 2088, 102}));
}

TEST(BpeTokenizer, PreTokenizeWhitespaceLookahead) {
  CP_REQUIRE_FIXTURE("../plm-vocab/roberta-base/vocab.json");
  auto t = roberta();
  // `\s+(?!\S)` gives the last space of a run to the following word.
  EXPECT_EQ(t->pre_tokenize("a   b"), (std::vector<std::string>{"a", "  ", " b"}));
  EXPECT_EQ(t->pre_tokenize("a \tb"), (std::vector<std::string>{"a", " ", "\t", "b"}));
  EXPECT_EQ(t->pre_tokenize("end  "), (std::vector<std::string>{"end", "  "}));
  EXPECT_EQ(t->pre_tokenize("it's 12ab!!"), (std::vector<std::string>{"it", "'s", " 12", "ab", "!!"}));
}

TEST(BpeTokenizer, DecodeRoundTrip) {
  CP_REQUIRE_FIXTURE("../plm-vocab/roberta-base/vocab.json");
  auto t = roberta();
  std::string s = "Misérables, Les (1995) 😀 and   spaces\n";
  EXPECT_EQ(t->decode(t->encode(s)), s);
}

TEST(BpeTokenizer, InvalidUtf8IsReplaced) {
  CP_REQUIRE_FIXTURE("../plm-vocab/roberta-base/vocab.json");
  auto t = roberta();
  EXPECT_EQ(t->encode(std::string("Mis\xe9rables")), t->encode("Mis\xef\xbf\xbdrables"));
}

TEST(WordPieceTokenizer, BasicTokenizer) {
  CP_REQUIRE_FIXTURE("../plm-vocab/bert-base-uncased/vocab.txt");
  auto t = bert();
  EXPECT_EQ(t->basic_tokenize("Héllo,World! 東京"),
            (std::vector<std::string>{"hello", ",", "world", "!", "東", "京"}));
  std::vector<std::string> out;
  t->wordpiece(std::string(101, 'a'), out);
  EXPECT_EQ(out, (std::vector<std::string>{"[UNK]"}));
}

TEST(Tokenizer, BatchPaddingAndTruncation) {
  CP_REQUIRE_FIXTURE("../plm-vocab/bert-base-uncased/vocab.txt");
  auto t = bert();
  EncodeOptions opt;
  auto b = t->encode_batch({"hello world", "hi"}, opt);
  EXPECT_EQ(b.batch, 2);
  EXPECT_EQ(b.length, 4);
  EXPECT_EQ(b.input_ids, (std::vector<int64_t>{101, 7592, 2088, 102, 101, 7632, 102, 0}));
  EXPECT_EQ(b.attention_mask, (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 0}));
  opt.max_length = 3;
  opt.padding = Padding::MaxLength;
  b = t->encode_batch({"hello world", "a"}, opt);
  EXPECT_EQ(b.length, 3);
  EXPECT_EQ(b.input_ids, (std::vector<int64_t>{101, 7592, 102, 101, 1037, 102}));
  opt.max_length = 0;
  EXPECT_THROW(t->encode_batch({"x"}, opt), Error);
}

TEST(Tokenizer, PieceCache) {
  CP_REQUIRE_FIXTURE("../plm-vocab/roberta-base/vocab.json");
  auto t = roberta();
  t->clear_cache();
  auto a = t->encode_piece(" Gender is F.");
  EXPECT_EQ(t->cache_size(), 1u);
  auto b = t->encode_piece(" Gender is F.");
  EXPECT_EQ(a, b);
  EXPECT_EQ(t->cache_size(), 1u);
  EXPECT_EQ(a, t->encode(" Gender is F.", false));
}

TEST(Tokenizer, SpecialTokenIds) {
  CP_REQUIRE_FIXTURE("../plm-vocab/roberta-base/vocab.json");
  EXPECT_EQ(roberta()->mask_id(), 50264);
  EXPECT_EQ(roberta()->pad_id(), 1);
  EXPECT_TRUE(roberta()->is_special_id(0));
  EXPECT_FALSE(roberta()->is_special_id(4));
  EXPECT_EQ(bert()->mask_id(), 103);
  EXPECT_EQ(bert()->pad_id(), 0);
  EXPECT_THROW(bert()->id_to_token(1 << 20), Error);
}

TEST(Tokenizer, CachedFieldPiecesAssembleToTheFullText) {
  CP_REQUIRE_FIXTURE("tokenizer_roberta.jsonl");
  // The 12 CTR sentences: "User ID is 1. Gender is F. ..." split before every
  // " <Field> is" gives pieces whose ids concatenate to the full encoding.
  auto cases = read_cases(fixtures::fixture_dir() + "/tokenizer_roberta.jsonl");
  std::vector<std::shared_ptr<Tokenizer>> toks = {roberta(), bert()};
  int checked = 0;
  for (const auto& c : cases) {
    if (c.text.rfind("User ID is", 0) != 0) continue;
    std::vector<std::string> pieces;
    size_t start = 0;
    for (const char* f : {" Gender is", " Age is", " Job is", " Zipcode is", " Movie ID is", " Title is", " Film genre is"}) {
      size_t p = c.text.find(f, start);
      ASSERT_NE(p, std::string::npos);
      pieces.push_back(c.text.substr(start, p - start));
      start = p;
    }
    pieces.push_back(c.text.substr(start));
    for (const auto& tok : toks) {
      std::vector<int64_t> ids;
      for (const auto& p : pieces) {
        auto v = tok->encode_piece(p);
        ids.insert(ids.end(), v.begin(), v.end());
      }
      EXPECT_EQ(tok->with_special_tokens(ids), tok->encode(c.text)) << c.text;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

TEST(TokenizerParity, TokenizerJsonFormatsGiveTheSameIds) {
  CP_REQUIRE_FIXTURE("tokenizer_roberta.jsonl");
  namespace fsys = std::filesystem;
  auto dir = fsys::temp_directory_path() / ("cp_tokjson_" + std::to_string(::getpid()));
  fsys::create_directories(dir / "r");
  fsys::create_directories(dir / "b");
  {
    // An HF fast-tokenizer file built from the same roberta-base files.
    auto r = roberta();
    nlohmann::json vocab = nlohmann::json::object();
    for (int64_t i = 0; i < r->vocab_size(); ++i) vocab[r->id_to_token(i)] = i;
    nlohmann::json merges = nlohmann::json::array();
    for (const auto& [a, b] : r->merges()) merges.push_back(a + " " + b);
    nlohmann::json j = {
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"unk_token", nullptr}}},
        {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
        {"post_processor", {{"type", "RobertaProcessing"}, {"sep", {"</s>", 2}}, {"cls", {"<s>", 0}}}},
        {"added_tokens", {{{"id", 50264}, {"content", "<mask>"}, {"lstrip", true}, {"rstrip", false}, {"special", true}}}}};
    std::ofstream(dir / "r" / "tokenizer.json") << j.dump();
  }
  {
    auto b = bert();
    nlohmann::json vocab = nlohmann::json::object();
    for (int64_t i = 0; i < b->vocab_size(); ++i) vocab[b->id_to_token(i)] = i;
    nlohmann::json j = {
        {"model", {{"type", "WordPiece"}, {"vocab", vocab}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
                   {"max_input_chars_per_word", 100}}},
        {"normalizer", {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
                        {"strip_accents", nullptr}, {"lowercase", true}}},
        {"post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", 102}}, {"cls", {"[CLS]", 101}}}}};
    std::ofstream(dir / "b" / "tokenizer.json") << j.dump();
  }
  auto rj = load_tokenizer((dir / "r").string());
  auto bj = load_tokenizer((dir / "b").string());
  for (const auto& c : read_cases(fixtures::fixture_dir() + "/tokenizer_roberta.jsonl"))
    EXPECT_EQ(rj->encode(c.text), c.ids) << c.text;
  for (const auto& c : read_cases(fixtures::fixture_dir() + "/tokenizer_bert.jsonl"))
    EXPECT_EQ(bj->encode(c.text), c.ids) << c.text;
  fsys::remove_all(dir);
}
