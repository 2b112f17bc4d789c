// Behaviour every registered CTR model must have: shapes, gradients, capacity
// to overfit a small batch, determinism, config checking. Parameterized over
// model_names(), so a model added to the registry is covered automatically
// (with its default hyper-parameters unless a small config is listed below).
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include <map>

#include "core/error.h"
#include "core/precision.h"
#include "ctr/layers/cross.h"
#include "ctr/layers/mlp.h"
#include "ctr/registry.h"

namespace clickprompt::ctr {
namespace {

// Small but complete configurations (every component switched on) to keep the tests fast.
const std::map<std::string, std::string>& small_configs() {
  static const std::map<std::string, std::string> c = {
      {"fm", "{}"},
      {"dnn", "{dnn_hidden_units: [16, 16]}"},
      {"dcnv2", "{dnn_hidden_units: [16, 16], num_cross_layers: 2}"},
      {"deepfm", "{dnn_hidden_units: [16, 16]}"},
      {"xdeepfm", "{dnn_hidden_units: [16, 16], cin_hidden_units: [4, 4, 3]}"},
      {"ipnn", "{dnn_hidden_units: [16, 16]}"},
      {"dcn", "{dnn_hidden_units: [16, 16], num_cross_layers: 2}"},
      {"autoint", "{attention_layers: 2, num_heads: 2, attention_dim: 4, dnn_hidden_units: [16]}"},
      {"fignn", "{gnn_layers: 2}"},
      {"fgcnn",
       "{channels: [3, 4], kernel_heights: [3, 3], pooling_sizes: [2, 2], recombined_channels: [2, 1],"
       " dnn_hidden_units: [16, 16]}"},
  };
  return c;
}

// F fields; field 0 has `first_size` values, the others `size` each.
FeatureInfo make_info(int F, int64_t first_size = 10, int64_t size = 7) {
  FeatureInfo info;
  info.num_fields = F;
  int64_t off = 0;
  for (int f = 0; f < F; ++f) {
    int64_t n = f == 0 ? first_size : size;
    info.field_offsets.push_back(off);
    info.field_sizes.push_back(n);
    info.field_names.push_back("f" + std::to_string(f));
    off += n;
  }
  info.vocab_size = off;
  return info;
}

torch::Tensor random_ids(const FeatureInfo& info, int64_t B) {
  auto ids = torch::empty({B, info.num_fields}, torch::kLong);
  for (int f = 0; f < info.num_fields; ++f)
    ids.select(1, f).copy_(torch::randint(info.field_sizes[f], {B}, torch::kLong) + info.field_offsets[f]);
  return ids;
}

// sparse = false: dense embedding gradients, so a plain torch::optim::Adam can train the model.
core::Params small_params(const std::string& model, int64_t dim = -1, bool sparse = false) {
  auto it = small_configs().find(model);
  YAML::Node node = YAML::Load(it == small_configs().end() ? "{}" : it->second);
  node["embedding_init_std"] = 0.05;
  node["sparse_embedding"] = sparse;
  if (dim > 0) node["embedding_dim"] = dim;
  return core::Params(node, "model " + model);
}

class ModelZoo : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { at::set_num_threads(1); }
};

TEST_P(ModelZoo, ShapesForSeveralFieldCountsAndEmbeddingSizes) {
  torch::manual_seed(1);
  for (int F : {2, 3, 8}) {
    for (int64_t D : {4, 8}) {
      SCOPED_TRACE("F=" + std::to_string(F) + " D=" + std::to_string(D));
      auto info = make_info(F);
      auto model = create_model(GetParam(), info, small_params(GetParam(), D));
      auto ids = random_ids(info, 5);
      auto q = model->representation(ids);
      ASSERT_EQ(q.dim(), 2);
      EXPECT_EQ(q.size(0), 5);
      EXPECT_EQ(q.size(1), model->representation_dim());
      auto y = model->logit(q);
      ASSERT_EQ(y.dim(), 1);
      EXPECT_EQ(y.size(0), 5);
      EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
      model->eval();  // forward == logit(representation) (eval: BatchNorm uses running stats both times)
      EXPECT_TRUE(torch::allclose(model->forward(ids), model->logit(model->representation(ids))));
    }
  }
}

TEST_P(ModelZoo, DefaultHyperParametersBuildAndRun) {
  torch::manual_seed(2);
  auto info = make_info(8, 20, 9);
  auto model = create_model(GetParam(), info, core::Params(YAML::Load("{}"), "model " + GetParam()));
  auto ids = random_ids(info, 4);
  auto q = model->representation(ids);
  EXPECT_EQ(q.size(1), model->representation_dim());
  auto y = model->logit(q);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({4}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
}

TEST_P(ModelZoo, EveryParameterGetsAGradient) {
  torch::manual_seed(3);
  auto info = make_info(5, 6, 4);
  for (bool sparse : {false, true}) {
    SCOPED_TRACE(sparse ? "sparse embedding gradients" : "dense embedding gradients");
    auto model = create_model(GetParam(), info, small_params(GetParam(), 6, sparse));
    auto ids = random_ids(info, 32);
    auto labels = torch::randint(2, {32}).to(torch::kFloat);
    auto loss = torch::binary_cross_entropy_with_logits(model->forward(ids), labels);
    loss.backward();
    for (const auto& kv : model->named_parameters()) {
      ASSERT_TRUE(kv.value().grad().defined()) << kv.key() << " has no gradient";
      auto g = kv.value().grad().is_sparse() ? kv.value().grad().to_dense() : kv.value().grad();
      EXPECT_GT(g.abs().sum().item<double>(), 0.0) << kv.key() << " has an all-zero gradient";
    }
  }
  auto model = create_model(GetParam(), info, small_params(GetParam(), 6));
  torch::binary_cross_entropy_with_logits(model->forward(random_ids(info, 8)), torch::ones({8})).backward();
  // The embedding parameters are real parameters of the model.
  auto emb = model->embedding_parameters();
  ASSERT_FALSE(emb.empty());
  for (const auto& t : emb) EXPECT_TRUE(t.grad().defined());
}

// train.precision: bf16. Under autocast every model trains: the logit stays close to
// the float32 one, each parameter keeps float32 and gets a float32 gradient, and the
// MLP / cross towers run wholly in bfloat16 (their output is bfloat16).
TEST_P(ModelZoo, TrainsUnderBf16Autocast) {
  torch::manual_seed(5);
  auto info = make_info(5, 6, 4);
  auto model = create_model(GetParam(), info, small_params(GetParam(), 8));
  auto ids = random_ids(info, 32);
  auto labels = torch::randint(2, {32}).to(torch::kFloat);
  model->eval();  // no dropout: the two passes must see the same network
  auto y32 = model->forward(ids);
  torch::Tensor y16;
  {
    core::AutocastGuard guard(core::Precision::BFloat16, torch::kCPU);
    y16 = model->forward(ids).to(torch::kFloat);
  }
  ASSERT_TRUE(torch::isfinite(y16).all().item<bool>());
  EXPECT_LT((y16 - y32).abs().max().item<double>(), 0.05 + 0.05 * y32.abs().max().item<double>());
  model->train();
  {
    core::AutocastGuard guard(core::Precision::BFloat16, torch::kCPU);
    torch::binary_cross_entropy_with_logits(model->forward(ids).to(torch::kFloat), labels).backward();
  }
  for (const auto& kv : model->named_parameters()) {
    EXPECT_EQ(kv.value().scalar_type(), torch::kFloat) << kv.key();
    ASSERT_TRUE(kv.value().grad().defined()) << kv.key() << " has no gradient";
    EXPECT_EQ(kv.value().grad().scalar_type(), torch::kFloat) << kv.key();
  }
}

TEST(Layers, MlpAndCrossTowersRunInTheAutocastDtype) {
  torch::manual_seed(6);
  Mlp mlp(12, MlpOptions{{8, 4}});
  CrossNetV2 cross(12, 2, 0);
  auto x = torch::randn({3, 12});
  EXPECT_EQ(mlp->forward(x).scalar_type(), torch::kFloat);
  EXPECT_EQ(cross->forward(x).scalar_type(), torch::kFloat);
  core::AutocastGuard guard(core::Precision::BFloat16, torch::kCPU);
  EXPECT_EQ(mlp->forward(x).scalar_type(), torch::kBFloat16);
  EXPECT_EQ(cross->forward(x).scalar_type(), torch::kBFloat16);
  EXPECT_EQ(core::to_autocast_dtype(x.to(torch::kLong)).scalar_type(), torch::kLong);
}

TEST_P(ModelZoo, OverfitsASmallBatch) {
  torch::manual_seed(4);
  const int64_t N = 64;
  auto info = make_info(4, N, 5);
  auto model = create_model(GetParam(), info, small_params(GetParam(), 8));
  auto ids = random_ids(info, N);
  ids.select(1, 0).copy_(torch::arange(N));  // one id per sample: memorizable
  auto labels = torch::randint(2, {N}).to(torch::kFloat);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(0.02));
  double first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    auto loss = torch::binary_cross_entropy_with_logits(model->forward(ids), labels);
    loss.backward();
    opt.step();
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  EXPECT_NEAR(first, std::log(2.0), 0.2);
  EXPECT_LT(last, 0.1) << "BCE after 200 Adam steps on 64 samples (started at " << first << ")";
}

TEST_P(ModelZoo, SameSeedSameResult) {
  auto info = make_info(4, 9, 5);
  auto run = [&] {
    torch::manual_seed(11);
    auto model = create_model(GetParam(), info, small_params(GetParam(), 8));
    auto ids = random_ids(info, 16);
    auto labels = torch::randint(2, {16}).to(torch::kFloat);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(0.01));
    for (int s = 0; s < 3; ++s) {
      opt.zero_grad();
      torch::binary_cross_entropy_with_logits(model->forward(ids), labels).backward();
      opt.step();
    }
    return torch::cat({model->representation(ids).flatten(), model->forward(ids)}).detach();
  };
  auto a = run(), b = run();
  EXPECT_TRUE(torch::equal(a, b));
  torch::manual_seed(12);  // and a different seed gives a different model
  auto other = create_model(GetParam(), info, small_params(GetParam(), 8));
  torch::manual_seed(11);
  auto same = create_model(GetParam(), info, small_params(GetParam(), 8));
  auto pa = other->parameters(), pb = same->parameters();
  bool differs = false;
  for (size_t i = 0; i < pa.size(); ++i) differs = differs || !torch::equal(pa[i], pb[i]);
  EXPECT_TRUE(differs);
}

TEST_P(ModelZoo, RejectsUnknownHyperParameterWithSuggestion) {
  auto info = make_info(3);
  YAML::Node node = YAML::Load(small_configs().count(GetParam()) ? small_configs().at(GetParam()) : "{}");
  node["embeding_dim"] = 8;
  try {
    create_model(GetParam(), info, core::Params(node, "model " + GetParam()));
    FAIL() << "a misspelt key was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("embeding_dim"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("did you mean 'embedding_dim'"), std::string::npos) << e.what();
  }
}

TEST_P(ModelZoo, NameIsCaseInsensitive) {
  auto name = GetParam();
  for (auto& c : name) c = static_cast<char>(std::toupper(c));
  EXPECT_TRUE(has_model(name));
}

INSTANTIATE_TEST_SUITE_P(AllModels, ModelZoo, ::testing::ValuesIn(model_names()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST(Registry, HasAllTenModelsOfThePaper) {
  for (const char* m : {"fm", "dnn", "deepfm", "xdeepfm", "ipnn", "dcn", "autoint", "fignn", "fgcnn", "dcnv2"})
    EXPECT_TRUE(has_model(m)) << m;
}

TEST(Registry, UnknownModelSuggestsNearest) {
  auto info = make_info(3);
  try {
    create_model("deepfn", info, core::Params());
    FAIL() << "unknown model accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'deepfm'"), std::string::npos) << e.what();
  }
  try {
    create_model("autoin", info, core::Params());
    FAIL() << "unknown model accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'autoint'"), std::string::npos) << e.what();
  }
}

TEST(Registry, BadHyperParameterValuesAreErrors) {
  auto info = make_info(4);
  auto make = [&](const std::string& model, const std::string& yaml) {
    create_model(model, info, core::Params(YAML::Load(yaml), "model " + model));
  };
  EXPECT_THROW(make("xdeepfm", "{cin_hidden_units: [3, 4]}"), Error);  // odd size before the last, split half
  EXPECT_NO_THROW(make("xdeepfm", "{cin_hidden_units: [3, 4], cin_split_half: false}"));
  EXPECT_THROW(make("fgcnn", "{kernel_heights: [4, 4, 4, 4]}"), Error);  // even kernel
  EXPECT_THROW(make("fgcnn", "{channels: [3, 4], pooling_sizes: [2, 2, 2]}"), Error);
  EXPECT_NO_THROW(make("fgcnn", "{channels: [3, 4], kernel_heights: 5, pooling_sizes: 2, recombined_channels: 3}"));
  EXPECT_THROW(make("fignn", "{gnn_layers: 0}"), Error);
  EXPECT_THROW(make("autoint", "{num_heads: 0}"), Error);
  EXPECT_THROW(make("dcn", "{num_cross_layers: -1}"), Error);
  EXPECT_THROW(make("deepfm", "{dnn_activation: relux}"), Error);
  EXPECT_THROW(create_model("fignn", make_info(1), core::Params()), Error);  // a graph needs 2 nodes
}

}  // namespace
}  // namespace clickprompt::ctr
