#include "serve/inference_protocol.h"

#include <cstdio>
#include <map>

#include "core/error.h"
#include "core/strings.h"

namespace clickprompt::serve {

std::string json_field_value(const nlohmann::json& v, const std::string& what) {
  switch (v.type()) {
    case nlohmann::json::value_t::string:
      return v.get<std::string>();
    case nlohmann::json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case nlohmann::json::value_t::number_float:
    case nlohmann::json::value_t::boolean:
      return v.dump();
    default:
      throw Error(what + " must be a string or a number, not " + std::string(v.type_name()));
  }
}

namespace {
using json = nlohmann::json;

[[noreturn]] void bad(const std::string& what) { throw RequestError(400, what); }

std::string field_names(const std::vector<data::FieldMeta>& fields) {
  std::vector<std::string> n;
  for (const auto& f : fields) n.push_back(f.name);
  return core::join(n, ", ");
}

// The element's text: strings as they are, integers in decimal, other numbers as JSON writes them.
std::string element(const json& v, const std::string& input, size_t i) {
  if (v.is_string() || v.is_number()) return json_field_value(v, input);
  bad("input '" + input + "': element " + std::to_string(i) + " is " + v.type_name() +
      ", expected a string (datatype BYTES)");
}
}  // namespace

InferRequest parse_infer_request(std::string_view body, const std::vector<data::FieldMeta>& fields,
                                 int64_t max_rows) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) bad("malformed JSON in the request body");
  if (!j.is_object()) bad("the request body must be a JSON object with 'inputs'");
  InferRequest req;
  for (const auto& [key, v] : j.items())
    if (key != "id" && key != "inputs" && key != "outputs" && key != "parameters")
      bad("unknown key '" + key + "' in the request (expected id, inputs, outputs, parameters)");
  if (j.contains("id")) {
    if (!j["id"].is_string()) bad("'id' must be a string");
    req.id = j["id"].get<std::string>();
    req.has_id = true;
  }
  if (j.contains("parameters") && !j["parameters"].is_object()) bad("'parameters' must be an object");
  if (j.contains("outputs")) {
    if (!j["outputs"].is_array()) bad("'outputs' must be a list");
    for (const auto& o : j["outputs"]) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) bad("every output needs a string 'name'");
      if (o["name"] != "probability")
        bad("unknown output '" + o["name"].get<std::string>() + "' (the model has one output: probability)");
    }
  }
  if (!j.contains("inputs")) bad("the request has no 'inputs'");
  const json& inputs = j["inputs"];
  if (!inputs.is_array() || inputs.empty()) bad("'inputs' must be a non-empty list");
  std::map<std::string, size_t> index;
  for (size_t f = 0; f < fields.size(); ++f) index[fields[f].name] = f;
  req.columns.assign(fields.size(), {});
  std::vector<bool> seen(fields.size(), false);
  int64_t rows = -1;
  for (const auto& in : inputs) {
    if (!in.is_object()) bad("every input must be an object with name, datatype, shape and data");
    if (!in.contains("name") || !in["name"].is_string()) bad("an input has no string 'name'");
    const std::string name = in["name"].get<std::string>();
    auto it = index.find(name);
    if (it == index.end()) bad("unknown input '" + name + "' (the model's inputs: " + field_names(fields) + ")");
    const size_t f = it->second;
    if (seen[f]) bad("input '" + name + "' is given twice");
    seen[f] = true;
    if (!in.contains("datatype") || !in["datatype"].is_string()) bad("input '" + name + "' has no string 'datatype'");
    if (in["datatype"] != "BYTES")
      bad("input '" + name + "' has datatype " + in["datatype"].get<std::string>() + ", expected BYTES");
    if (!in.contains("shape") || !in["shape"].is_array()) bad("input '" + name + "' has no 'shape' list");
    const json& shape = in["shape"];
    for (const auto& d : shape)
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        bad("input '" + name + "': shape " + shape.dump() + " must hold non-negative integers");
    if (shape.empty() || shape.size() > 2 || (shape.size() == 2 && shape[1].get<int64_t>() != 1))
      bad("input '" + name + "': shape " + shape.dump() + ", expected [N] or [N, 1]");
    const int64_t n = shape[0].get<int64_t>();
    if (n > max_rows)
      throw RequestError(413, "input '" + name + "': " + std::to_string(n) + " rows, at most " +
                                  std::to_string(max_rows) + " per request");
    if (rows >= 0 && n != rows)
      bad("input '" + name + "' has " + std::to_string(n) + " rows, other inputs " + std::to_string(rows));
    rows = n;
    if (!in.contains("data") || !in["data"].is_array()) bad("input '" + name + "' has no 'data' list");
    const json& data = in["data"];
    auto& col = req.columns[f];
    col.reserve(static_cast<size_t>(n));
    for (const auto& v : data) {
      if (v.is_array()) {  // nested, one list per row ([N, 1])
        for (const auto& e : v) col.push_back(element(e, name, col.size()));
      } else {
        col.push_back(element(v, name, col.size()));
      }
      if (static_cast<int64_t>(col.size()) > n) break;
    }
    if (static_cast<int64_t>(col.size()) != n)
      bad("input '" + name + "': shape " + shape.dump() + " needs " + std::to_string(n) + " elements, data has " +
          (static_cast<int64_t>(col.size()) > n ? "more" : std::to_string(col.size())));
    if (in.contains("parameters") && !in["parameters"].is_object())
      bad("input '" + name + "': 'parameters' must be an object");
  }
  std::vector<std::string> missing;
  for (size_t f = 0; f < fields.size(); ++f)
    if (!seen[f]) missing.push_back(fields[f].name);
  if (!missing.empty()) bad("missing input(s) " + core::join(missing, ", ") + " (every field is an input)");
  req.rows = rows;
  return req;
}

std::string infer_response(const std::string& model, const InferRequest& req, const std::vector<float>& probs) {
  // Written by hand: the hot path of every request (nlohmann would build a tree first).
  std::string out = "{\"model_name\":" + json(model).dump() + ",\"model_version\":\"1\"";
  if (req.has_id) out += ",\"id\":" + json(req.id).dump(-1, ' ', false, json::error_handler_t::replace);
  out += ",\"outputs\":[{\"name\":\"probability\",\"datatype\":\"FP32\",\"shape\":[" + std::to_string(probs.size()) +
         "],\"data\":[";
  char buf[32];
  for (size_t i = 0; i < probs.size(); ++i) {
    int n = std::snprintf(buf, sizeof(buf), "%s%.9g", i ? "," : "", static_cast<double>(probs[i]));
    out.append(buf, static_cast<size_t>(n));
  }
  out += "]}]}";
  return out;
}

nlohmann::json model_metadata(const std::string& name, const std::vector<data::FieldMeta>& fields,
                              const nlohmann::json& extra) {
  json inputs = json::array();
  for (const auto& f : fields)
    inputs.push_back({{"name", f.name}, {"datatype", "BYTES"}, {"shape", {-1}}, {"parameters", {{"display", f.display}}}});
  json m = {{"name", name},
            {"versions", {"1"}},
            {"platform", "clickprompt"},
            {"inputs", inputs},
            {"outputs", {{{"name", "probability"}, {"datatype", "FP32"}, {"shape", {-1}}}}}};
  if (!extra.empty()) m["parameters"] = extra;
  return m;
}

std::string error_body(const std::string& message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace clickprompt::serve
