#include "ctr/models/dcnv2.h"

#include "core/error.h"
#include "core/strings.h"

namespace clickprompt::ctr {

DCNv2Impl::DCNv2Impl(const FeatureInfo& info, const core::Params& p) {
  auto e = EmbeddingOptions::from(p);
  int64_t d = info.num_fields * e.dim;
  auto structure = p.get<std::string>("model_structure", "parallel");
  if (structure != "parallel" && structure != "stacked")
    throw Error(p.context() + ".model_structure: '" + structure + "' (" +
                core::suggest(structure, {"parallel", "stacked"}) + ")");
  stacked_ = structure == "stacked";
  embedding_ = register_module("embedding", FeatureEmbedding(info, e));
  cross_ = register_module("cross", CrossNetV2(d, p.get<int64_t>("num_cross_layers", 6), p.get<int64_t>("low_rank", 0)));
  mlp_ = register_module("mlp", Mlp(d, MlpOptions::from(p, "dnn", {256, 256, 256, 256, 256, 256})));
  repr_dim_ = stacked_ ? mlp_->output_dim() : d + mlp_->output_dim();
  out_ = register_module("out", torch::nn::Linear(repr_dim_, 1));
}

torch::Tensor DCNv2Impl::representation(const torch::Tensor& ids) {
  auto x0 = embedding_->forward(ids).flatten(1);
  if (stacked_) return mlp_->forward(cross_->forward(x0));
  return torch::cat({cross_->forward(x0), mlp_->forward(x0)}, 1);
}

torch::Tensor DCNv2Impl::logit(const torch::Tensor& repr) { return out_->forward(repr).squeeze(1); }

}  // namespace clickprompt::ctr
