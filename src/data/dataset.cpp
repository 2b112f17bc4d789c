#include "data/dataset.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <unistd.h>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"
#include "data/reader.h"

namespace clickprompt::data {

namespace {
constexpr char kMagic[8] = {'C', 'P', 'D', 'A', 'T', 'A', '0', '1'};
constexpr uint64_t kFormatVersion = 1;

struct CacheHeader {
  char magic[8];
  uint64_t version, num_fields, n_train, n_valid, n_test, has_prob;
  uint64_t num_slots;  // ids per row (num_fields unless a field is multi-valued; 0 in older caches: num_fields)
};

CacheHeader make_header(int64_t fields, int64_t slots, int64_t n_train, int64_t n_valid, int64_t n_test, bool has_prob) {
  CacheHeader h{};
  h.num_slots = static_cast<uint64_t>(slots);
  std::memcpy(h.magic, kMagic, 8);
  h.version = kFormatVersion;
  h.num_fields = static_cast<uint64_t>(fields);
  h.n_train = static_cast<uint64_t>(n_train);
  h.n_valid = static_cast<uint64_t>(n_valid);
  h.n_test = static_cast<uint64_t>(n_test);
  h.has_prob = has_prob ? 1 : 0;
  return h;
}
}  // namespace

// ---------------------------------------------------------------- encoder
int64_t Encoder::total_size() const {
  int64_t n = 0;
  for (int f = 0; f < num_fields(); ++f) n += field_size(f);
  return n;
}

void Encoder::finalize() {
  edges.resize(vocab.size());
  width.resize(vocab.size(), 1);
  separator.resize(vocab.size());
  slot_offsets_.assign(1, 0);
  for (size_t f = 0; f < vocab.size(); ++f) {
    if (width[f] < 0 || width[f] > 1024 || (width[f] > 1 && separator[f].empty()) || (!separator[f].empty() && edges[f]) ||
        (width[f] == 0 && (!separator[f].empty() || edges[f] || !vocab[f].empty())))
      throw Error("encoder: field " + std::to_string(f) + " has a bad multi-value layout (width " + std::to_string(width[f]) + ")");
    slot_offsets_.push_back(slot_offsets_.back() + width[f]);
  }
  offsets.assign(vocab.size(), 0);
  lookup_.assign(vocab.size(), {});
  int64_t off = 0;
  for (size_t f = 0; f < vocab.size(); ++f) {
    if (edges[f] && vocab[f].size() != edges[f]->size() + 1)
      throw Error("encoder: numeric field " + std::to_string(f) + " has " + std::to_string(edges[f]->size()) +
                  " edges but " + std::to_string(vocab[f].size()) + " bucket labels");
    offsets[f] = off;
    if (!edges[f])
      for (size_t k = 0; k < vocab[f].size(); ++k) lookup_[f].emplace(vocab[f][k], static_cast<int32_t>(off + k + 1));
    off += field_size(static_cast<int>(f));
  }
  if (off > std::numeric_limits<int32_t>::max()) throw Error("vocabulary too large for int32 ids");
}

std::optional<double> Encoder::number(std::string_view value) {
  std::string v(core::trim(value));
  char* end = nullptr;
  const double x = v.empty() ? NAN : std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(x)) return std::nullopt;
  return x;
}

int32_t Encoder::bucket(int f, std::string_view value) const {
  const auto& e = *edges[f];
  const auto x = number(value);
  if (!x) return 0;
  return static_cast<int32_t>(std::upper_bound(e.begin(), e.end(), *x) - e.begin()) + 1;
}

std::vector<std::string> Encoder::bucket_labels(const std::vector<double>& e) {
  if (e.empty()) return {"any"};
  std::vector<std::string> out{"< " + core::format_number(e.front())};
  for (size_t k = 1; k < e.size(); ++k) out.push_back("[" + core::format_number(e[k - 1]) + ", " + core::format_number(e[k]) + ")");
  out.push_back(">= " + core::format_number(e.back()));
  return out;
}

int32_t Encoder::encode(int f, const std::string& value) const {
  if (edges[f]) return static_cast<int32_t>(offsets[f]) + bucket(f, value);
  auto it = lookup_[f].find(value);
  return it == lookup_[f].end() ? static_cast<int32_t>(offsets[f]) : it->second;
}

int32_t Encoder::lookup_id(int f, std::string_view v) const {
  auto it = lookup_[f].find(std::string(v));
  return it == lookup_[f].end() ? static_cast<int32_t>(offsets[f]) : it->second;
}

nlohmann::json encoder_json(const std::vector<FieldMeta>& fields, const Encoder& enc) {
  nlohmann::json j = nlohmann::json::array();
  for (size_t f = 0; f < fields.size(); ++f) {
    nlohmann::json r = {{"name", fields[f].name}, {"display", fields[f].display}, {"vocab", enc.vocab[f]}};
    if (f < enc.edges.size() && enc.edges[f]) r["edges"] = *enc.edges[f];
    if (f < enc.width.size() && enc.width[f] != 1) r["width"] = enc.width[f];
    if (f < enc.separator.size() && !enc.separator[f].empty()) r["separator"] = enc.separator[f];
    j.push_back(std::move(r));
  }
  return j;
}

void read_encoder_json(const nlohmann::json& j, std::vector<FieldMeta>& fields, Encoder& enc) {
  enc.vocab.clear();
  enc.edges.clear();
  enc.width.clear();
  enc.separator.clear();
  for (const auto& f : j) {
    fields.push_back({f.at("name").get<std::string>(), f.at("display").get<std::string>(), {}, f.value("separator", std::string())});
    enc.vocab.push_back(f.at("vocab").get<std::vector<std::string>>());
    enc.edges.emplace_back();
    if (f.contains("edges")) enc.edges.back() = f.at("edges").get<std::vector<double>>();
    enc.width.push_back(f.value("width", 1));
    enc.separator.push_back(f.value("separator", std::string()));
  }
  enc.finalize();
}

ctr::FeatureInfo Encoder::feature_info(const std::vector<std::string>& names) const {
  // The ID view's fields: text-only ones have no slot.
  ctr::FeatureInfo info;
  info.vocab_size = total_size();
  for (int f = 0; f < num_fields(); ++f) {
    if (width[f] == 0) continue;
    ++info.num_fields;
    info.field_offsets.push_back(offsets[f]);
    info.field_sizes.push_back(field_size(f));
    info.field_widths.push_back(width[f]);
    info.field_names.push_back(names[f]);
  }
  return info;
}

// ---------------------------------------------------------------- dataset
const Split& Dataset::split(const std::string& name) const {
  if (name == "train") return train;
  if (name == "valid") return valid;
  if (name == "test") return test;
  throw Error("unknown split '" + name + "' (" + core::suggest(name, {"train", "valid", "test"}) + ")");
}

ctr::FeatureInfo Dataset::feature_info() const {
  std::vector<std::string> names;
  for (const auto& f : fields) names.push_back(f.name);
  return encoder.feature_info(names);
}

std::string Dataset::value(const Split& s, int64_t row, int field) const {
  int32_t code = s.codes.data_ptr<int32_t>()[row * static_cast<int64_t>(fields.size()) + field];
  return fields[field].values[code];
}

std::string FieldMeta::text(const std::string& raw) const {
  if (separator.empty()) return raw;
  std::string out;
  Encoder::for_each_part(raw, separator, [&](std::string_view v) {
    if (!out.empty()) out += ", ";
    out += v;
  });
  return out;
}

std::string Dataset::text_view(const Split& s, int64_t row) const {
  std::string out;
  for (size_t f = 0; f < fields.size(); ++f) {
    if (f) out.push_back(' ');
    out += fields[f].display;
    out += " is ";
    out += fields[f].text(value(s, row, static_cast<int>(f)));
    out.push_back('.');
  }
  return out;
}

SplitIndices make_split(const SplitSpec& s, size_t rows, const std::vector<double>* timestamps,
                        const std::vector<uint8_t>* split_of_row) {
  SplitIndices out;
  if (s.kind == "column") {  // the data names each row's split; rows keep the file's order
    if (!split_of_row || split_of_row->size() != rows) throw Error("split.kind column: the reader gave no split per row");
    for (size_t r = 0; r < rows; ++r) {
      const uint8_t p = (*split_of_row)[r];
      (p == 0 ? out.train : p == 1 ? out.valid : out.test).push_back(static_cast<int64_t>(r));
    }
    out.kind_used = "column " + s.column;
    return out;
  }
  std::vector<int64_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  out.kind_used = s.kind;
  if (s.kind == "time" && (timestamps == nullptr || timestamps->empty())) {
    spdlog::warn("split.kind=time asked for, but the data has no timestamps (e.g. a 3-field ratings.dat); "
                 "falling back to a random split with seed {}",
                 s.seed);
    out.kind_used = "random (time split requested; no timestamps)";
  }
  if (s.kind == "time" && timestamps && !timestamps->empty()) {
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return (*timestamps)[a] < (*timestamps)[b]; });
  } else {
    std::mt19937_64 rng(s.seed);
    for (size_t i = rows; i > 1; --i) {
      std::uniform_int_distribution<size_t> pick(0, i - 1);
      std::swap(order[i - 1], order[pick(rng)]);
    }
  }
  size_t n_train = static_cast<size_t>(std::llround(rows * s.ratios[0]));
  size_t n_valid = static_cast<size_t>(std::llround(rows * s.ratios[1]));
  n_train = std::min(n_train, rows);
  n_valid = std::min(n_valid, rows - n_train);
  out.train.assign(order.begin(), order.begin() + n_train);
  out.valid.assign(order.begin() + n_train, order.begin() + n_train + n_valid);
  out.test.assign(order.begin() + n_train + n_valid, order.end());
  return out;
}

namespace {

uint64_t cache_key(const DatasetSpec& spec, const std::vector<std::string>& files) {
  YAML::Emitter e;
  e << spec.yaml;
  uint64_t h = core::fnv1a(std::string(e.c_str()), core::fnv1a("clickprompt-cache-v" + std::to_string(kFormatVersion)));
  for (const auto& f : files) h = core::hash_file(f, h);
  return h;
}

// Labels are 0/1, or any finite value when the spec states a threshold.
bool valid_label(const DatasetSpec& spec, double v) { return std::isfinite(v) && (spec.has_label_threshold || v == 0 || v == 1); }
float binary_label(const DatasetSpec& spec, double v) { return v > spec.label_threshold ? 1.0f : 0.0f; }

void check_labels(const DatasetSpec& spec, const std::vector<double>& col) {
  int64_t bad = 0, first = -1;
  for (size_t r = 0; r < col.size(); ++r) {
    if (valid_label(spec, col[r])) continue;
    if (bad++ == 0) first = static_cast<int64_t>(r);
  }
  if (bad == 0) return;
  throw Error("dataset " + spec.name + ": " + std::to_string(bad) + " of " + std::to_string(col.size()) + " rows have a " +
              spec.label_column + " label that is " +
              (spec.has_label_threshold ? "not a finite number" : "not 0 or 1") + " (first: data row " +
              std::to_string(first + 1) + " of " + spec.path + ", value " + core::format_number(col[first]) + ")" +
              (spec.has_label_threshold ? "" : "; to binarize another scale set label.threshold (label = value > threshold)"));
}

// A numeric field's buckets: the given edges, or quantiles of the training
// values (weighted by count; equal quantiles merge, so discrete values may give fewer buckets).
void fit_buckets(Encoder& enc, int f, const FieldSpec& fs, const std::vector<std::string>& values,
                 const std::vector<int64_t>& counts) {
  std::vector<double> edges = fs.edges;
  if (edges.empty()) {
    std::vector<std::pair<double, int64_t>> seen;
    int64_t total = 0;
    for (size_t c = 0; c < values.size(); ++c) {
      const auto x = counts[c] > 0 ? Encoder::number(values[c]) : std::nullopt;
      if (!x) continue;
      seen.emplace_back(*x, counts[c]);
      total += counts[c];
    }
    std::sort(seen.begin(), seen.end());
    // "1" and "1.0" are one number.
    std::vector<std::pair<double, int64_t>> merged;
    for (const auto& xn : seen)
      if (!merged.empty() && merged.back().first == xn.first) merged.back().second += xn.second;
      else merged.push_back(xn);
    // Edge k goes between values i and i+1 once the values up to i hold k/B of the total.
    int64_t cum = 0;
    int k = 1;
    for (size_t i = 0; i + 1 < merged.size(); ++i) {
      cum += merged[i].second;
      bool crossed = false;
      for (; k < fs.buckets && static_cast<double>(cum) >= static_cast<double>(total) * k / fs.buckets; ++k) crossed = true;
      if (crossed) edges.push_back(merged[i + 1].first);
    }
  }
  enc.edges[f] = edges;
  enc.vocab[f] = Encoder::bucket_labels(edges);
}

// Fits the encoder from the training counts of each field's raw codes (kept when
// >= min_count, ordered by frequency; numeric fields bucketed; multi-valued
// fields counted per value) and fills ds.fields. Returns, per field, each raw
// code's global ids: width(f) of them, at code_ids[f][code * width(f)].
std::vector<std::vector<int32_t>> fit_encoder(Dataset& ds, const std::vector<const StringColumn*>& cols,
                                              const std::vector<std::vector<int64_t>>& counts) {
  const auto& spec = ds.spec;
  const int F = static_cast<int>(spec.fields.size());
  auto& enc = ds.encoder;
  ds.fields.clear();
  for (int f = 0; f < F; ++f)
    ds.fields.push_back({spec.fields[f].name, spec.fields[f].display, cols[f]->values, spec.fields[f].separator});
  enc.vocab.assign(F, {});
  enc.edges.assign(F, std::nullopt);
  enc.width.assign(F, 1);
  enc.separator.assign(F, "");
  // Local ids per raw code (width per code), then global once the offsets are known.
  std::vector<std::vector<int32_t>> local(F);
  for (int f = 0; f < F; ++f) {
    const auto& fs = spec.fields[f];
    const auto& values = cols[f]->values;
    const auto& n = counts[f];
    if (fs.text()) {
      enc.width[f] = 0;
      continue;
    }
    if (fs.numeric()) {
      fit_buckets(enc, f, fs, values, n);
      local[f].resize(n.size());
      for (size_t c = 0; c < n.size(); ++c) local[f][c] = enc.bucket(f, values[c]);
      continue;
    }
    // The values counted: the raw values, or for a multi-valued field each value of each.
    StringColumn single;
    std::vector<int64_t> single_count;
    std::vector<std::vector<uint32_t>> parts(fs.multi() ? values.size() : 0);
    int width = 1;
    if (fs.multi()) {
      enc.separator[f] = fs.separator;
      for (size_t c = 0; c < values.size(); ++c) {
        Encoder::for_each_part(values[c], fs.separator, [&](std::string_view v) {
          const uint32_t k = single.intern(v);
          if (k >= single_count.size()) single_count.resize(k + 1, 0);
          parts[c].push_back(k);
          single_count[k] += n[c];
        });
        if (n[c] > 0) width = std::max(width, static_cast<int>(parts[c].size()));
      }
      enc.width[f] = width = std::min(width, fs.max_values);
    }
    const auto& names = fs.multi() ? single.values : values;
    const auto& m = fs.multi() ? single_count : n;
    std::vector<int32_t> kept;
    for (size_t c = 0; c < m.size(); ++c)
      if (m[c] >= fs.min_count) kept.push_back(static_cast<int32_t>(c));
    std::stable_sort(kept.begin(), kept.end(), [&](int32_t a, int32_t b) { return m[a] > m[b]; });
    std::vector<int32_t> to_local(m.size(), 0);
    for (size_t k = 0; k < kept.size(); ++k) {
      to_local[kept[k]] = static_cast<int32_t>(k + 1);
      enc.vocab[f].push_back(names[kept[k]]);
    }
    if (!fs.multi()) {
      local[f] = std::move(to_local);
      continue;
    }
    local[f].assign(values.size() * width, 0);  // unused slots: OOV
    for (size_t c = 0; c < values.size(); ++c)
      for (size_t k = 0; k < parts[c].size() && k < static_cast<size_t>(width); ++k) local[f][c * width + k] = to_local[parts[c][k]];
  }
  enc.finalize();
  for (int f = 0; f < F; ++f)
    for (auto& id : local[f]) id += static_cast<int32_t>(enc.offsets[f]);
  return local;
}

// Builds the three splits from the raw table (encoder fitted on train).
void build(Dataset& ds, const RawTable& t) {
  const auto& spec = ds.spec;
  const int F = static_cast<int>(spec.fields.size());
  const auto* ts = t.numbers.count("timestamp") ? &t.numbers.at("timestamp") : nullptr;
  SplitIndices idx = make_split(spec.split, t.rows, ts, &t.split_of_row);
  ds.split_used = idx.kind_used;
  ds.reader_report = t.report;
  if (idx.train.empty() || idx.valid.empty() || idx.test.empty())
    throw Error("dataset " + spec.name + ": too few rows (" + std::to_string(t.rows) + ") for a train/valid/test split");

  std::vector<const StringColumn*> cols;
  std::vector<std::vector<int64_t>> counts(F);
  for (int f = 0; f < F; ++f) {
    cols.push_back(&t.strings.at(spec.fields[f].source));
    counts[f].assign(cols[f]->values.size(), 0);
    for (int64_t r : idx.train) ++counts[f][cols[f]->codes[r]];
  }
  const auto code_ids = fit_encoder(ds, cols, counts);
  const int S = ds.encoder.num_slots();

  const auto& label_col = t.numbers.at(spec.label_column);
  check_labels(spec, label_col);
  const std::vector<double>* prob_col = spec.prob_column.empty() ? nullptr : &t.numbers.at(spec.prob_column);
  auto fill = [&](Split& s, const char* name, const std::vector<int64_t>& rows) {
    s.name = name;
    s.rows = static_cast<int64_t>(rows.size());
    s.ids = torch::empty({s.rows, S}, torch::kInt32);
    s.codes = torch::empty({s.rows, F}, torch::kInt32);
    s.labels = torch::empty({s.rows}, torch::kFloat32);
    auto* ids = s.ids.data_ptr<int32_t>();
    auto* codes = s.codes.data_ptr<int32_t>();
    auto* labels = s.labels.data_ptr<float>();
    // Per field: its row codes, its code -> ids table, width and first slot (hoisted: this loop is a third of a prepare).
    std::vector<const uint32_t*> row_codes(F);
    std::vector<const int32_t*> table(F);
    std::vector<int> width(F), slot(F);
    for (int f = 0; f < F; ++f) {
      row_codes[f] = cols[f]->codes.data();
      table[f] = code_ids[f].data();
      width[f] = ds.encoder.width[f];
      slot[f] = ds.encoder.slot_offset(f);
    }
    for (int64_t i = 0; i < s.rows; ++i) {
      const int64_t r = rows[i];
      int32_t* out = ids + i * S;
      for (int f = 0; f < F; ++f) {
        const uint32_t c = row_codes[f][r];
        codes[i * F + f] = static_cast<int32_t>(c);
        if (width[f] == 1) {
          out[slot[f]] = table[f][c];
        } else {
          for (int k = 0; k < width[f]; ++k) out[slot[f] + k] = table[f][static_cast<size_t>(c) * width[f] + k];
        }
      }
      labels[i] = binary_label(spec, label_col[r]);
    }
    if (prob_col) {
      s.prob = torch::empty({s.rows}, torch::kFloat32);
      auto* p = s.prob.data_ptr<float>();
      for (int64_t i = 0; i < s.rows; ++i) p[i] = static_cast<float>((*prob_col)[rows[i]]);
    }
  };
  fill(ds.train, "train", idx.train);
  fill(ds.valid, "valid", idx.valid);
  fill(ds.test, "test", idx.test);
}

nlohmann::json meta_json(const Dataset& ds, uint64_t key) {
  nlohmann::json j;
  j["format_version"] = kFormatVersion;
  j["key"] = core::hex64(key);
  j["name"] = ds.spec.name;
  j["split_used"] = ds.split_used;
  j["reader_report"] = ds.reader_report;
  j["fields"] = encoder_json(ds.fields, ds.encoder);
  for (size_t f = 0; f < ds.fields.size(); ++f) j["fields"][f]["values"] = ds.fields[f].values;
  return j;
}

void write_cache(const Dataset& ds, const std::string& dir, uint64_t key) {
  core::make_dirs(dir);
  const int64_t F = static_cast<int64_t>(ds.fields.size());
  core::write_sealed(dir + "/data.bin", [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw WriteError("cannot write cache file " + tmp + ": " + std::strerror(errno));
    const CacheHeader h = make_header(F, ds.encoder.num_slots(), ds.train.rows, ds.valid.rows, ds.test.rows, ds.train.prob.defined());
    out.write(reinterpret_cast<const char*>(&h), sizeof(h));
    auto put = [&](const torch::Tensor& t) {
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    };
    for (const Split* s : {&ds.train, &ds.valid, &ds.test}) {
      put(s->ids);
      put(s->codes);
      put(s->labels);
      if (h.has_prob) put(s->prob);
    }
    out.flush();
    if (!out) throw WriteError("cannot write cache file " + tmp + ": " + std::strerror(errno));
  });
  // meta.json last: its presence marks a complete cache. Invalid UTF-8 cannot
  // reach it (the readers refuse it), so dump() does not throw.
  core::write_sealed(dir + "/meta.json", meta_json(ds, key).dump());
}

void load_cache(Dataset& ds, const std::string& dir, uint64_t key) {
  const std::string meta_path = dir + "/meta.json", bin_path = dir + "/data.bin";
  const std::string hint = "rerun with --rebuild-cache (or delete " + dir + ")";
  auto corrupt = [&](const std::string& why) { return CorruptFile("corrupt data cache " + dir + ": " + why + "; " + hint); };
  nlohmann::json j = nlohmann::json::parse(core::read_sealed(meta_path, hint), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw corrupt("meta.json is not a JSON object");
  try {
    if (j.at("key").get<std::string>() != core::hex64(key)) throw corrupt("meta.json: key mismatch");
    ds.split_used = j.at("split_used").get<std::string>();
    ds.reader_report = j.value("reader_report", std::vector<std::string>{});
    const auto& fields = j.at("fields");
    if (fields.size() != ds.spec.fields.size()) throw corrupt("field count differs from the spec");
    read_encoder_json(fields, ds.fields, ds.encoder);
    for (size_t f = 0; f < fields.size(); ++f) ds.fields[f].values = fields[f].at("values").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw corrupt("meta.json: a field record is malformed");
  } catch (const Error& e) {
    throw corrupt(std::string("meta.json: ") + e.what());
  }

  core::verify_sealed(bin_path, hint);
  auto map = std::make_shared<core::MappedFile>(bin_path);
  if (map->size() < sizeof(CacheHeader)) throw corrupt("data.bin is truncated");
  CacheHeader h;
  std::memcpy(&h, map->data(), sizeof(h));
  if (std::memcmp(h.magic, kMagic, 8) != 0 || h.version != kFormatVersion) throw corrupt("data.bin has a bad header");
  const int64_t F = static_cast<int64_t>(h.num_fields);
  if (F != static_cast<int64_t>(ds.fields.size())) throw corrupt("field count mismatch");
  const int64_t S = h.num_slots == 0 ? F : static_cast<int64_t>(h.num_slots);
  if (S != ds.encoder.num_slots()) throw corrupt("data.bin has " + std::to_string(S) + " ids per row, meta.json " +
                                                 std::to_string(ds.encoder.num_slots()));
  uint64_t per_row = 4 * (S + F + 1 + h.has_prob);
  uint64_t expect = sizeof(CacheHeader) + per_row * (h.n_train + h.n_valid + h.n_test);
  if (map->size() != expect)
    throw corrupt("data.bin has " + std::to_string(map->size()) + " bytes, expected " + std::to_string(expect));
  size_t off = sizeof(CacheHeader);
  auto view = [&](std::vector<int64_t> shape, torch::Dtype dt) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    void* p = const_cast<char*>(map->data() + off);
    off += static_cast<size_t>(n) * 4;
    return torch::from_blob(p, shape, [map](void*) {}, torch::TensorOptions().dtype(dt));
  };
  int64_t max_id = ds.encoder.total_size();
  auto load = [&](Split& s, const char* name, int64_t rows) {
    s.name = name;
    s.rows = rows;
    s.ids = view({rows, S}, torch::kInt32);
    s.codes = view({rows, F}, torch::kInt32);
    s.labels = view({rows}, torch::kFloat32);
    if (h.has_prob) s.prob = view({rows}, torch::kFloat32);
    if (rows > 0 && (s.ids.min().item<int32_t>() < 0 || s.ids.max().item<int32_t>() >= max_id))
      throw corrupt(std::string(name) + " ids out of range");
    // Codes index the fields' value lists (text views, export): each in its field's range.
    if (rows > 0) {
      auto lo = std::get<0>(s.codes.min(0)), hi = std::get<0>(s.codes.max(0));
      for (int64_t f = 0; f < F; ++f)
        if (lo[f].item<int32_t>() < 0 || hi[f].item<int32_t>() >= static_cast<int32_t>(ds.fields[f].values.size()))
          throw corrupt(std::string(name) + " value codes of field " + ds.fields[f].name + " out of range");
    }
    if (rows > 0) {
      auto l = s.labels;
      if (!((l == 0) | (l == 1)).all().item<bool>()) throw corrupt(std::string(name) + " labels are not 0/1");
    }
  };
  load(ds.train, "train", static_cast<int64_t>(h.n_train));
  load(ds.valid, "valid", static_cast<int64_t>(h.n_valid));
  load(ds.test, "test", static_cast<int64_t>(h.n_test));
}

// The streaming build, for readers that hand over rows one at a time (GoodReads:
// 228 M rows): memory holds the dictionaries and the training counts, not the rows.
// A row's split is drawn from a seeded hash of its index, so the ratios hold in
// expectation and rows keep the file's order within a split (the trainer shuffles
// every epoch); each split's field codes and labels go to a spill file in the cache
// folder, and data.bin is written from those once the encoder is fitted.
void build_streamed(Dataset& ds, const std::string& dir, uint64_t key) {
  const auto& spec = ds.spec;
  const int F = static_cast<int>(spec.fields.size());
  if (spec.split.kind != "random")
    throw Error("dataset " + spec.name + ": the " + spec.format + " reader streams its rows, so split.kind must be random (got " +
                spec.split.kind + ")");
  const auto& columns = goodreads_columns();
  std::vector<int> col_of_field;
  for (const auto& f : spec.fields) {
    auto it = std::find(columns.begin(), columns.end(), f.source);
    if (it == columns.end())
      throw Error("dataset " + spec.name + ": field '" + f.name + "' reads column '" + f.source + "', which the " + spec.format +
                  " reader does not provide (" + core::suggest(f.source, columns) + ")");
    col_of_field.push_back(static_cast<int>(it - columns.begin()));
  }
  if (spec.label_column != "rating")
    throw Error("dataset " + spec.name + ": label column '" + spec.label_column + "' not provided (the " + spec.format +
                " reader's label column is rating)");

  core::make_dirs(dir);
  const std::string pid = std::to_string(::getpid());
  const char* names[3] = {"train", "valid", "test"};
  std::string spill_path[3];
  std::ofstream spill[3];
  for (int k = 0; k < 3; ++k) {
    spill_path[k] = dir + "/spill-" + names[k] + ".tmp." + pid;
    spill[k].open(spill_path[k], std::ios::binary | std::ios::trunc);
    if (!spill[k]) throw WriteError("cannot write " + spill_path[k] + ": " + std::strerror(errno));
  }
  struct RemoveSpills {
    std::string* paths;
    ~RemoveSpills() {
      for (int k = 0; k < 3; ++k) std::remove(paths[k].c_str());
    }
  } remove_spills{spill_path};

  RawTable dict;
  std::vector<std::vector<int64_t>> counts(F);
  std::vector<uint32_t> rec(F + 1);  // F codes, then the label as a float's bits
  int64_t rows[3] = {0, 0, 0};
  uint64_t index = 0;
  const double cut0 = spec.split.ratios[0], cut1 = spec.split.ratios[0] + spec.split.ratios[1];
  stream_goodreads(spec.path, spec.reader_options, dict, [&](const uint32_t* codes, double v) {
    const double u = static_cast<double>(core::splitmix64(spec.split.seed * 0x9E3779B97F4A7C15ULL + index++) >> 11) * 0x1.0p-53;
    const int k = u < cut0 ? 0 : u < cut1 ? 1 : 2;
    for (int f = 0; f < F; ++f) {
      const uint32_t c = codes[col_of_field[f]];
      rec[f] = c;
      if (k == 0) {
        if (c >= counts[f].size()) counts[f].resize(std::max<size_t>(c + 1, counts[f].size() * 2), 0);
        ++counts[f][c];
      }
    }
    if (!valid_label(spec, v))
      throw Error("dataset " + spec.name + ": label " + core::format_number(v) + " is not " +
                  (spec.has_label_threshold ? "a finite number" : "0 or 1"));
    const float y = binary_label(spec, v);
    std::memcpy(&rec[F], &y, 4);
    spill[k].write(reinterpret_cast<const char*>(rec.data()), static_cast<std::streamsize>(4 * rec.size()));
    ++rows[k];
  });
  for (int k = 0; k < 3; ++k) {
    spill[k].close();
    if (!spill[k]) throw WriteError("cannot write " + spill_path[k] + ": " + std::strerror(errno));
  }
  if (rows[0] == 0 || rows[1] == 0 || rows[2] == 0)
    throw Error("dataset " + spec.name + ": too few rows (" + std::to_string(rows[0] + rows[1] + rows[2]) +
                ") for a train/valid/test split");
  ds.split_used = "random (drawn per row from a hash of its index, seed " + std::to_string(spec.split.seed) + ")";
  ds.reader_report = dict.report;
  std::vector<const StringColumn*> cols;
  for (int f = 0; f < F; ++f) {
    cols.push_back(&dict.strings.at(spec.fields[f].source));
    counts[f].resize(cols[f]->values.size(), 0);
  }
  const auto code_ids = fit_encoder(ds, cols, counts);
  const int S = ds.encoder.num_slots();

  // data.bin: the header, then per split its ids, codes and labels, each a pass over the spill.
  core::write_sealed(dir + "/data.bin", [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw WriteError("cannot write cache file " + tmp + ": " + std::strerror(errno));
    const CacheHeader h = make_header(F, S, rows[0], rows[1], rows[2], false);
    out.write(reinterpret_cast<const char*>(&h), sizeof(h));
    constexpr size_t kChunk = 1 << 16;  // rows per read
    std::vector<uint32_t> in(kChunk * (F + 1)), buf(kChunk * std::max(F, S));
    for (int k = 0; k < 3; ++k)
      for (int block = 0; block < 3; ++block) {  // ids, codes, labels
        std::ifstream sp(spill_path[k], std::ios::binary);
        for (int64_t left = rows[k]; left > 0;) {
          const size_t n = static_cast<size_t>(std::min<int64_t>(left, kChunk));
          sp.read(reinterpret_cast<char*>(in.data()), static_cast<std::streamsize>(4 * n * (F + 1)));
          if (!sp) throw Error("cannot read back " + spill_path[k]);
          size_t m = 0;
          for (size_t r = 0; r < n; ++r) {
            const uint32_t* rr = &in[r * (F + 1)];
            if (block == 2) {
              buf[m++] = rr[F];
              continue;
            }
            for (int f = 0; f < F; ++f) {
              if (block == 1) {
                buf[m++] = rr[f];
                continue;
              }
              const int w = ds.encoder.width[f];
              for (int k = 0; k < w; ++k) buf[m++] = static_cast<uint32_t>(code_ids[f].data()[static_cast<size_t>(rr[f]) * w + k]);
            }
          }
          out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(4 * m));
          left -= static_cast<int64_t>(n);
        }
      }
    out.flush();
    if (!out) throw WriteError("cannot write cache file " + tmp + ": " + std::strerror(errno));
  });
  core::write_sealed(dir + "/meta.json", meta_json(ds, key).dump());
}

bool streams(const DatasetSpec& spec) { return spec.format == "goodreads"; }

}  // namespace

Dataset prepare_dataset(const DatasetSpec& spec, const PrepareOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  Dataset ds;
  ds.spec = spec;
  auto files = raw_files(spec);
  for (const auto& f : files)
    if (!core::file_exists(f))
      throw Error("dataset " + spec.name + ": raw file not found: " + f +
                  (std::filesystem::path(f).is_relative()
                       ? " (a relative path is looked up from the working directory " +
                             std::filesystem::current_path().string() + ", then beside the spec file)"
                       : ""));
  uint64_t key = cache_key(spec, files);
  if (!opt.cache_root.empty()) ds.cache_dir = opt.cache_root + "/" + spec.name + "-" + core::hex64(key);
  if (!ds.cache_dir.empty() && !opt.rebuild && core::file_exists(ds.cache_dir + "/meta.json")) {
    load_cache(ds, ds.cache_dir, key);
    ds.loaded_from_cache = true;
  } else if (streams(spec)) {
    if (ds.cache_dir.empty())
      throw Error("dataset " + spec.name + ": the " + spec.format + " reader streams its rows into the cache; give a --cache-dir");
    if (std::filesystem::exists(ds.cache_dir)) core::clean_temp_files(ds.cache_dir);
    build_streamed(ds, ds.cache_dir, key);
    // The splits are memory-mapped from what was just written.
    ds.fields.clear();
    load_cache(ds, ds.cache_dir, key);
  } else {
    RawTable t = read_table(spec);
    build(ds, t);
    if (!ds.cache_dir.empty()) {
      // A writer killed before us left its temp files: they go first.
      if (std::filesystem::exists(ds.cache_dir)) core::clean_temp_files(ds.cache_dir);
      write_cache(ds, ds.cache_dir, key);
    }
  }
  ds.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ds;
}

void export_csv(const Dataset& ds, const std::string& split_name, const std::string& path) {
  const Split& s = ds.split(split_name);
  core::atomic_write(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw WriteError("cannot write " + path + ": " + std::strerror(errno));
    for (const auto& f : ds.fields) out << csv_escape(f.name) << ',';
    out << "label";
    if (s.prob.defined()) out << ",prob";
    out << '\n';
    const float* labels = s.labels.data_ptr<float>();
    const float* prob = s.prob.defined() ? s.prob.data_ptr<float>() : nullptr;
    for (int64_t r = 0; r < s.rows; ++r) {
      for (size_t f = 0; f < ds.fields.size(); ++f) out << csv_escape(ds.value(s, r, static_cast<int>(f))) << ',';
      out << static_cast<int>(labels[r]);
      if (prob) out << ',' << prob[r];
      out << '\n';
    }
    out.flush();
    if (!out) throw WriteError("cannot write " + path + ": " + std::strerror(errno));
  });
}

}  // namespace clickprompt::data
