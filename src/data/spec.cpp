#include "data/spec.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"

namespace clickprompt::data {

namespace {

void check_one_of(const core::Params& p, const std::string& key, const std::string& v, const std::vector<std::string>& ok) {
  if (std::find(ok.begin(), ok.end(), v) == ok.end())
    throw Error(p.context() + "." + key + ": '" + v + "' (" + core::suggest(v, ok) + ")");
}

// The reading keys of a table file (the data set's own, or a join's).
FileSpec parse_file(core::Params& p, const std::string& path) {
  FileSpec f;
  f.path = path;
  f.type = p.get<std::string>("type", core::ends_with(path, ".jsonl") || core::ends_with(path, ".jsonl.gz") ||
                                              core::ends_with(path, ".json") || core::ends_with(path, ".json.gz")
                                          ? "jsonl"
                                      : core::ends_with(path, ".tsv") || core::ends_with(path, ".tsv.gz") ? "tsv"
                                                                                                          : "csv");
  check_one_of(p, "type", f.type, {"csv", "tsv", "jsonl"});
  // (Params records each default in the spec as used, which is parsed again when a
  // run is reloaded: the keys read here must be valid with their defaults filled in.)
  if (f.type == "jsonl") {
    if (p.has("delimiter") || p.has("columns") || p.has("header"))
      throw Error(p.context() + ": 'delimiter', 'columns' and 'header' are for csv/tsv; JSON lines name their columns");
  } else {
    std::string delim = p.get<std::string>("delimiter", f.type == "tsv" ? "\t" : ",");
    if (delim == "\\t") delim = "\t";  // a plain or single-quoted YAML \t
    if (delim.size() != 1 || delim[0] == '"' || delim[0] == '\n' || delim[0] == '\r')
      throw Error(p.context() + ".delimiter: expected one character (not a quote or line break), got '" + delim + "'");
    f.delimiter = delim[0];
    f.columns = p.get<std::vector<std::string>>("columns", {});
    f.header = p.get<bool>("header", f.columns.empty());
    if (!f.header && f.columns.empty())
      throw Error(p.context() + ": a file without a header row needs 'columns' (the column names, in order)");
  }
  f.encoding = core::to_lower(p.get<std::string>("encoding", "utf-8"));
  if (f.encoding == "utf8") f.encoding = "utf-8";
  if (f.encoding == "iso-8859-1" || f.encoding == "latin-1") f.encoding = "latin1";
  if (f.encoding == "windows-1252") f.encoding = "cp1252";
  check_one_of(p, "encoding", f.encoding, {"utf-8", "latin1", "cp1252"});
  return f;
}

}  // namespace

DatasetSpec DatasetSpec::from_yaml(const YAML::Node& node, const std::string& context) {
  core::Params p(node, context);
  DatasetSpec s;
  s.yaml = YAML::Clone(node);
  s.name = p.require<std::string>("name");
  s.format = p.require<std::string>("format");
  const std::vector<std::string> formats{"movielens", "bookcrossing", "amazon", "goodreads", "csv", "table"};
  if (std::find(formats.begin(), formats.end(), s.format) == formats.end())
    throw Error(context + ".format: '" + s.format + "' (" + core::suggest(s.format, formats) + ")");
  s.path = p.require<std::string>("path");
  const bool table = s.format == "table" || s.format == "csv";  // csv: the table reader's plain case
  if (table) {
    core::Params read = p.child("read");
    s.file = parse_file(read, s.path);
    read.check_unused();
    YAML::Node joins = node["joins"];
    if (joins && !joins.IsSequence()) throw Error(context + ".joins: expected a list");
    for (size_t i = 0; joins && i < joins.size(); ++i) {
      core::Params j(joins[i], context + ".joins[" + std::to_string(i) + "]");
      JoinSpec js;
      core::Params jread = j.child("read");
      js.file = parse_file(jread, j.require<std::string>("path"));
      jread.check_unused();
      js.key = j.require<std::string>("key");
      js.table_key = j.get<std::string>("table_key", js.key);
      js.columns = j.get<std::vector<std::string>>("columns", {});
      js.drop_unmatched = j.get<bool>("drop_unmatched", false);
      j.check_unused();
      s.joins.push_back(js);
    }
    p.has("joins");
  }
  if (node["reader"]) {
    if (s.format != "goodreads") throw Error(context + ".reader: the " + s.format + " reader takes no options");
    s.reader_options = YAML::Clone(node["reader"]);
    p.has("reader");
  }
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
    check_one_of(f, "type", fs.type, {"categorical", "numeric", "multi", "text"});
    if (fs.multi()) {
      fs.separator = f.get<std::string>("separator", "|");
      fs.max_values = static_cast<int>(f.get_int("max_values", 8, 1, 1024));
      if (fs.separator.empty()) throw Error(f.context() + ".separator must not be empty");
    } else if (f.has("separator") || f.has("max_values")) {
      throw Error(f.context() + ": 'separator' and 'max_values' are for type: multi");
    }
    if (fs.min_count < 1) throw Error(f.context() + ".min_count must be >= 1");
    if (fs.numeric()) {
      fs.buckets = static_cast<int>(f.get_int("buckets", 0, 0, 10000));
      fs.edges = f.get<std::vector<double>>("edges", {});
      if ((fs.buckets > 0) == !fs.edges.empty())
        throw Error(f.context() + ": a numeric field needs either 'buckets' (quantiles of the training values) or 'edges'");
      if (fs.buckets == 1) throw Error(f.context() + ".buckets must be at least 2");
      for (size_t k = 0; k < fs.edges.size(); ++k)
        if (!std::isfinite(fs.edges[k]) || (k > 0 && fs.edges[k] <= fs.edges[k - 1]))
          throw Error(f.context() + ".edges must be finite and strictly increasing");
    } else if (f.has("buckets") || f.has("edges")) {
      throw Error(f.context() + ": 'buckets' and 'edges' are for type: numeric");
    }
    f.check_unused();
    if (s.field_index(fs.name) >= 0) throw Error(context + ": field '" + fs.name + "' is listed twice");
    s.fields.push_back(fs);
  }
  p.has("fields");

  core::Params label = p.child("label");
  s.label_column = label.require<std::string>("column");
  s.has_label_threshold = label.has("threshold");
  if (s.has_label_threshold) s.label_threshold = label.get<double>("threshold", 0.0);
  if (label.has("values")) {
    s.label_values = label.get<std::vector<std::string>>("values", {});
    if (!table || s.has_label_threshold || s.label_values.empty())
      throw Error(label.context() + ".values: " +
                  (!table ? std::string("a set of label values is read by the table format only")
                   : s.has_label_threshold ? std::string("give either a threshold or a set of values, not both")
                                           : std::string("the set of positive values is empty")));
  }
  label.check_unused();
  s.prob_column = p.get<std::string>("prob_column", "");
  s.user_field = p.get<std::string>("user_field", "");
  s.item_field = p.get<std::string>("item_field", "");
  if (std::all_of(s.fields.begin(), s.fields.end(), [](const FieldSpec& f) { return f.text(); }))
    throw Error(context + ": every field is type text; the ID view needs at least one other field");
  for (const auto* f : {&s.user_field, &s.item_field}) {
    if (!f->empty() && s.field_index(*f) >= 0 && s.fields[s.field_index(*f)].text())
      throw Error(context + ": user_field/item_field '" + *f + "' is type text (it has no id)");
    if (!f->empty() && s.field_index(*f) < 0) {
      std::vector<std::string> names;
      for (const auto& fs : s.fields) names.push_back(fs.name);
      throw Error(context + ": user_field/item_field '" + *f + "' is not a field (" + core::suggest(*f, names) + ")");
    }
  }

  core::Params split = p.child("split");
  s.split.kind = split.get<std::string>("kind", "random");
  check_one_of(split, "kind", s.split.kind, {"random", "time", "column"});
  s.split.ratios = split.get<std::vector<double>>("ratios", {0.8, 0.1, 0.1});
  s.split.seed = split.get<uint64_t>("seed", 2024);
  if (table && (split.has("column") || s.split.kind != "random"))
    s.split.column = split.get<std::string>("column", s.split.kind == "time" ? "timestamp" : "");
  else if (split.has("column"))
    throw Error(split.context() + ".column: the " + s.format + " reader names its own time column");
  if (s.split.kind == "column") {
    if (!table) throw Error(split.context() + ".kind: a split column is read by the table format only");
    if (s.split.column.empty()) throw Error(split.context() + ": kind column needs 'column' (the column naming each row's split)");
    for (const char* part : {"train", "valid", "test"}) {
      auto v = split.get<std::vector<std::string>>(part, {});
      if (v.empty()) throw Error(split.context() + "." + part + ": the values of '" + s.split.column + "' meaning " + part + " (a list)");
      s.split.values.push_back(v);
    }
  }
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
  s.path = s.file.path = core::resolve_relative(s.path, path);
  for (auto& j : s.joins) j.file.path = core::resolve_relative(j.file.path, path);
  return s;
}

int DatasetSpec::field_index(const std::string& n) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == n) return static_cast<int>(i);
  return -1;
}

}  // namespace clickprompt::data
