#include "plm/checkpoint.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/checksum.h"
#include "core/error.h"
#include "core/strings.h"
#include "core/io.h"

namespace clickprompt::plm {

namespace {

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  size_t size;
};

const DtypeInfo kDtypes[] = {{"F64", torch::kDouble, 8}, {"F32", torch::kFloat, 4},   {"F16", torch::kHalf, 2},
                             {"BF16", torch::kBFloat16, 2}, {"I64", torch::kLong, 8}, {"I32", torch::kInt, 4},
                             {"I16", torch::kShort, 2},    {"I8", torch::kChar, 1},   {"U8", torch::kByte, 1},
                             {"BOOL", torch::kBool, 1}};

const DtypeInfo* dtype_by_name(const std::string& n) {
  for (const auto& d : kDtypes)
    if (n == d.name) return &d;
  return nullptr;
}

const DtypeInfo* dtype_by_type(torch::ScalarType t) {
  for (const auto& d : kDtypes)
    if (t == d.type) return &d;
  return nullptr;
}

bool little_endian() {
  uint16_t x = 1;
  unsigned char c;
  std::memcpy(&c, &x, 1);
  return c == 1;
}

std::string shape_str(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

using core::ends_with;

std::string replace_suffix(const std::string& s, const std::string& from, const std::string& to) {
  return s.substr(0, s.size() - from.size()) + to;
}

}  // namespace

StateDict read_safetensors(const std::string& path) {
  if (!little_endian()) throw Error("safetensors reading needs a little-endian host");
  if (!core::file_exists(path)) throw Error("safetensors file not found: " + path);
  // Files this tool wrote carry a seal; HF downloads do not (their structure is checked below).
  if (core::file_exists(core::seal_path(path))) core::verify_sealed(path, "write or download the checkpoint again");
  core::MappedFile file(path);
  const size_t size = file.size();
  auto bad = [&](const std::string& what) { return CorruptFile("corrupt safetensors file " + path + ": " + what); };
  if (size < 8) throw bad("only " + std::to_string(size) + " bytes (truncated? the 8-byte header length is missing)");
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);
  if (n > size - 8)
    throw bad("header length " + std::to_string(n) + " exceeds the file size " + std::to_string(size) + " (truncated?)");
  auto header = nlohmann::json::parse(file.data() + 8, file.data() + 8 + n, nullptr, false);
  if (header.is_discarded() || !header.is_object()) throw bad("the header is not a JSON object");
  const char* data = file.data() + 8 + n;
  const uint64_t data_size = size - 8 - n;

  struct Entry {
    std::string name;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  StateDict out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const auto& e = it.value();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      throw bad("tensor '" + name + "' lacks dtype/shape/data_offsets");
    if (!e["dtype"].is_string()) throw bad("tensor '" + name + "': dtype is not a string");
    const DtypeInfo* dt = dtype_by_name(e["dtype"].get<std::string>());
    if (!dt) throw bad("tensor '" + name + "': unsupported dtype " + e["dtype"].dump());
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    if (!e["shape"].is_array()) throw bad("tensor '" + name + "': shape is not an array");
    for (const auto& d : e["shape"]) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        throw bad("tensor '" + name + "': bad dimension " + d.dump());
      shape.push_back(d.get<int64_t>());
      // A product that wraps around could match a small byte count: refuse it.
      if (__builtin_mul_overflow(numel, d.get<uint64_t>(), &numel) || numel > (uint64_t{1} << 48))
        throw bad("tensor '" + name + "': shape " + e["shape"].dump() + " is too large");
    }
    const auto& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw bad("tensor '" + name + "': data_offsets must be [begin, end]");
    uint64_t b = off[0].get<uint64_t>(), en = off[1].get<uint64_t>();
    if (b > en || en > data_size)
      throw bad("tensor '" + name + "': data_offsets [" + std::to_string(b) + ", " + std::to_string(en) +
                "] fall outside the data buffer of " + std::to_string(data_size) + " bytes (truncated?)");
    if (en - b != numel * dt->size)
      throw bad("tensor '" + name + "': " + std::to_string(en - b) + " bytes for shape " + shape_str(shape) + " " +
                dt->name + " (expected " + std::to_string(numel * dt->size) + ")");
    auto t = torch::empty(shape, torch::TensorOptions().dtype(dt->type));
    if (en > b) std::memcpy(t.data_ptr(), data + b, en - b);
    out.emplace(name, t);
    entries.push_back({name, b, en});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  uint64_t pos = 0;
  for (const auto& e : entries) {
    if (e.begin < pos) throw bad("tensor '" + e.name + "' overlaps the previous tensor");
    if (e.begin > pos) throw bad("hole of " + std::to_string(e.begin - pos) + " bytes before tensor '" + e.name + "'");
    pos = e.end;
  }
  if (pos != data_size)
    throw bad("tensors cover " + std::to_string(pos) + " bytes but the data buffer has " + std::to_string(data_size));
  return out;
}

void write_safetensors(const std::string& path, const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata) {
  if (!little_endian()) throw Error("safetensors writing needs a little-endian host");
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) {
    nlohmann::json m = nlohmann::json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = m;
  }
  std::vector<torch::Tensor> data;
  uint64_t offset = 0;
  for (const auto& [name, t0] : tensors) {  // std::map: sorted by name
    auto t = t0.detach().to(torch::kCPU).contiguous();
    const DtypeInfo* dt = dtype_by_type(t.scalar_type());
    if (!dt) throw Error("cannot write tensor '" + name + "' of dtype " + std::string(c10::toString(t.scalar_type())) +
                         " to safetensors " + path);
    uint64_t nbytes = static_cast<uint64_t>(t.numel()) * dt->size;
    header[name] = {{"dtype", dt->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    data.push_back(t);
  }
  std::string h = header.dump();
  while (h.size() % 8 != 0) h.push_back(' ');
  core::write_sealed(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw WriteError("cannot write " + tmp + ": " + std::strerror(errno));
    uint64_t n = h.size();
    out.write(reinterpret_cast<const char*>(&n), 8);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const auto& t : data)
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    out.flush();
    if (!out) throw WriteError("cannot write " + tmp + ": " + std::strerror(errno));
  });
}

StateDict read_torch_bin(const std::string& path) {
  if (!core::file_exists(path)) throw Error("checkpoint not found: " + path);
  std::string bytes = core::read_file(path);
  if (bytes.size() < 4 || bytes.compare(0, 2, "PK") != 0)
    throw Error("cannot read torch checkpoint " + path +
                ": not a zip-format torch.save file (legacy or corrupt; re-save it with torch>=1.6 or as safetensors)");
  std::vector<char> buf(bytes.begin(), bytes.end());
  bytes.clear();
  torch::IValue v;
  try {
    v = torch::pickle_load(buf);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    auto nl = msg.find('\n');
    throw Error("cannot read torch checkpoint " + path + " (truncated or corrupt?): " + msg.substr(0, nl));
  }
  if (v.isGenericDict()) {
    auto d = v.toGenericDict();
    if (d.contains("state_dict") && d.at("state_dict").isGenericDict()) v = d.at("state_dict");
  }
  if (!v.isGenericDict()) throw Error("torch checkpoint " + path + " does not hold a dict of tensors");
  StateDict out;
  for (const auto& item : v.toGenericDict()) {
    if (!item.key().isString()) throw Error("torch checkpoint " + path + ": a key is not a string");
    if (!item.value().isTensor()) continue;  // e.g. metadata entries
    out.emplace(item.key().toStringRef(), item.value().toTensor());
  }
  return out;
}

StateDict read_checkpoint_file(const std::string& path) {
  if (ends_with(path, ".safetensors")) return read_safetensors(path);
  return read_torch_bin(path);
}

std::string LoadReport::summary() const {
  std::string s = source + ": " + std::to_string(loaded.size()) + " tensors loaded";
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    s += std::string("; ") + what + " (" + std::to_string(v.size()) + "): ";
    for (size_t i = 0; i < v.size() && i < 10; ++i) s += (i ? ", " : "") + v[i];
    if (v.size() > 10) s += ", ...";
  };
  list("missing", missing);
  list("unexpected", unexpected);
  list("ignored", ignored);
  return s;
}

LoadReport load_state_dict(torch::nn::Module& model, const StateDict& sd, const std::string& source,
                           const LoadOptions& opt) {
  LoadReport rep;
  rep.source = source;
  auto params = model.named_parameters(/*recurse=*/true);
  std::set<std::string> names;
  for (const auto& p : params) names.insert(p.key());
  // The base-model prefix the model uses ("roberta"/"bert"), if any.
  std::string prefix;
  for (const auto& n : names)
    for (const char* cand : {"roberta.", "bert."})
      if (n.rfind(cand, 0) == 0) prefix = cand;

  auto resolve = [&](std::string k) -> std::string {
    if (ends_with(k, ".gamma")) k = replace_suffix(k, ".gamma", ".weight");
    if (ends_with(k, ".beta")) k = replace_suffix(k, ".beta", ".bias");
    if (names.count(k)) return k;
    if (!prefix.empty() && names.count(prefix + k)) return prefix + k;
    for (const char* cand : {"roberta.", "bert."}) {
      std::string c = cand;
      if (k.rfind(c, 0) == 0) {
        std::string stripped = k.substr(c.size());
        if (names.count(stripped)) return stripped;
        if (!prefix.empty() && names.count(prefix + stripped)) return prefix + stripped;
      }
    }
    return "";
  };

  std::map<std::string, torch::Tensor> assign;  // model name -> tensor
  std::vector<std::string> mismatches;
  std::vector<std::pair<std::string, std::string>> tied_checks;  // (checkpoint key, decoder kind)
  for (const auto& [key, t] : sd) {
    if (ends_with(key, "embeddings.position_ids")) {
      rep.ignored.push_back(key);
      continue;
    }
    std::string target = resolve(key);
    if (target.empty()) {
      // Tied duplicates: decoder.weight == word embeddings, decoder.bias == head bias.
      if (ends_with(key, "predictions.decoder.weight") || ends_with(key, "lm_head.decoder.weight")) {
        rep.ignored.push_back(key);
        tied_checks.emplace_back(key, "weight");
        continue;
      }
      if (ends_with(key, ".decoder.bias")) {
        std::string alias = resolve(replace_suffix(key, ".decoder.bias", ".bias"));
        if (!alias.empty() && !sd.count(replace_suffix(key, ".decoder.bias", ".bias"))) {
          target = alias;
        } else {
          rep.ignored.push_back(key);
          continue;
        }
      } else if (key.find("pooler.") != std::string::npos || key.rfind("cls.seq_relationship", 0) == 0) {
        rep.ignored.push_back(key);  // BERT pooler / NSP head: not part of this model
        continue;
      } else if (key.rfind("lm_head.", 0) == 0 || key.rfind("cls.predictions.", 0) == 0) {
        // An MLM head in the checkpoint, a model built without one.
        bool model_has_head = false;
        for (const auto& n : names) model_has_head = model_has_head || n.rfind("lm_head.", 0) == 0 || n.rfind("cls.", 0) == 0;
        if (!model_has_head) {
          rep.ignored.push_back(key);
          continue;
        }
        rep.unexpected.push_back(key);
        continue;
      } else {
        rep.unexpected.push_back(key);
        continue;
      }
    }
    const auto& p = params[target];
    if (p.sizes() != t.sizes()) {
      mismatches.push_back(key + ": checkpoint " + shape_str(t.sizes()) + " vs model " + shape_str(p.sizes()));
      continue;
    }
    assign[target] = t;
  }
  if (!mismatches.empty()) {
    std::string msg = source + ": shape mismatch for " + std::to_string(mismatches.size()) + " tensor(s) (wrong config.json?):";
    for (const auto& m : mismatches) msg += "\n  " + m;
    throw Error(msg);
  }
  for (const auto& n : names)
    if (!assign.count(n)) rep.missing.push_back(n);
  if (!rep.missing.empty() && !opt.allow_missing)
    throw Error(rep.summary() + "\n(a checkpoint for another architecture or size? pass allow_missing to keep "
                                "the missing tensors at their initial values)");
  if (!rep.unexpected.empty() && !opt.allow_unexpected) throw Error(rep.summary());
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, t] : assign) {
      auto& p = params[name];
      p.copy_(t.to(p.scalar_type()));
      rep.loaded.push_back(name);
    }
  }
  // A checkpoint decoder that differs from the embeddings is overridden by tying (as HF does).
  for (const auto& [key, kind] : tied_checks) {
    std::string emb = prefix + "embeddings.word_embeddings.weight";
    if (!params.contains(emb)) continue;
    const auto& dec = sd.at(key);
    const auto& e = params[emb];
    if (dec.sizes() != e.sizes() || !torch::equal(dec.to(torch::kFloat), e.detach().to(torch::kCPU).to(torch::kFloat)))
      spdlog::warn("{}: {} differs from the word embeddings; the decoder is tied to the embeddings (as in HF) and "
                   "this tensor is ignored (set tie_word_embeddings=false in config.json to keep it)",
                   source, key);
  }
  if (!rep.unexpected.empty()) spdlog::warn("{}", rep.summary());
  return rep;
}

MaskedLm load_pretrained(const std::string& dir, const torch::Device& device, bool with_head, LoadReport* report,
                         const LoadOptions& opt) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir)) throw Error("model folder not found: " + dir);
  HfConfig cfg = HfConfig::load(dir);
  std::string st = (fs::path(dir) / "model.safetensors").string();
  std::string bin = (fs::path(dir) / "pytorch_model.bin").string();
  std::string file = core::file_exists(st) ? st : core::file_exists(bin) ? bin : "";
  if (file.empty()) throw Error("no model.safetensors or pytorch_model.bin in " + dir);
  MaskedLm model(cfg, with_head);
  auto rep = load_state_dict(*model, read_checkpoint_file(file), file, opt);
  model->to(device);
  model->eval();
  if (report) *report = rep;
  return model;
}

StateDict state_dict(torch::nn::Module& model) {
  StateDict out;
  for (const auto& p : model.named_parameters(true)) out.emplace(p.key(), p.value().detach().to(torch::kCPU));
  return out;
}

void save_pretrained(MaskedLm& model, const std::string& dir) {
  core::make_dirs(dir);
  write_safetensors((std::filesystem::path(dir) / "model.safetensors").string(), state_dict(*model));
  model->config().save(dir);
}

void init_weights(MaskedLm& model, double std, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto& cfg = model->config();
  for (auto& p : model->named_parameters(true)) {
    const std::string& n = p.key();
    auto& t = p.value();
    bool is_ln = n.find("LayerNorm.") != std::string::npos || n.find("layer_norm.") != std::string::npos;
    if (is_ln && ends_with(n, ".weight")) {
      t.fill_(1.0);
    } else if (ends_with(n, ".bias") || n == "lm_head.bias" || n == "cls.predictions.bias") {
      t.zero_();
    } else {
      auto w = at::normal(0.0, std, t.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat));
      t.copy_(w);
      if (ends_with(n, "word_embeddings.weight") && cfg.pad_token_id < t.size(0)) t[cfg.pad_token_id].zero_();
      if (ends_with(n, "position_embeddings.weight") && cfg.is_roberta() && cfg.pad_token_id < t.size(0))
        t[cfg.pad_token_id].zero_();
    }
  }
}

}  // namespace clickprompt::plm
