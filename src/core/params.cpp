#include "core/params.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"

namespace clickprompt::core {

Params::Params(YAML::Node node, std::string context) : node_(std::move(node)), context_(std::move(context)) {
  if (!node_ || node_.IsNull()) node_ = YAML::Node(YAML::NodeType::Map);
  if (!node_.IsMap()) throw Error(context_ + ": expected a mapping of key: value");
}

bool Params::has(const std::string& key) const {
  used_.insert(key);
  YAML::Node v = node_[key];
  return v && !v.IsNull();
}

Params Params::child(const std::string& key) const {
  used_.insert(key);
  if (!node_[key] || node_[key].IsNull()) node_[key] = YAML::Node(YAML::NodeType::Map);
  return Params(node_[key], context_ + "." + key);
}

void Params::check_unused(const std::vector<std::string>& also_allowed) const {
  std::vector<std::string> known(used_.begin(), used_.end());
  known.insert(known.end(), also_allowed.begin(), also_allowed.end());
  for (const auto& kv : node_) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw Error("unknown key '" + key + "' in " + context_ + " (" + suggest(key, known) + ")");
  }
}

void Params::throw_bad_type(const std::string& key) const {
  YAML::Emitter e;
  e << node_[key];
  throw Error(context_ + "." + key + ": value '" + std::string(e.c_str()) + "' has the wrong type");
}

void Params::throw_not_finite(const std::string& key) const {
  throw Error(context_ + "." + key + ": '" + node_[key].Scalar() + "' is not a finite number");
}

double Params::get_number(const std::string& key, double fallback, Range range) const {
  const double v = get<double>(key, fallback);
  const char* expected = nullptr;
  switch (range) {
    case Range::positive:
      if (!(v > 0)) expected = "a number > 0";
      break;
    case Range::non_negative:
      if (!(v >= 0)) expected = "a number >= 0";
      break;
    case Range::unit_open:
      if (!(v >= 0 && v < 1)) expected = "a number in [0, 1)";
      break;
    case Range::unit:
      if (!(v >= 0 && v <= 1)) expected = "a number in [0, 1]";
      break;
  }
  if (expected) throw Error(context_ + "." + key + ": " + format_number(v) + " is out of range (expected " + expected + ")");
  return v;
}

int64_t Params::get_int(const std::string& key, int64_t fallback, int64_t lo, int64_t hi) const {
  const int64_t v = get<int64_t>(key, fallback);
  if (v < lo || v > hi)
    throw Error(context_ + "." + key + ": " + std::to_string(v) + " is out of range (expected " + std::to_string(lo) +
                " to " + std::to_string(hi) + ")");
  return v;
}

void Params::throw_missing(const std::string& key) const {
  throw Error(context_ + ": required key '" + key + "' is missing");
}

namespace {
// Keys are names: a list or mapping used as a key (`{a: 1}: 2`) is refused here, once,
// so nothing later meets one (yaml-cpp's lookups throw a raw "bad conversion" on them);
// so are nesting past 64 levels (an alias inside its own anchor makes it endless) and
// more than a million values (aliases of aliases multiply: "billion laughs").
void check_keys(const YAML::Node& n, const std::string& context, int depth = 0, size_t* seen = nullptr) {
  size_t count = 0;
  if (!seen) seen = &count;
  if (depth > 64)
    throw Error(context + ": nested deeper than 64 levels (or an alias refers to a section that holds it)");
  if (++*seen > 1000000) throw Error(context + ": more than 1,000,000 values (aliases expanding?)");
  // yaml-cpp guesses UTF-16/32 from leading bytes and may re-encode garbage: the parsed
  // text must be UTF-8 too, not only the input.
  if (n.IsScalar() && !valid_utf8(n.Scalar())) throw Error(context + ": a value is not UTF-8 text");
  if (n.IsMap()) {
    for (const auto& kv : n) {
      if (!kv.first.IsScalar())
        throw Error(context + ": a key at line " + std::to_string(kv.first.Mark().line + 1) +
                    " is a list or mapping; keys must be plain names");
      if (!valid_utf8(kv.first.Scalar())) throw Error(context + ": a key is not UTF-8 text");
      check_keys(kv.second, context, depth + 1, seen);
    }
  } else if (n.IsSequence()) {
    for (const auto& v : n) check_keys(v, context, depth + 1, seen);
  }
}

YAML::Node top_level_map(YAML::Node n, const std::string& context) {
  check_keys(n, context);
  if (!n || n.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!n.IsMap()) throw Error(context + ": expected a mapping of key: value at the top level, found a " +
                              (n.IsSequence() ? "list" : "single value"));
  return n;
}
}  // namespace

YAML::Node load_yaml(const std::string& path) {
  if (!file_exists(path)) throw Error("config file not found: " + path);
  return parse_yaml(read_file(path), path);
}

YAML::Node parse_yaml(const std::string& text, const std::string& context) {
  // Every value may end up in a JSON file (result.json, meta.json), which holds UTF-8 only.
  if (!valid_utf8(text)) throw Error("cannot parse YAML " + context + ": it is not UTF-8 text (save it as UTF-8)");
  try {
    return top_level_map(YAML::Load(text), context);
  } catch (const YAML::Exception& e) {
    throw Error("cannot parse YAML " + context + " at line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

YAML::Node merge_yaml(const YAML::Node& base, const YAML::Node& over) {
  if (!over || over.IsNull()) return YAML::Clone(base);
  if (!base || !base.IsMap() || !over.IsMap()) return YAML::Clone(over);
  YAML::Node out = YAML::Clone(base);
  for (const auto& kv : over) {
    std::string k = kv.first.as<std::string>();
    out[k] = merge_yaml(base[k], kv.second);
  }
  return out;
}

void apply_override(YAML::Node& root, const std::string& assignment) {
  if (!valid_utf8(assignment)) throw Error("override: not UTF-8 text");
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw Error("override '" + assignment + "': expected key.path=value");
  auto path = split(std::string_view(assignment).substr(0, eq), ".");
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw Error("override '" + assignment + "': " + e.msg);
  }
  check_keys(value, "override '" + assignment + "'");
  std::vector<YAML::Node> chain{root};
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    std::string k(path[i]);
    YAML::Node next = chain.back()[k];
    if (next && !next.IsNull() && !next.IsMap())
      throw Error("override '" + assignment + "': '" + join(std::vector<std::string>(path.begin(), path.begin() + i + 1), ".") +
                  "' is a value, not a section");
    if (!next || !next.IsMap()) {
      chain.back()[k] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[k];
    }
    chain.push_back(next);
  }
  chain.back()[std::string(path.back())] = value;
}

namespace {
nlohmann::json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& v : n) j.push_back(to_json(v));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted in the YAML
      long long i;
      double d;
      bool b;
      if (YAML::convert<long long>::decode(n, i)) return i;
      if (YAML::convert<double>::decode(n, d)) return d;
      if (YAML::convert<bool>::decode(n, b)) return b;
      return s;
    }
    default:
      return nullptr;
  }
}
}  // namespace

std::string yaml_to_json_string(const YAML::Node& node) { return to_json(node).dump(); }

}  // namespace clickprompt::core
