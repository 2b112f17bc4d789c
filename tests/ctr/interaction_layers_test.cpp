// Numerical checks of the interaction layers against values worked out by hand
// (small cases) or by plain loops over the paper's formula (independent of the
// vectorized code under test).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "ctr/layers/attention.h"
#include "ctr/layers/cin.h"
#include "ctr/layers/conv.h"
#include "ctr/layers/cross.h"
#include "ctr/layers/embedding.h"
#include "ctr/layers/gnn.h"
#include "ctr/layers/interaction.h"

namespace clickprompt::ctr {
namespace {

torch::Tensor t2(std::vector<std::vector<float>> rows) {
  auto out = torch::empty({int64_t(rows.size()), int64_t(rows[0].size())});
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) out[i][j] = rows[i][j];
  return out;
}

void assign(torch::Tensor param, const torch::Tensor& value) {
  torch::NoGradGuard ng;
  param.copy_(value.reshape(param.sizes()));
}

// e1 = (1, 2), e2 = (3, -1), e3 = (0.5, 4)
torch::Tensor three_fields() { return t2({{1, 2}, {3, -1}, {0.5, 4}}).unsqueeze(0); }

TEST(Interaction, FmPairwiseTermByHand) {
  // per dimension sum_{i<j} e_i e_j:  d0: 1*3 + 1*0.5 + 3*0.5 = 5;  d1: 2*-1 + 2*4 + -1*4 = 2
  auto v = bi_interaction(three_fields());
  ASSERT_EQ(v.sizes(), torch::IntArrayRef({1, 2}));
  EXPECT_FLOAT_EQ(v[0][0].item<float>(), 5.0f);
  EXPECT_FLOAT_EQ(v[0][1].item<float>(), 2.0f);
  // summed: <e1,e2> + <e1,e3> + <e2,e3> = 1 + 8.5 - 2.5 = 7
  EXPECT_FLOAT_EQ(v.sum().item<float>(), 7.0f);
}

TEST(Interaction, InnerProductsOfAllPairsByHand) {
  InnerProduct ip(3);
  EXPECT_EQ(ip->num_pairs(), 3);
  auto p = ip->forward(three_fields());
  ASSERT_EQ(p.sizes(), torch::IntArrayRef({1, 3}));
  EXPECT_FLOAT_EQ(p[0][0].item<float>(), 1.0f);   // <e1,e2> = 3 - 2
  EXPECT_FLOAT_EQ(p[0][1].item<float>(), 8.5f);   // <e1,e3> = 0.5 + 8
  EXPECT_FLOAT_EQ(p[0][2].item<float>(), -2.5f);  // <e2,e3> = 1.5 - 4
}

TEST(Interaction, InnerProductsMatchLoops) {
  torch::manual_seed(0);
  const int64_t B = 3, F = 6, D = 5;
  auto e = torch::randn({B, F, D});
  auto p = InnerProduct(F)->forward(e);
  ASSERT_EQ(p.sizes(), torch::IntArrayRef({B, F * (F - 1) / 2}));
  auto acc = e.accessor<float, 3>();
  for (int64_t b = 0; b < B; ++b) {
    int64_t k = 0;
    for (int64_t i = 0; i < F; ++i)
      for (int64_t j = i + 1; j < F; ++j, ++k) {
        double s = 0;
        for (int64_t d = 0; d < D; ++d) s += acc[b][i][d] * acc[b][j][d];
        EXPECT_NEAR(p[b][k].item<double>(), s, 1e-5);
      }
  }
}

TEST(Interaction, OneCinLayerByHand) {
  // m = 2 fields e1 = (1, 2), e2 = (3, -1); one layer with H1 = 1 map, W_{ij} (i: X^0 row, j: X^0 row)
  // stored at index j*H0 + i: W = [1, 2, 3, 4], bias 0.5.
  // d0 (x = 1, 3): 1*1*1 + 2*3*1 + 3*1*3 + 4*3*3 = 52  -> 52.5
  // d1 (x = 2,-1): 1*2*2 + 2*(-1)*2 + 3*2*(-1) + 4*1 = -2 -> -1.5;  sum pooling: 51
  Cin cin(2, std::vector<int64_t>{1}, /*split_half=*/true, "linear", /*bias=*/true);
  assign(cin->weights[0], torch::tensor({1.f, 2.f, 3.f, 4.f}));
  assign(cin->biases[0], torch::tensor({0.5f}));
  auto p = cin->forward(t2({{1, 2}, {3, -1}}).unsqueeze(0));
  ASSERT_EQ(p.sizes(), torch::IntArrayRef({1, 1}));
  EXPECT_FLOAT_EQ(p[0][0].item<float>(), 51.0f);
}

// X^k_{h,d} = sum_i sum_j W^k[h, j*H_{k-1} + i] X^{k-1}_{i,d} X^0_{j,d} + b^k_h  (plain loops)
TEST(Interaction, CinWithSplitHalfMatchesLoops) {
  torch::manual_seed(1);
  const int64_t B = 2, m = 3, D = 4;
  std::vector<int64_t> sizes{4, 2, 3};
  Cin cin(m, sizes, /*split_half=*/true, "linear", true);
  EXPECT_EQ(cin->output_dim(), 2 + 1 + 3);
  for (auto& b : cin->biases) assign(b, torch::randn(b.sizes()));
  auto x0 = torch::randn({B, m, D});
  auto got = cin->forward(x0);
  std::vector<float> expect;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<std::vector<double>> prev(m, std::vector<double>(D));
    for (int64_t j = 0; j < m; ++j)
      for (int64_t d = 0; d < D; ++d) prev[j][d] = x0[b][j][d].item<double>();
    for (size_t k = 0; k < sizes.size(); ++k) {
      int64_t hp = prev.size();
      std::vector<std::vector<double>> cur(sizes[k], std::vector<double>(D));
      for (int64_t h = 0; h < sizes[k]; ++h)
        for (int64_t d = 0; d < D; ++d) {
          double s = cin->biases[k][h].item<double>();
          for (int64_t i = 0; i < hp; ++i)
            for (int64_t j = 0; j < m; ++j)
              s += cin->weights[k][h][j * hp + i].item<double>() * prev[i][d] * x0[b][j][d].item<double>();
          cur[h][d] = s;
        }
      bool last = k + 1 == sizes.size();
      int64_t keep = last ? 0 : sizes[k] / 2;  // first half goes on, second half to the output
      for (int64_t h = keep; h < sizes[k]; ++h) {
        double pooled = 0;
        for (int64_t d = 0; d < D; ++d) pooled += cur[h][d];
        expect.push_back(pooled);
      }
      cur.resize(last ? sizes[k] : keep);
      prev = cur;
    }
  }
  auto want = torch::tensor(expect).view({B, -1});
  EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-4)) << got << want;
}

TEST(Interaction, OneCrossNetV2LayerByHand) {
  // x0 = (1, 2), W = [[1, 0], [2, 1]], b = (0.5, -1):
  // W x0 + b = (1.5, 3);  x0 ⊙ (.) = (1.5, 6);  + x0 = (2.5, 8)
  CrossNetV2 cross(2, 1);
  auto lin = cross->layers[0]->as<torch::nn::Linear>();
  assign(lin->weight, t2({{1, 0}, {2, 1}}));
  assign(lin->bias, torch::tensor({0.5f, -1.f}));
  auto x = cross->forward(torch::tensor({1.f, 2.f}).unsqueeze(0));
  EXPECT_FLOAT_EQ(x[0][0].item<float>(), 2.5f);
  EXPECT_FLOAT_EQ(x[0][1].item<float>(), 8.0f);
}

TEST(Interaction, CrossNetV1LayersByHand) {
  // x0 = (1, 2, 3), w = (0.5, -1, 2), b = (0.1, 0.2, 0.3) in both layers.
  // layer 1: x0^T w = 4.5  -> x1 = 4.5 x0 + b + x0 = (5.6, 11.2, 16.8)
  // layer 2: x1^T w = 2.8 - 11.2 + 33.6 = 25.2 -> x2 = 25.2 x0 + b + x1 = (30.9, 61.8, 92.7)
  CrossNetV1 cross(3, 2);
  assign(cross->weight, torch::tensor({0.5f, -1.f, 2.f, 0.5f, -1.f, 2.f}));
  assign(cross->bias, torch::tensor({0.1f, 0.2f, 0.3f, 0.1f, 0.2f, 0.3f}));
  auto x0 = torch::tensor({1.f, 2.f, 3.f}).unsqueeze(0);
  CrossNetV1 one(3, 1);
  assign(one->weight, torch::tensor({0.5f, -1.f, 2.f}));
  assign(one->bias, torch::tensor({0.1f, 0.2f, 0.3f}));
  auto x1 = one->forward(x0);
  EXPECT_NEAR(x1[0][0].item<float>(), 5.6f, 1e-5);
  EXPECT_NEAR(x1[0][1].item<float>(), 11.2f, 1e-5);
  EXPECT_NEAR(x1[0][2].item<float>(), 16.8f, 1e-5);
  auto x2 = cross->forward(x0);
  EXPECT_NEAR(x2[0][0].item<float>(), 30.9f, 1e-4);
  EXPECT_NEAR(x2[0][1].item<float>(), 61.8f, 1e-4);
  EXPECT_NEAR(x2[0][2].item<float>(), 92.7f, 1e-4);
}

TEST(Interaction, OneAttentionHeadByHand) {
  // e1 = (1, 0), e2 = (0, 1); W_Q = W_K = I, W_V = [[1, 1], [0, 1]], W_Res = 2 I.
  // scores <q_m, k_k> = I  -> rows softmax(1, 0) = (s, 1-s), s = e/(e+1) = 0.7310586
  // v1 = (1, 0), v2 = (1, 1): out1 = s v1 + (1-s) v2 = (1, 1-s), out2 = (1-s) v1 + s v2 = (1, s)
  // + W_Res e: out1 = (3, 1-s), out2 = (1, 2+s); ReLU keeps them.
  MultiHeadSelfAttention att(2, 2, 1, /*use_residual=*/true, /*use_scale=*/false);
  assign(att->weight, t2({{1, 0}, {0, 1}, {1, 0}, {0, 1}, {1, 1}, {0, 1}, {2, 0}, {0, 2}}));
  auto out = att->forward(t2({{1, 0}, {0, 1}}).unsqueeze(0));
  const float s = std::exp(1.f) / (std::exp(1.f) + 1.f);
  ASSERT_EQ(out.sizes(), torch::IntArrayRef({1, 2, 2}));
  EXPECT_NEAR(out[0][0][0].item<float>(), 3.f, 1e-6);
  EXPECT_NEAR(out[0][0][1].item<float>(), 1.f - s, 1e-6);
  EXPECT_NEAR(out[0][1][0].item<float>(), 1.f, 1e-6);
  EXPECT_NEAR(out[0][1][1].item<float>(), 2.f + s, 1e-6);
}

TEST(Interaction, MultiHeadAttentionMatchesLoops) {
  torch::manual_seed(2);
  const int64_t B = 2, F = 3, in = 4, A = 3, H = 2;
  for (bool scale : {false, true}) {
    MultiHeadSelfAttention att(in, A, H, true, scale);
    auto x = torch::randn({B, F, in});
    auto got = att->forward(x);
    auto W = att->weight;  // blocks Q, K, V, Res of H*A rows each
    auto row = [&](int64_t block, int64_t h, int64_t a, int64_t b, int64_t f) {
      double s = 0;
      for (int64_t c = 0; c < in; ++c) s += W[block * H * A + h * A + a][c].item<double>() * x[b][f][c].item<double>();
      return s;
    };
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t m = 0; m < F; ++m) {
          std::vector<double> score(F);
          double mx = -1e30, z = 0;
          for (int64_t k = 0; k < F; ++k) {
            double s = 0;
            for (int64_t a = 0; a < A; ++a) s += row(0, h, a, b, m) * row(1, h, a, b, k);
            score[k] = scale ? s / std::sqrt(double(A)) : s;
            mx = std::max(mx, score[k]);
          }
          for (auto& s : score) z += (s = std::exp(s - mx));
          for (int64_t a = 0; a < A; ++a) {
            double v = row(3, h, a, b, m);
            for (int64_t k = 0; k < F; ++k) v += score[k] / z * row(2, h, a, b, k);
            EXPECT_NEAR(got[b][m][h * A + a].item<double>(), std::max(v, 0.0), 1e-5);
          }
        }
  }
}

TEST(Interaction, FiGNNAttentionGraphByHand) {
  // D = 1, e = (1, 2, -1), w_src = 1, w_dst = 0.5: logit(i,j) = LeakyReLU(e_i + 0.5 e_j), j != i.
  // row 0: j=1: 2, j=2: 0.5  -> softmax (0.8175745, 0.1824255)
  // row 2: j=0: -0.5 -> -0.005, j=1: 0 -> softmax over (-0.005, 0)
  FieldGraph g(3, 1, 1);
  assign(g->attn_src, torch::tensor({1.f}));
  assign(g->attn_dst, torch::tensor({0.5f}));
  auto A = g->attention_graph(torch::tensor({1.f, 2.f, -1.f}).view({1, 3, 1}));
  EXPECT_FLOAT_EQ(A[0][0][0].item<float>(), 0.f);
  EXPECT_NEAR(A[0][0][1].item<float>(), 1.0 / (1.0 + std::exp(-1.5)), 1e-6);
  EXPECT_NEAR(A[0][0][2].item<float>(), 1.0 / (1.0 + std::exp(1.5)), 1e-6);
  EXPECT_NEAR(A[0][2][0].item<float>(), std::exp(-0.005) / (std::exp(-0.005) + 1.0), 1e-6);
  EXPECT_FLOAT_EQ(A[0][2][2].item<float>(), 0.f);
  EXPECT_TRUE(torch::allclose(A.sum(-1), torch::ones({1, 3})));
}

TEST(Interaction, OneFiGNNStepMatchesLoops) {
  torch::manual_seed(3);
  const int64_t B = 2, F = 3, D = 2;
  FieldGraph g(F, D, /*gnn_layers=*/1, /*use_gru=*/true, /*use_residual=*/true);
  assign(g->bias[0], torch::randn({D}));
  auto e = torch::randn({B, F, D});
  auto got = g->forward(e);
  auto sig = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  auto lrelu = [](double x) { return x > 0 ? x : 0.01 * x; };
  auto Wih = g->gru->weight_ih, Whh = g->gru->weight_hh, bih = g->gru->bias_ih, bhh = g->gru->bias_hh;
  for (int64_t b = 0; b < B; ++b) {
    // edge weights
    std::vector<std::vector<double>> A(F, std::vector<double>(F, 0.0));
    for (int64_t i = 0; i < F; ++i) {
      double z = 0;
      for (int64_t j = 0; j < F; ++j) {
        if (j == i) continue;
        double s = 0;
        for (int64_t d = 0; d < D; ++d)
          s += g->attn_src[d].item<double>() * e[b][i][d].item<double>() +
               g->attn_dst[d].item<double>() * e[b][j][d].item<double>();
        z += (A[i][j] = std::exp(lrelu(s)));
      }
      for (int64_t j = 0; j < F; ++j) A[i][j] /= z;
    }
    // W_out^j h_j, with w_out[j] holding (W_out^j)^T: (W h)_c = sum_r W^T[r][c] h_r
    std::vector<std::vector<double>> hout(F, std::vector<double>(D, 0.0)), a(F, std::vector<double>(D, 0.0));
    for (int64_t j = 0; j < F; ++j)
      for (int64_t c = 0; c < D; ++c)
        for (int64_t r = 0; r < D; ++r) hout[j][c] += g->w_out[0][j][r][c].item<double>() * e[b][j][r].item<double>();
    for (int64_t i = 0; i < F; ++i) {
      std::vector<double> agg(D, 0.0);
      for (int64_t j = 0; j < F; ++j)
        for (int64_t c = 0; c < D; ++c) agg[c] += A[i][j] * hout[j][c];
      for (int64_t c = 0; c < D; ++c) {
        a[i][c] = g->bias[0][c].item<double>();
        for (int64_t r = 0; r < D; ++r) a[i][c] += g->w_in[0][i][r][c].item<double>() * agg[r];
      }
      // GRU (gates r, z, n):  h' = (1 - z) n + z h,  then residual + e_i
      for (int64_t c = 0; c < D; ++c) {
        auto gate = [&](int64_t k, bool hidden_only_bias) {
          double x = bih[k * D + c].item<double>() + bhh[k * D + c].item<double>();
          for (int64_t r = 0; r < D; ++r) x += Wih[k * D + c][r].item<double>() * a[i][r];
          for (int64_t r = 0; r < D; ++r) x += Whh[k * D + c][r].item<double>() * e[b][i][r].item<double>();
          return x;
        };
        double rg = sig(gate(0, false)), zg = sig(gate(1, false));
        double xn = bih[2 * D + c].item<double>(), hn = bhh[2 * D + c].item<double>();
        for (int64_t r = 0; r < D; ++r) xn += Wih[2 * D + c][r].item<double>() * a[i][r];
        for (int64_t r = 0; r < D; ++r) hn += Whh[2 * D + c][r].item<double>() * e[b][i][r].item<double>();
        double n = std::tanh(xn + rg * hn);
        double h = (1 - zg) * n + zg * e[b][i][c].item<double>() + e[b][i][c].item<double>();
        EXPECT_NEAR(got[b][i][c].item<double>(), h, 1e-5) << "b=" << b << " i=" << i << " c=" << c;
      }
    }
  }
}

TEST(Interaction, AttentionalScoringByHand) {
  // F = 2, D = 1, h = (1, -2): y_i = 3 h_i = (3, -6); a = sigmoid(W h) with W = [[1, 0], [0, 0.5]] -> sig(1), sig(-1)
  AttentionalScoring s(2, 1);
  assign(s->score->weight, torch::tensor({3.f}));
  assign(s->weight->weight, t2({{1, 0}, {0, 0.5}}));
  auto y = s->forward(torch::tensor({1.f, -2.f}).unsqueeze(0));
  auto sig = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  EXPECT_NEAR(y[0].item<double>(), sig(1) * 3 + sig(-1) * -6, 1e-6);
}

TEST(Interaction, FeatureGeneratorConvPoolRecombineMatchesLoops) {
  torch::manual_seed(4);
  // F = 5 fields, D = 2, one layer: 2 channels, kernel 3, pool 2 (ceil: height 3), recombine 1 channel.
  FeatureGeneratorOptions o;
  o.channels = {2};
  o.kernel_heights = {3};
  o.pooling_sizes = {2};
  o.recombined_channels = {1};
  o.batch_norm = false;
  const int64_t F = 5, D = 2, C = 2, Hp = 3;
  FeatureGenerator g(F, D, o);
  EXPECT_EQ(g->new_fields(), Hp * 1);
  auto e = torch::randn({1, F, D});
  auto got = g->forward(e);
  ASSERT_EQ(got.sizes(), torch::IntArrayRef({1, Hp, D}));
  auto conv = g->convs[0]->as<torch::nn::Conv2d>();
  auto lin = g->recombines[0]->as<torch::nn::Linear>();
  // conv with zero padding 1 along fields, tanh, max over rows {0,1}, {2,3}, {4}
  std::vector<double> pooled;  // flatten order: channel, row, column
  for (int64_t c = 0; c < C; ++c)
    for (int64_t r = 0; r < Hp; ++r)
      for (int64_t d = 0; d < D; ++d) {
        double best = -1e30;
        for (int64_t f = 2 * r; f < std::min<int64_t>(2 * r + 2, F); ++f) {
          double s = conv->bias[c].item<double>();
          for (int64_t k = 0; k < 3; ++k) {
            int64_t src = f + k - 1;
            if (src >= 0 && src < F) s += conv->weight[c][0][k][0].item<double>() * e[0][src][d].item<double>();
          }
          best = std::max(best, std::tanh(s));
        }
        pooled.push_back(best);
      }
  for (int64_t o_ = 0; o_ < Hp * D; ++o_) {
    double s = lin->bias[o_].item<double>();
    for (size_t k = 0; k < pooled.size(); ++k) s += lin->weight[o_][int64_t(k)].item<double>() * pooled[k];
    EXPECT_NEAR(got[0][o_ / D][o_ % D].item<double>(), std::tanh(s), 1e-5);
  }
}

// Two layers: the count of generated features follows ceil-mode pooling.
TEST(Interaction, FeatureGeneratorHeightsUseCeilPooling) {
  FeatureGeneratorOptions o;
  o.channels = {3, 4};
  o.kernel_heights = {3, 5};
  o.pooling_sizes = {2, 3};
  o.recombined_channels = {1, 2};
  o.batch_norm = false;
  FeatureGenerator g(7, 3, o);
  EXPECT_EQ(g->new_fields(), 4 * 1 + 2 * 2);  // heights ceil(7/2) = 4, ceil(4/3) = 2
  auto e = torch::randn({2, 7, 3});
  auto got = g->forward(e);
  EXPECT_EQ(got.sizes(), torch::IntArrayRef({2, 8, 3}));
  // Reference: LibTorch's conv2d + max_pool2d(ceil_mode) on the same weights.
  auto x = e.unsqueeze(1);
  std::vector<torch::Tensor> want;
  for (int i = 0; i < 2; ++i) {
    auto conv = g->convs[i]->as<torch::nn::Conv2d>();
    int64_t p = o.pooling_sizes[i];
    x = torch::max_pool2d(torch::tanh(conv->forward(x)), {p, 1}, {p, 1}, {0, 0}, {1, 1}, /*ceil_mode=*/true);
    want.push_back(torch::tanh(g->recombines[i]->as<torch::nn::Linear>()->forward(x.flatten(1))).view({2, -1, 3}));
  }
  EXPECT_TRUE(torch::allclose(got, torch::cat(want, 1), 1e-5, 1e-5));
}


// Multi-valued fields: field 0 single (ids 0-2), field 1 with 3 slots (ids 3-7,
// OOV 3). Each field's embedding is the mean over its slots that are not OOV; a
// row with no known value gets the OOV embedding; the linear term pools the same way.
TEST(SlotPooling, MeanOfTheKnownValuesOfEachField) {
  FeatureInfo info;
  info.num_fields = 2;
  info.vocab_size = 8;
  info.field_offsets = {0, 3};
  info.field_sizes = {3, 5};
  info.field_widths = {1, 3};
  info.field_names = {"a", "tags"};
  FeatureEmbedding emb(info, EmbeddingOptions{2, 0.1, false});
  assign(emb->table->weight, torch::arange(16, torch::kFloat).reshape({8, 2}));
  auto ids = torch::tensor({1, 4, 6, 3, 2, 3, 3, 3, 0, 7, 3, 5}, torch::kLong).reshape({3, 4});
  auto out = emb->forward(ids);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 2, 2}));
  auto row = [&](int id) { return emb->table->weight[id]; };
  EXPECT_TRUE(torch::allclose(out[0][0], row(1)));
  EXPECT_TRUE(torch::allclose(out[0][1], (row(4) + row(6)) / 2));
  EXPECT_TRUE(torch::allclose(out[1][0], row(2)));
  EXPECT_TRUE(torch::allclose(out[1][1], row(3)));  // no known value: the OOV embedding
  EXPECT_TRUE(torch::allclose(out[2][1], (row(7) + row(5)) / 2));
  // A gradient reaches exactly the pooled rows.
  out.sum().backward();
  auto g = emb->table->weight.grad();
  EXPECT_FLOAT_EQ(g[4][0].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(g[3][0].item<float>(), 1.0f);  // row 1's OOV only
  LinearTerm lin(info, false);
  assign(lin->weights->weight, torch::arange(8, torch::kFloat));
  auto l = lin->forward(ids);
  EXPECT_FLOAT_EQ(l[0].item<float>(), 1 + (4 + 6) / 2.0f);
  EXPECT_FLOAT_EQ(l[1].item<float>(), 2 + 3);
  // Without multi-valued fields nothing is pooled: ids [B,F] as before.
  info.field_widths = {1, 1};
  FeatureEmbedding plain(info, EmbeddingOptions{2, 0.1, false});
  EXPECT_FALSE(plain->pool.active());
}

}  // namespace
}  // namespace clickprompt::ctr
