#include "data/spec.h"

#include <algorithm>

#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"

namespace clickprompt::data {

DatasetSpec DatasetSpec::from_yaml(const YAML::Node& node, const std::string& context) {
  core::Params p(node, context);
  DatasetSpec s;
  s.yaml = YAML::Clone(node);
  s.name = p.require<std::string>("name");
  s.format = p.require<std::string>("format");
  const std::vector<std::string> formats{"movielens", "bookcrossing", "amazon", "csv"};
  if (std::find(formats.begin(), formats.end(), s.format) == formats.end())
    throw Error(context + ".format: '" + s.format + "' (" + core::suggest(s.format, formats) + ")");
  s.path = p.require<std::string>("path");
  int default_min_count = p.get<int>("min_count", 1);

  YAML::Node fields = node["fields"];
  if (!fields || !fields.IsSequence() || fields.size() == 0)
    throw Error(context + ": 'fields' must be a non-empty list");
  for (size_t i = 0; i < fields.size(); ++i) {
    core::Params f(fields[i], context + ".fields[" + std::to_string(i) + "]");
    FieldSpec fs;
    fs.name = f.require<std::string>("name");
    fs.display = f.get<std::string>("display", fs.name);
    fs.source = f.get<std::string>("source", fs.name);
    fs.type = f.get<std::string>("type", "categorical");
    fs.min_count = f.get<int>("min_count", default_min_count);
    if (fs.type != "categorical")
      throw Error(f.context() + ".type: '" + fs.type + "' is not supported yet (supported: categorical)");
    if (fs.min_count < 1) throw Error(f.context() + ".min_count must be >= 1");
    f.check_unused();
    if (s.field_index(fs.name) >= 0) throw Error(context + ": field '" + fs.name + "' is listed twice");
    s.fields.push_back(fs);
  }
  p.has("fields");

  core::Params label = p.child("label");
  s.label_column = label.require<std::string>("column");
  s.has_label_threshold = label.has("threshold");
  s.label_threshold = label.get<double>("threshold", 0.0);
  label.check_unused();
  s.prob_column = p.get<std::string>("prob_column", "");
  s.user_field = p.get<std::string>("user_field", "");
  s.item_field = p.get<std::string>("item_field", "");
  for (const auto* f : {&s.user_field, &s.item_field})
    if (!f->empty() && s.field_index(*f) < 0) {
      std::vector<std::string> names;
      for (const auto& fs : s.fields) names.push_back(fs.name);
      throw Error(context + ": user_field/item_field '" + *f + "' is not a field (" + core::suggest(*f, names) + ")");
    }

  core::Params split = p.child("split");
  s.split.kind = split.get<std::string>("kind", "random");
  if (s.split.kind != "random" && s.split.kind != "time")
    throw Error(split.context() + ".kind: '" + s.split.kind + "' (" + core::suggest(s.split.kind, {"random", "time"}) + ")");
  s.split.ratios = split.get<std::vector<double>>("ratios", {0.8, 0.1, 0.1});
  s.split.seed = split.get<uint64_t>("seed", 2024);
  split.check_unused();
  if (s.split.ratios.size() != 3) throw Error(split.context() + ".ratios: expected three numbers (train, valid, test)");
  double sum = 0;
  for (double r : s.split.ratios) {
    if (r <= 0) throw Error(split.context() + ".ratios: every ratio must be positive");
    sum += r;
  }
  if (std::abs(sum - 1.0) > 1e-6) throw Error(split.context() + ".ratios must sum to 1");
  p.check_unused();
  return s;
}

DatasetSpec DatasetSpec::load(const std::string& path) {
  DatasetSpec s = from_yaml(core::load_yaml(path), path);
  s.path = core::resolve_relative(s.path, path);
  return s;
}

int DatasetSpec::field_index(const std::string& n) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == n) return static_cast<int>(i);
  return -1;
}

}  // namespace clickprompt::data
