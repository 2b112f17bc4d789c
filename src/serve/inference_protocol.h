#pragma once
// The Open Inference Protocol v2 (KServe / Triton REST) for a bundle's model:
// one BYTES input tensor per field (shape [-1] or [-1, 1], raw values as in
// the training files), one FP32 output, `probability`. Parsing is strict and
// every refusal names the problem; nothing here throws anything but
// RequestError, whatever the body holds.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"

namespace clickprompt::serve {

// A request the server refuses: the HTTP status (4xx) and the message of the JSON error body.
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& what) : std::runtime_error(what), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct InferRequest {
  std::string id;  // echoed when the request has one
  bool has_id = false;
  int64_t rows = 0;
  std::vector<std::vector<std::string>> columns;  // [field][row], in the model's field order
};

// The text form of a JSON value as a field value (infer requests, predict's JSON
// lines): strings as they are, integers in decimal, other numbers as JSON writes
// them, booleans true/false. Throws Error (naming `what`) for null, arrays and objects.
std::string json_field_value(const nlohmann::json& v, const std::string& what);

// Parses and checks an infer request body against the model's fields: JSON
// object, `inputs` naming every field exactly once, datatype BYTES (elements
// strings; numbers are accepted and written in decimal), shape [N] or [N, 1]
// with N elements (flat or nested one per row), the same N for every input,
// at most max_rows rows; optional `id`, `parameters`, and `outputs` naming
// only `probability`.
InferRequest parse_infer_request(std::string_view body, const std::vector<data::FieldMeta>& fields,
                                 int64_t max_rows = 1 << 20);

// {"model_name", "model_version", "id"?, "outputs": [{"name": "probability", "datatype": "FP32", "shape": [N], "data"}]}
std::string infer_response(const std::string& model, const InferRequest& req, const std::vector<float>& probs);
// Model metadata: name, versions, platform, inputs (one per field), outputs.
nlohmann::json model_metadata(const std::string& name, const std::vector<data::FieldMeta>& fields,
                              const nlohmann::json& extra = nlohmann::json::object());
// {"error": message}
std::string error_body(const std::string& message);

}  // namespace clickprompt::serve
