#include "ctr/layers/interaction.h"

#include "core/error.h"

namespace clickprompt::ctr {

torch::Tensor bi_interaction(const torch::Tensor& emb) {
  auto sum = emb.sum(1);
  auto sum_sq = (emb * emb).sum(1);
  return 0.5 * (sum * sum - sum_sq);
}

InnerProductImpl::InnerProductImpl(int64_t num_fields_) : num_fields(num_fields_) {
  if (num_fields < 1) throw Error("inner product layer: need at least one field, got " + std::to_string(num_fields));
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < num_fields; ++i)
    for (int64_t j = i + 1; j < num_fields; ++j) idx.push_back(i * num_fields + j);
  pair_index = register_buffer("pair_index", torch::tensor(idx, torch::kLong));
}

torch::Tensor InnerProductImpl::forward(const torch::Tensor& emb) {
  if (emb.dim() != 3 || emb.size(1) != num_fields)
    throw Error("inner product layer: expected [B," + std::to_string(num_fields) + ",D], got " +
                c10::str(emb.sizes()));
  if (num_pairs() == 0) return emb.new_zeros({emb.size(0), 0});
  auto gram = torch::bmm(emb, emb.transpose(1, 2));  // [B,F,F]
  return gram.flatten(1).index_select(1, pair_index);
}

}  // namespace clickprompt::ctr
