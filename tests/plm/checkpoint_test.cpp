// Checkpoint I/O: safetensors reader/writer validation, torch .bin loading,
// name mapping (prefix-less base checkpoints, gamma/beta, tied decoder),
// missing/unexpected/shape errors, and the save -> load round trip.
#include <gtest/gtest.h>

#include "test_util.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/io.h"
#include "plm/checkpoint.h"
#include "plm/encoder.h"
#include "parity_util.h"

using namespace clickprompt;
using namespace clickprompt::plm;
using clickprompt::test_util::error_of;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("cp_plm_test_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

HfConfig tiny_config(const std::string& type) {
  HfConfig c = type == "roberta" ? HfConfig::roberta_base() : HfConfig::bert_base_uncased();
  c.vocab_size = 50;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 24;
  c.max_position_embeddings = 40;
  return c;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST(Safetensors, WriteReadRoundTripAllDtypes) {
  TempDir tmp;
  StateDict sd;
  sd["a.f32"] = torch::randn({3, 4});
  sd["b.i64"] = torch::arange(7, torch::kLong);
  sd["c.bf16"] = torch::randn({5}).to(torch::kBFloat16);
  sd["d.scalar"] = torch::tensor(3.5);
  sd["e.empty"] = torch::zeros({0, 4});
  write_safetensors(tmp / "x.safetensors", sd);
  auto back = read_safetensors(tmp / "x.safetensors");
  ASSERT_EQ(back.size(), sd.size());
  for (const auto& [k, v] : sd) {
    EXPECT_EQ(back.at(k).scalar_type(), v.scalar_type()) << k;
    EXPECT_TRUE(torch::equal(back.at(k), v)) << k;
  }
  // The header length is a multiple of 8 and the layout is the documented one.
  auto bytes = core::read_file(tmp / "x.safetensors");
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_NE(bytes.find("\"__metadata__\":{\"format\":\"pt\"}"), std::string::npos);
}

TEST(Safetensors, CorruptFilesGiveClearErrors) {
  TempDir tmp;
  StateDict sd;
  sd["w"] = torch::randn({8, 8});
  write_safetensors(tmp / "ok.safetensors", sd);
  auto good = core::read_file(tmp / "ok.safetensors");

  write_bytes(tmp / "short.safetensors", good.substr(0, 5));
  EXPECT_NE(error_of([&] { read_safetensors(tmp / "short.safetensors"); }).find("truncated"), std::string::npos);

  write_bytes(tmp / "trunc.safetensors", good.substr(0, good.size() - 10));
  auto msg = error_of([&] { read_safetensors(tmp / "trunc.safetensors"); });
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("trunc.safetensors"), std::string::npos) << msg;

  std::string badlen = good;
  uint64_t huge = 1ull << 40;
  std::memcpy(badlen.data(), &huge, 8);
  write_bytes(tmp / "badlen.safetensors", badlen);
  EXPECT_NE(error_of([&] { read_safetensors(tmp / "badlen.safetensors"); }).find("header length"), std::string::npos);

  std::string badjson = good;
  badjson[8] = '[';
  write_bytes(tmp / "badjson.safetensors", badjson);
  EXPECT_NE(error_of([&] { read_safetensors(tmp / "badjson.safetensors"); }).find("JSON"), std::string::npos);

  std::string extra = good + std::string(8, '\0');
  write_bytes(tmp / "extra.safetensors", extra);
  EXPECT_NE(error_of([&] { read_safetensors(tmp / "extra.safetensors"); }).find("cover"), std::string::npos);
  EXPECT_THROW(read_safetensors(tmp / "absent.safetensors"), Error);
}

TEST(TorchBin, TruncatedAndForeignFilesGiveClearErrors) {
  CP_REQUIRE_FIXTURE("roberta_tiny/pytorch_model.bin");
  TempDir tmp;
  auto good = core::read_file(fixtures::fixture_dir() + "/roberta_tiny/pytorch_model.bin");
  write_bytes(tmp / "trunc.bin", good.substr(0, good.size() / 2));
  auto msg = error_of([&] { read_torch_bin(tmp / "trunc.bin"); });
  EXPECT_NE(msg.find("trunc.bin"), std::string::npos) << msg;
  write_bytes(tmp / "text.bin", "hello, not a checkpoint");
  EXPECT_NE(error_of([&] { read_torch_bin(tmp / "text.bin"); }).find("zip"), std::string::npos);
}

TEST(TorchBin, FixtureKeysAndTiedStorage) {
  CP_REQUIRE_FIXTURE("bert_tiny/pytorch_model.bin");
  auto exp = fixtures::load_expected("bert");
  auto sd = read_torch_bin(fixtures::fixture_dir() + "/bert_tiny/pytorch_model.bin");
  std::vector<std::string> keys;
  for (const auto& kv : sd) keys.push_back(kv.first);
  EXPECT_EQ(keys, exp.meta["keys_in_pytorch_model_bin"].get<std::vector<std::string>>());
  EXPECT_TRUE(torch::equal(sd.at("cls.predictions.decoder.weight"), sd.at("bert.embeddings.word_embeddings.weight")));
  auto st = read_safetensors(fixtures::fixture_dir() + "/bert_tiny/model.safetensors");
  for (const auto& [k, v] : st) EXPECT_TRUE(torch::equal(v, sd.at(k))) << k;
}

TEST(Checkpoint, MissingUnexpectedAndShapeErrorsNameTheTensors) {
  auto cfg = tiny_config("roberta");
  MaskedLm model(cfg);
  auto sd = state_dict(*model);
  sd.erase("roberta.encoder.layer.1.output.dense.weight");
  auto msg = error_of([&] { load_state_dict(*model, sd, "ckpt"); });
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;
  EXPECT_NE(msg.find("roberta.encoder.layer.1.output.dense.weight"), std::string::npos) << msg;

  sd = state_dict(*model);
  sd["roberta.encoder.layer.0.attention.self.query.weight"] = torch::zeros({3, 3});
  msg = error_of([&] { load_state_dict(*model, sd, "ckpt"); });
  EXPECT_NE(msg.find("shape mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("attention.self.query.weight"), std::string::npos) << msg;

  sd = state_dict(*model);
  sd["something.else"] = torch::zeros({2});
  auto rep = load_state_dict(*model, sd, "ckpt");
  EXPECT_EQ(rep.unexpected, std::vector<std::string>{"something.else"});
  LoadOptions strict;
  strict.allow_unexpected = false;
  EXPECT_THROW(load_state_dict(*model, sd, "ckpt", strict), Error);
}

TEST(Checkpoint, BaseModelCheckpointAndOldNames) {
  auto cfg = tiny_config("bert");
  MaskedLm src(cfg);
  init_weights(src, 0.02, 7);
  // A BertModel checkpoint: no "bert." prefix, LayerNorm gamma/beta, a pooler.
  StateDict base;
  for (const auto& [k, v] : state_dict(*src)) {
    if (k.rfind("bert.", 0) != 0) continue;
    std::string name = k.substr(5);
    if (name.size() > 16 && name.compare(name.size() - 16, 16, "LayerNorm.weight") == 0)
      name = name.substr(0, name.size() - 6) + "gamma";
    base[name] = v;
  }
  base["pooler.dense.weight"] = torch::zeros({cfg.hidden_size, cfg.hidden_size});
  MaskedLm bare(cfg, /*with_head=*/false);
  auto rep = load_state_dict(*bare, base, "base");
  EXPECT_TRUE(rep.missing.empty()) << rep.summary();
  EXPECT_TRUE(rep.unexpected.empty()) << rep.summary();
  EXPECT_EQ(rep.ignored, std::vector<std::string>{"pooler.dense.weight"});
  auto a = src->named_parameters()["bert.encoder.layer.1.output.LayerNorm.weight"];
  auto b = bare->named_parameters()["bert.encoder.layer.1.output.LayerNorm.weight"];
  EXPECT_TRUE(torch::equal(a, b));
}

TEST(Checkpoint, SaveLoadRoundTripGivesSameOutputs) {
  for (const std::string type : {"roberta", "bert"}) {
    TempDir tmp;
    auto cfg = tiny_config(type);
    MaskedLm model(cfg);
    init_weights(model, 0.5, 3);
    model->eval();
    save_pretrained(model, tmp.path.string());
    EXPECT_TRUE(core::file_exists(tmp / "config.json"));
    EXPECT_FALSE(core::file_exists(tmp / "model.safetensors.tmp." + std::to_string(::getpid())));
    LoadReport rep;
    auto back = load_pretrained(tmp.path.string(), torch::kCPU, true, &rep);
    EXPECT_TRUE(rep.missing.empty() && rep.unexpected.empty()) << rep.summary();
    EXPECT_EQ(back->config().to_json(), cfg.to_json());
    torch::NoGradGuard ng;
    EncoderInput in;
    in.input_ids = torch::randint(3, cfg.vocab_size, {2, 7}, torch::kLong);
    in.attention_mask = torch::ones({2, 7}, torch::kLong);
    auto o1 = model->encode(in), o2 = back->encode(in);
    EXPECT_TRUE(torch::equal(o1.last_hidden_state, o2.last_hidden_state)) << type;
    EXPECT_TRUE(torch::equal(model->mlm_logits(o1.last_hidden_state), back->mlm_logits(o2.last_hidden_state))) << type;
  }
}

TEST(Checkpoint, FixtureRoundTrip) {
  CP_REQUIRE_FIXTURE("roberta_tiny/model.safetensors");
  TempDir tmp;
  auto model = load_pretrained(fixtures::fixture_dir() + "/roberta_tiny");
  save_pretrained(model, tmp.path.string());
  auto sd_orig = read_safetensors(fixtures::fixture_dir() + "/roberta_tiny/model.safetensors");
  auto sd_new = read_safetensors(tmp / "model.safetensors");
  for (const auto& [k, v] : sd_new) EXPECT_TRUE(torch::equal(v, sd_orig.at(k))) << k;
  EXPECT_EQ(sd_new.size() + 1, sd_orig.size());  // position_ids is not written
  auto back = load_pretrained(tmp.path.string());
  auto exp = fixtures::load_expected("roberta");
  torch::NoGradGuard ng;
  EncoderInput in;
  in.input_ids = exp.t.at("input_ids");
  in.attention_mask = exp.t.at("attention_mask");
  EXPECT_TRUE(torch::equal(back->encode(in).last_hidden_state, model->encode(in).last_hidden_state));
}

TEST(Checkpoint, UntiedDecoderIsKept) {
  TempDir tmp;
  auto cfg = tiny_config("roberta");
  cfg.tie_word_embeddings = false;
  MaskedLm model(cfg);
  init_weights(model, 0.3, 11);
  auto names = model->named_parameters();
  ASSERT_TRUE(names.contains("lm_head.decoder.weight"));
  save_pretrained(model, tmp.path.string());
  auto back = load_pretrained(tmp.path.string());
  EXPECT_TRUE(torch::equal(back->named_parameters()["lm_head.decoder.weight"], names["lm_head.decoder.weight"]));
}

TEST(HfConfig, ParseValidateAndErrors) {
  auto c = HfConfig::from_json(R"({"model_type":"roberta","hidden_size":64,"num_attention_heads":4,
      "num_hidden_layers":3,"intermediate_size":128,"vocab_size":100,"pad_token_id":1,"foo":{"bar":1}})");
  EXPECT_TRUE(c.is_roberta());
  EXPECT_EQ(c.head_dim(), 16);
  EXPECT_NE(c.to_json().find("\"foo\""), std::string::npos);
  EXPECT_THROW(HfConfig::from_json(R"({"hidden_size":30,"num_attention_heads":4})"), Error);
  EXPECT_THROW(HfConfig::from_json(R"({"model_type":"gpt2"})"), Error);
  EXPECT_THROW(HfConfig::from_json(R"({"hidden_size":"big"})"), Error);
  EXPECT_THROW(HfConfig::from_json("not json"), Error);
}
