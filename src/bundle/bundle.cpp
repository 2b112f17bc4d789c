#include "bundle/bundle.h"

#include <cmath>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "bundle/text_views.h"
#include "core/checksum.h"
#include "core/error.h"
#include "core/strings.h"
#include "core/io.h"
#include "core/params.h"
#include "core/runtime.h"
#include "ctr/registry.h"
#include "plm/hf_config.h"
#include "plm/mlm.h"
#include "plm/tokenizer/tokenizer.h"

namespace clickprompt::bundle {

namespace fs = std::filesystem;

namespace {
const char* kManifest = "manifest.json";
const char* kModelYaml = "model.yaml";
const char* kVocab = "vocab.json";
const char* kWeights = "weights.safetensors";
// The PLM files a bundle carries: its config and whichever tokenizer files the source folder has.
const std::vector<std::string> kPlmFiles = {"config.json",      "tokenizer.json",         "vocab.json",
                                            "merges.txt",       "vocab.txt",              "tokenizer_config.json",
                                            "special_tokens_map.json"};

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string emit(const YAML::Node& n) {
  YAML::Emitter e;
  e << n;
  return std::string(e.c_str()) + "\n";
}

void check_contents(const Contents& c) {
  if (c.kind != kKindCtr && c.kind != kKindWithPlm) throw Error("bundle: unknown kind '" + c.kind + "'");
  if (c.fields.empty() || c.fields.size() != c.encoder.vocab.size())
    throw Error("bundle: " + std::to_string(c.fields.size()) + " fields but " +
                std::to_string(c.encoder.vocab.size()) + " vocabularies");
  if (c.weights.empty()) throw Error("bundle: no weights");
  if (c.kind == kKindWithPlm && c.plm_dir.empty()) throw Error("bundle: a with-PLM bundle needs the PLM's folder");
  if (c.batch_size <= 0) throw Error("bundle: batch_size must be > 0");
}

[[noreturn]] void corrupt(const std::string& dir, const std::string& what) {
  throw CorruptFile("bundle " + dir + ": " + what + " (export it again with `clickprompt export --run RUN --out " + dir +
              "`)");
}
}  // namespace

nlohmann::json save(const Contents& c, const std::string& dir_in) {
  check_contents(c);
  const fs::path dir = fs::absolute(dir_in).lexically_normal();
  std::error_code ec;
  if (fs::exists(dir) && !fs::is_directory(dir)) throw Error("bundle: " + dir.string() + " exists and is not a folder");
  if (fs::is_directory(dir) && !fs::is_empty(dir, ec) && !fs::exists(dir / kManifest))
    throw Error("bundle: " + dir.string() + " is a non-empty folder that is not a bundle; choose another --out");
  const fs::path tmp = dir.string() + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  try {
    fs::create_directories(tmp);
    nlohmann::json files = nlohmann::json::object();
    auto add = [&](const std::string& name) {
      const fs::path p = tmp / name;
      files[name] = {{"bytes", fs::file_size(p)}, {"sha256", core::sha256_file(p.string())}};
    };
    YAML::Node model;
    model["model"] = YAML::Clone(c.model);
    model["model"]["model"] = c.model_name;
    if (c.kind == kKindWithPlm) model["clickprompt"] = YAML::Clone(c.clickprompt);
    model["scoring"]["precision"] = c.precision;
    model["scoring"]["batch_size"] = c.batch_size;
    core::atomic_write_string((tmp / kModelYaml).string(), emit(model));
    add(kModelYaml);
    core::atomic_write_string((tmp / kVocab).string(), data::encoder_json(c.fields, c.encoder).dump());
    add(kVocab);
    plm::write_safetensors((tmp / kWeights).string(), c.weights,
                           {{"format", "pt"}, {"producer", "clickprompt"}, {"model", c.model_name}});
    add(kWeights);
    if (c.kind == kKindWithPlm) {
      fs::create_directories(tmp / "plm");
      for (const auto& f : kPlmFiles) {
        const fs::path src = fs::path(c.plm_dir) / f;
        if (!fs::exists(src)) continue;
        fs::copy_file(src, tmp / "plm" / f);
        add("plm/" + f);
      }
      if (!files.contains("plm/config.json")) throw Error("bundle: the PLM folder " + c.plm_dir + " has no config.json");
    }
    nlohmann::json fields = nlohmann::json::array();
    for (size_t f = 0; f < c.fields.size(); ++f)
      fields.push_back({{"name", c.fields[f].name},
                        {"display", c.fields[f].display},
                        {"vocabulary_size", c.encoder.field_size(static_cast<int>(f))}});
    nlohmann::json m = {{"format", kFormat},
                        {"format_version", kFormatVersion},
                        {"kind", c.kind},
                        {"model", c.model_name},
                        {"mode", c.mode},
                        {"fields", fields},
                        {"output", {{"name", "probability"}, {"datatype", "FP32"}}},
                        {"created_at", utc_now()},
                        {"created_from", c.created_from},
                        {"files", files}};
    core::atomic_write_string((tmp / kManifest).string(), m.dump(2) + "\n");
    // Swap into place: an old bundle moves aside first and is removed after.
    const fs::path old = dir.string() + ".old." + std::to_string(::getpid());
    if (fs::exists(dir)) fs::rename(dir, old);
    fs::rename(tmp, dir);
    fs::remove_all(old, ec);
    return m;
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(tmp, ec);
    throw Error("bundle: cannot write " + dir.string() + ": " + e.code().message() + " (" + e.path1().string() + ")");
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

nlohmann::json verify(const std::string& dir) {
  const std::string mpath = dir + "/" + kManifest;
  if (!fs::is_directory(dir)) throw Error("bundle " + dir + ": no such folder");
  if (!core::file_exists(mpath)) throw Error("bundle " + dir + ": no manifest.json (not a bundle?)");
  auto m = nlohmann::json::parse(core::read_file(mpath), nullptr, false);
  if (m.is_discarded() || !m.is_object()) corrupt(dir, "manifest.json is not valid JSON");
  if (m.value("format", "") != kFormat) corrupt(dir, "manifest.json does not name the format '" + std::string(kFormat) + "'");
  if (!m.contains("format_version") || !m["format_version"].is_number_integer())
    corrupt(dir, "manifest.json has no integer format_version");
  const int version = m["format_version"].get<int>();
  if (version != kFormatVersion)
    throw Error("bundle " + dir + " has format version " + std::to_string(version) + "; this build reads version " +
                std::to_string(kFormatVersion) + " (export it again with this build, or serve it with the build that made it)");
  for (const char* key : {"kind", "model"})
    if (!m.contains(key) || !m[key].is_string()) corrupt(dir, std::string("manifest.json has no string '") + key + "'");
  if (!m.contains("files") || !m["files"].is_object()) corrupt(dir, "manifest.json lists no files");
  std::vector<std::string> required = {kModelYaml, kVocab, kWeights};
  if (m["kind"] == kKindWithPlm) required.push_back("plm/config.json");
  for (const auto& r : required)
    if (!m["files"].contains(r)) corrupt(dir, "manifest.json does not list " + r);
  for (const auto& [name, info] : m["files"].items()) {
    if (name.find("..") != std::string::npos || (!name.empty() && name[0] == '/'))
      corrupt(dir, "manifest.json lists a path outside the bundle: " + name);
    const std::string p = dir + "/" + name;
    if (!info.is_object() || !info.contains("sha256") || !info["sha256"].is_string() || !info.contains("bytes") ||
        !info["bytes"].is_number_unsigned())
      corrupt(dir, "manifest.json's entry for " + name + " has no bytes and sha256");
    if (!core::file_exists(p)) corrupt(dir, name + " is missing");
    const auto bytes = fs::file_size(p);
    if (bytes != info["bytes"].get<uint64_t>())
      corrupt(dir, name + " has " + std::to_string(bytes) + " bytes, the manifest says " +
                       std::to_string(info["bytes"].get<uint64_t>()) + " (truncated or changed)");
    const std::string sum = core::sha256_file(p);
    if (sum != info["sha256"].get<std::string>())
      corrupt(dir, name + " is corrupt: its SHA-256 is " + sum + ", the manifest says " +
                       info["sha256"].get<std::string>());
  }
  return m;
}

Contents read(const std::string& dir) {
  nlohmann::json m = verify(dir);
  Contents c;
  c.kind = m["kind"].get<std::string>();
  if (c.kind != kKindCtr && c.kind != kKindWithPlm) corrupt(dir, "manifest.json names an unknown kind '" + c.kind + "'");
  c.model_name = m["model"].get<std::string>();
  c.mode = m.value("mode", "ctr");
  c.created_from = m.value("created_from", nlohmann::json::object());
  const std::string ypath = dir + "/" + kModelYaml;
  YAML::Node y = core::load_yaml(ypath);
  if (!y.IsMap() || !y["model"] || !y["model"].IsMap()) corrupt(dir, "model.yaml has no model section");
  c.model = y["model"];
  c.clickprompt = y["clickprompt"];
  core::Params scoring(y["scoring"], ypath + ":scoring");
  c.precision = scoring.get<std::string>("precision", "fp32");
  c.batch_size = scoring.get<int64_t>("batch_size", 4096);
  scoring.check_unused();
  const std::string vpath = dir + "/" + kVocab;
  auto v = nlohmann::json::parse(core::read_file(vpath), nullptr, false);
  if (v.is_discarded() || !v.is_array() || v.empty()) corrupt(dir, "vocab.json is not a list of fields");
  try {
    data::read_encoder_json(v, c.fields, c.encoder);
  } catch (const nlohmann::json::exception&) {
    corrupt(dir, "vocab.json: every field needs a name, a display name and a list of string values");
  } catch (const Error& e) {
    corrupt(dir, std::string("vocab.json: ") + e.what());
  }
  c.weights = plm::read_safetensors(dir + "/" + kWeights);
  if (c.kind == kKindWithPlm) c.plm_dir = dir + "/plm";
  return c;
}

plm::StateDict flat_state(torch::nn::Module& m) {
  plm::StateDict sd;
  for (const auto& p : m.named_parameters()) sd[p.key()] = p.value().detach().to(torch::kCPU).contiguous();
  for (const auto& b : m.named_buffers()) sd[b.key()] = b.value().detach().to(torch::kCPU).contiguous();
  return sd;
}

std::vector<std::string> copy_state(torch::nn::Module& m, const plm::StateDict& sd, const std::string& prefix,
                                    const std::set<std::string>& skip, const std::string& source) {
  torch::NoGradGuard ng;
  std::vector<std::string> missing;
  auto copy = [&](const std::string& name, torch::Tensor t) {
    if (skip.count(name)) return;
    auto it = sd.find(prefix + name);
    if (it == sd.end()) return missing.push_back(name);
    if (it->second.sizes() != t.sizes())
      throw Error(source + ": tensor " + prefix + name + " has shape " + c10::str(it->second.sizes()) +
                  ", the model expects " + c10::str(t.sizes()) + " (a different model configuration?)");
    t.copy_(it->second);
  };
  for (const auto& p : m.named_parameters()) copy(p.key(), p.value());
  for (const auto& b : m.named_buffers()) copy(b.key(), b.value());
  return missing;
}

Model::Model(const Contents& c, const std::string& device)
    : kind_(c.kind),
      model_name_(c.model_name),
      device_str_(core::check_device(device)),
      fields_(c.fields),
      encoder_(c.encoder),
      device_(device_str_),
      precision_(core::parse_precision(c.precision)),
      batch_size_(c.batch_size) {
  check_contents(c);
  encoder_.finalize();
  if (precision_ == core::Precision::Float16 && !device_.is_cuda()) precision_ = core::Precision::Float32;
  std::vector<std::string> names;
  for (const auto& f : fields_) names.push_back(f.name);
  core::Params model_p(YAML::Clone(c.model), "bundle model.yaml:model");
  model_p.has("model");
  ctr_ = ctr::create_model(c.model_name, encoder_.feature_info(names), model_p);
  torch::nn::Module* root = ctr_.get();
  if (c.kind == kKindWithPlm) {
    const std::string cfg = c.plm_dir + "/config.json";
    plm::MaskedLm plm(plm::HfConfig::load(cfg), /*with_head=*/true);
    auto tok = plm::load_tokenizer(c.plm_dir);
    if (tok->vocab_size() > plm->config().vocab_size)
      throw Error("bundle PLM " + c.plm_dir + ": the tokenizer has " + std::to_string(tok->vocab_size()) +
                  " tokens, the model's vocabulary only " + std::to_string(plm->config().vocab_size));
    core::Params cp_p(YAML::Clone(c.clickprompt), "bundle model.yaml:clickprompt");
    clickprompt_ = cp::ClickPromptModel(ctr_, plm, cp::ClickPromptOptions::from(cp_p));
    // The text views of the training values, tokenized once; other values per call.
    std::vector<data::FieldMeta> dict = fields_;
    for (size_t f = 0; f < dict.size(); ++f) dict[f].values = encoder_.vocab[f];
    text_ = std::make_shared<TextViews>(dict, tok);
    root = clickprompt_.get();
  }
  auto missing = copy_state(*root, c.weights, "", {}, "bundle weights");
  if (!missing.empty()) {
    std::string s;
    for (size_t i = 0; i < missing.size() && i < 5; ++i) s += (i ? ", " : "") + missing[i];
    throw Error("bundle weights lack " + std::to_string(missing.size()) + " of the model's tensors (" + s +
                ", ...): the weights do not belong to this model.yaml");
  }
  const auto expected = flat_state(*root).size();
  if (c.weights.size() != expected)
    throw Error("bundle weights hold " + std::to_string(c.weights.size()) + " tensors, the model has " +
                std::to_string(expected) + ": the weights do not belong to this model.yaml");
  root->to(device_);
  root->eval();
}

torch::Tensor Model::encode(const std::vector<std::vector<std::string>>& columns, int64_t begin, int64_t end) const {
  const int F = static_cast<int>(fields_.size()), S = encoder_.num_slots();
  auto ids = torch::empty({end - begin, S}, torch::kInt64);
  auto* p = ids.data_ptr<int64_t>();
  for (int f = 0; f < F; ++f)
    for (int64_t r = begin; r < end; ++r) encoder_.encode_into(f, columns[f][r], p + (r - begin) * S + encoder_.slot_offset(f));
  return ids;
}

std::vector<float> Model::score(const std::vector<std::vector<std::string>>& columns) {
  const int F = static_cast<int>(fields_.size());
  if (static_cast<int>(columns.size()) != F)
    throw Error("score: " + std::to_string(columns.size()) + " columns for " + std::to_string(F) + " fields");
  const int64_t n = static_cast<int64_t>(columns[0].size());
  for (const auto& c : columns)
    if (static_cast<int64_t>(c.size()) != n) throw Error("score: the columns differ in length");
  torch::NoGradGuard ng;
  std::vector<float> out;
  out.reserve(static_cast<size_t>(n));
  for (int64_t s = 0; s < n; s += batch_size_) {
    const int64_t e = std::min(n, s + batch_size_);
    auto ids = encode(columns, s, e).to(device_);
    torch::Tensor logit;
    {
      core::AutocastGuard ac(precision_, device_);
      if (clickprompt_) {
        auto [tok, mask] = text_->batch_values(columns, s, e);
        logit = clickprompt_->logit(ids, {tok.to(device_), mask.to(device_)});
      } else {
        logit = ctr_->forward(ids);
      }
    }
    auto prob = torch::sigmoid(logit.to(torch::kFloat32)).to(torch::kCPU).contiguous();
    const float* p = prob.data_ptr<float>();
    for (int64_t i = 0; i < prob.numel(); ++i)
      if (!std::isfinite(p[i]))
        throw Diverged("row " + std::to_string(s + i) + " scores " + core::format_number(p[i]) +
                       ": the model's weights or inputs are not finite (retrain the model)");
    out.insert(out.end(), p, p + prob.numel());
  }
  return out;
}

std::shared_ptr<Model> load(const std::string& dir, const std::string& device) {
  return std::make_shared<Model>(read(dir), device);
}

}  // namespace clickprompt::bundle
