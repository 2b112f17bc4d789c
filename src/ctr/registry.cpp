#include "ctr/registry.h"

#include <map>

#include "core/error.h"
#include "core/strings.h"
#include "ctr/models/autoint.h"
#include "ctr/models/dcn.h"
#include "ctr/models/dcnv2.h"
#include "ctr/models/deepfm.h"
#include "ctr/models/dnn.h"
#include "ctr/models/fgcnn.h"
#include "ctr/models/fignn.h"
#include "ctr/models/fm.h"
#include "ctr/models/ipnn.h"
#include "ctr/models/xdeepfm.h"

namespace clickprompt::ctr {

namespace {
using Factory = std::function<CtrModelPtr(const FeatureInfo&, const core::Params&)>;

template <typename M>
Factory make() {
  return [](const FeatureInfo& info, const core::Params& p) -> CtrModelPtr { return std::make_shared<M>(info, p); };
}

const std::map<std::string, Factory>& registry() {
  // One line per model.
  static const std::map<std::string, Factory> r = {
      {"fm", make<FMImpl>()},
      {"dnn", make<DNNImpl>()},
      {"dcnv2", make<DCNv2Impl>()},
      {"deepfm", make<DeepFMImpl>()},
      {"xdeepfm", make<XDeepFMImpl>()},
      {"ipnn", make<IPNNImpl>()},
      {"dcn", make<DCNImpl>()},
      {"autoint", make<AutoIntImpl>()},
      {"fignn", make<FiGNNImpl>()},
      {"fgcnn", make<FGCNNImpl>()},
  };
  return r;
}
}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> out;
  for (const auto& kv : registry()) out.push_back(kv.first);
  return out;
}

bool has_model(const std::string& name) { return registry().count(core::to_lower(name)) > 0; }

void check_model_name(const std::string& name) {
  if (!has_model(name)) throw Error("unknown model '" + name + "' (" + core::suggest(name, model_names()) + ")");
}

CtrModelPtr create_model(const std::string& name, const FeatureInfo& info, const core::Params& params) {
  check_model_name(name);
  auto it = registry().find(core::to_lower(name));
  auto model = it->second(info, params);
  params.check_unused({"model"});
  return model;
}

}  // namespace clickprompt::ctr
