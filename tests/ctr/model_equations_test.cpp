// Whole-model checks: each model's output equals its paper's equation, computed
// here with plain loops from the model's own parameters (looked up by name).
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <yaml-cpp/yaml.h>

#include "ctr/registry.h"

namespace clickprompt::ctr {
namespace {

FeatureInfo info_for(int F, int64_t per_field) {
  FeatureInfo info;
  info.num_fields = F;
  for (int f = 0; f < F; ++f) {
    info.field_offsets.push_back(f * per_field);
    info.field_sizes.push_back(per_field);
    info.field_names.push_back("f" + std::to_string(f));
  }
  info.vocab_size = F * per_field;
  return info;
}

torch::Tensor ids_for(const FeatureInfo& info, int64_t B) {
  auto ids = torch::randint(info.field_sizes[0], {B, info.num_fields}, torch::kLong);
  return ids + torch::tensor(info.field_offsets).unsqueeze(0);
}

CtrModelPtr make(const std::string& name, const FeatureInfo& info, const std::string& yaml) {
  auto node = YAML::Load(yaml);
  node["embedding_init_std"] = 0.3;
  return create_model(name, info, core::Params(node, "model " + name));
}

torch::Tensor param(const CtrModelPtr& m, const std::string& name) {
  auto all = m->named_parameters();
  if (!all.contains(name)) {
    std::string names;
    for (const auto& kv : all) names += kv.key() + " ";
    ADD_FAILURE() << "no parameter " << name << "; have: " << names;
    return {};
  }
  return all[name];
}

TEST(ModelEquations, DeepFMIsFirstOrderPlusPairwisePlusDnn) {
  torch::manual_seed(0);
  const int F = 4, D = 3;
  auto info = info_for(F, 5);
  auto m = make("deepfm", info, "{embedding_dim: 3, dnn_hidden_units: [4]}");
  auto ids = ids_for(info, 6);
  {
    torch::NoGradGuard ng;
    param(m, "linear.weights.weight").normal_();
  }
  auto full = m->forward(ids).detach();
  // Switch the DNN's output weights off: what is left is FM + the shared bias.
  {
    torch::NoGradGuard ng;
    param(m, "out.weight").zero_();
    param(m, "out.bias").fill_(0.25);
  }
  auto fm_only = m->forward(ids).detach();
  auto V = param(m, "embedding.table.weight"), w = param(m, "linear.weights.weight");
  for (int64_t b = 0; b < ids.size(0); ++b) {
    double y = 0.25;
    for (int i = 0; i < F; ++i) y += w[ids[b][i].item<int64_t>()][0].item<double>();
    for (int i = 0; i < F; ++i)
      for (int j = i + 1; j < F; ++j)
        for (int d = 0; d < D; ++d)
          y += V[ids[b][i].item<int64_t>()][d].item<double>() * V[ids[b][j].item<int64_t>()][d].item<double>();
    EXPECT_NEAR(fm_only[b].item<double>(), y, 1e-5);
  }
  EXPECT_FALSE(torch::allclose(full, fm_only));  // the DNN part contributed before
}

TEST(ModelEquations, XDeepFMLinearPartHasUnitWeight) {
  torch::manual_seed(1);
  auto info = info_for(3, 4);
  auto m = make("xdeepfm", info, "{embedding_dim: 2, dnn_hidden_units: [4], cin_hidden_units: [2, 2]}");
  auto ids = ids_for(info, 5);
  torch::NoGradGuard ng;
  param(m, "linear.weights.weight").normal_();
  param(m, "out.weight").zero_();
  param(m, "out.bias").fill_(-0.5);
  auto y = m->forward(ids);
  auto w = param(m, "linear.weights.weight");
  for (int64_t b = 0; b < 5; ++b) {
    double s = -0.5;
    for (int i = 0; i < 3; ++i) s += w[ids[b][i].item<int64_t>()][0].item<double>();
    EXPECT_NEAR(y[b].item<double>(), s, 1e-6);
  }
}

TEST(ModelEquations, DCNRepresentationStartsWithTheCrossNetwork) {
  torch::manual_seed(2);
  const int F = 3, D = 2, d = F * D, L = 2;
  auto info = info_for(F, 4);
  auto m = make("dcn", info, "{embedding_dim: 2, num_cross_layers: 2, dnn_hidden_units: [5]}");
  EXPECT_EQ(m->representation_dim(), d + 5);
  {
    torch::NoGradGuard ng;
    param(m, "cross.bias").normal_();
  }
  auto ids = ids_for(info, 4);
  auto q = m->representation(ids).detach();
  auto E = param(m, "embedding.table.weight"), W = param(m, "cross.weight"), Bc = param(m, "cross.bias");
  for (int64_t b = 0; b < 4; ++b) {
    std::vector<double> x0(d), x(d);
    for (int i = 0; i < F; ++i)
      for (int k = 0; k < D; ++k) x0[i * D + k] = E[ids[b][i].item<int64_t>()][k].item<double>();
    x = x0;
    for (int l = 0; l < L; ++l) {  // x_{l+1} = x0 (x_l^T w_l) + b_l + x_l
      double s = 0;
      for (int k = 0; k < d; ++k) s += x[k] * W[l][k].item<double>();
      for (int k = 0; k < d; ++k) x[k] = x0[k] * s + Bc[l][k].item<double>() + x[k];
    }
    for (int k = 0; k < d; ++k) EXPECT_NEAR(q[b][k].item<double>(), x[k], 1e-5);
  }
}

TEST(ModelEquations, IPNNFirstLayerSeesEmbeddingsAndAllInnerProducts) {
  torch::manual_seed(3);
  const int F = 3, D = 2;
  auto info = info_for(F, 4);
  auto m = make("ipnn", info, "{embedding_dim: 2, dnn_hidden_units: [3], dnn_activation: linear}");
  auto ids = ids_for(info, 4);
  auto q = m->representation(ids).detach();  // = W1 [z ; p] + b1 with a linear activation
  auto E = param(m, "embedding.table.weight"), W1 = param(m, "mlp.net.0.weight"), b1 = param(m, "mlp.net.0.bias");
  ASSERT_EQ(W1.size(1), F * D + F * (F - 1) / 2);
  for (int64_t b = 0; b < 4; ++b) {
    std::vector<double> in;
    for (int i = 0; i < F; ++i)
      for (int k = 0; k < D; ++k) in.push_back(E[ids[b][i].item<int64_t>()][k].item<double>());
    for (int i = 0; i < F; ++i)
      for (int j = i + 1; j < F; ++j) {
        double s = 0;
        for (int k = 0; k < D; ++k) s += E[ids[b][i].item<int64_t>()][k].item<double>() * E[ids[b][j].item<int64_t>()][k].item<double>();
        in.push_back(s);
      }
    for (int h = 0; h < 3; ++h) {
      double s = b1[h].item<double>();
      for (size_t c = 0; c < in.size(); ++c) s += W1[h][int64_t(c)].item<double>() * in[c];
      EXPECT_NEAR(q[b][h].item<double>(), s, 1e-5);
    }
  }
}

TEST(ModelEquations, FiGNNOutputIsAttentionalScoringOfTheNodeStates) {
  torch::manual_seed(4);
  const int F = 3, D = 2;
  auto info = info_for(F, 4);
  auto m = make("fignn", info, "{embedding_dim: 2, gnn_layers: 2}");
  auto ids = ids_for(info, 4);
  auto q = m->representation(ids).detach();
  ASSERT_EQ(q.size(1), F * D);
  auto y = m->logit(q).detach();
  auto w1 = param(m, "scoring.score.weight"), w2 = param(m, "scoring.weight.weight");
  for (int64_t b = 0; b < 4; ++b) {
    double s = 0;
    for (int i = 0; i < F; ++i) {
      double yi = 0, ai = 0;
      for (int k = 0; k < D; ++k) yi += w1[0][k].item<double>() * q[b][i * D + k].item<double>();
      for (int c = 0; c < F * D; ++c) ai += w2[i][c].item<double>() * q[b][c].item<double>();
      s += yi / (1 + std::exp(-ai));
    }
    EXPECT_NEAR(y[b].item<double>(), s, 1e-5);
  }
}

TEST(ModelEquations, AutoIntPlusAddsAParallelDnnToTheRepresentation) {
  auto info = info_for(4, 3);
  auto plain = make("autoint", info, "{embedding_dim: 4, attention_layers: 1, num_heads: 2, attention_dim: 3}");
  EXPECT_EQ(plain->representation_dim(), 4 * 2 * 3);
  auto plus = make("autoint", info,
                   "{embedding_dim: 4, attention_layers: 1, num_heads: 2, attention_dim: 3, dnn_hidden_units: [7]}");
  EXPECT_EQ(plus->representation_dim(), 4 * 2 * 3 + 7);
}

}  // namespace
}  // namespace clickprompt::ctr
