#pragma once
// The model bundle: the contract between training and serving (DESIGN.md).
// One self-contained, versioned folder that needs nothing else at scoring time:
//
//   manifest.json        format + format_version, kind, model, mode, fields (name,
//                        display name, vocabulary size), created_from (run folder,
//                        data set, seed, test metrics), and for every other file
//                        its size and SHA-256
//   model.yaml           model: the CTR model's section; clickprompt: the
//                        ClickPrompt section (with-PLM only); scoring: precision,
//                        batch_size
//   vocab.json           the fitted encoder: per field name, display and values
//                        (local id k = values[k-1]; 0 is out-of-vocabulary)
//   weights.safetensors  every parameter and buffer by flat module name
//   plm/                 with-PLM only: the PLM's config.json and tokenizer files
//
// Kinds: "ctr" (any of the CTR models, a ClickPrompt fine-tuning without the
// PLM included: it serves at the CTR model's cost) and "clickprompt_with_plm"
// (CTR model + prompt generator + PLM; the server builds each row's text view).
// Loading checks the format version and every checksum and says which file is
// wrong and what to do; nothing is scored from a bundle that fails a check.
#include <yaml-cpp/yaml.h>

#include <map>
#include <set>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clickprompt/clickprompt_model.h"
#include "core/precision.h"
#include "ctr/ctr_model.h"
#include "data/dataset.h"
#include "plm/checkpoint.h"

namespace clickprompt::bundle {

constexpr const char* kFormat = "clickprompt-bundle";
constexpr int kFormatVersion = 1;
constexpr const char* kKindCtr = "ctr";
constexpr const char* kKindWithPlm = "clickprompt_with_plm";

// Everything a bundle holds, in memory: what export writes and load reads.
struct Contents {
  std::string kind = kKindCtr;
  std::string model_name;  // the CTR model (ClickPrompt's backbone)
  std::string mode = "ctr";  // the run's mode (ctr, clickprompt_without_plm, clickprompt_with_plm)
  std::vector<data::FieldMeta> fields;  // name and display (values unused)
  data::Encoder encoder;
  YAML::Node model;        // the model section
  YAML::Node clickprompt;  // with-PLM: the clickprompt section
  std::string precision = "fp32";
  int64_t batch_size = 4096;  // rows per forward pass when scoring many
  plm::StateDict weights;     // flat names, CPU
  std::string plm_dir;        // with-PLM: a folder with the PLM's config.json and tokenizer files
  nlohmann::json created_from = nlohmann::json::object();
};

// Writes a complete bundle at `dir` or nothing: built in a temp folder beside
// it and renamed into place (an existing bundle there is replaced; any other
// non-empty folder is an error). Returns the manifest.
nlohmann::json save(const Contents& c, const std::string& dir);
// Verifies the manifest (format, version, the checksum of every file, no file
// missing) and reads the bundle; plm_dir is then `dir`/plm.
Contents read(const std::string& dir);
// The manifest alone, verified as read() does.
nlohmann::json verify(const std::string& dir);

// Parameters and buffers by flat name, on the CPU.
plm::StateDict flat_state(torch::nn::Module& m);
// Copies sd[prefix + name] into m's tensors of that name, except `skip`;
// a shape mismatch throws Error naming `source`. Returns m's names without an entry.
std::vector<std::string> copy_state(torch::nn::Module& m, const plm::StateDict& sd, const std::string& prefix,
                                    const std::set<std::string>& skip, const std::string& source);

class TextViews;

// A bundle ready to score. score() may be called from one thread at a time
// (the server runs one batcher thread per model).
class Model {
 public:
  // Builds the model of `c` on `device` with its weights (every tensor must be there).
  Model(const Contents& c, const std::string& device);
  // Click probabilities of rows given as raw values (columns[f][r], one column
  // per field in fields() order, as in the training files): unseen values take
  // the out-of-vocabulary id as in training; with the PLM, text views are built
  // from the raw values. Batches of batch_size() rows, under the bundle's precision.
  std::vector<float> score(const std::vector<std::vector<std::string>>& columns);
  const std::vector<data::FieldMeta>& fields() const { return fields_; }
  const std::string& kind() const { return kind_; }
  const std::string& model_name() const { return model_name_; }
  int64_t batch_size() const { return batch_size_; }
  const std::string& device() const { return device_str_; }

 private:
  torch::Tensor encode(const std::vector<std::vector<std::string>>& columns, int64_t begin, int64_t end) const;
  std::string kind_, model_name_, device_str_;
  std::vector<data::FieldMeta> fields_;
  data::Encoder encoder_;
  torch::Device device_;
  core::Precision precision_;
  int64_t batch_size_;
  ctr::CtrModelPtr ctr_;
  cp::ClickPromptModel clickprompt_{nullptr};
  std::shared_ptr<TextViews> text_;
};

// read() + Model: the bundle at `dir` on `device` ("cpu", "cuda", "cuda:N").
std::shared_ptr<Model> load(const std::string& dir, const std::string& device = "cpu");

}  // namespace clickprompt::bundle
