#include "targets.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string_view>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/params.h"
#include "core/strings.h"
#include "data/reader.h"
#include "data/spec.h"
#include "plm/checkpoint.h"
#include "plm/hf_config.h"
#include "plm/tokenizer/trainer.h"
#include "serve/inference_protocol.h"

namespace clickprompt::fuzz {

namespace {

std::string_view bytes(const uint8_t* d, size_t n) { return {reinterpret_cast<const char*>(d), n}; }

// One scratch folder per process for the targets that read files.
const std::string& scratch() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cp-fuzz-XXXXXX").string();
    return std::string(mkdtemp(tmpl.data()));
  }();
  return dir;
}
std::string put(const std::string& name, std::string_view content) {
  const std::string p = scratch() + "/" + name;
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(content.data(), static_cast<std::streamsize>(content.size()));
  return p;
}

// Pieces of an input split at NUL bytes (several files from one input).
std::vector<std::string> parts(std::string_view s, size_t n) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i + 1 < n; ++i) {
    size_t z = s.find('\0', start);
    if (z == std::string_view::npos) break;
    out.emplace_back(s.substr(start, z - start));
    start = z + 1;
  }
  out.emplace_back(s.substr(std::min(start, s.size())));
  while (out.size() < n) out.emplace_back();
  return out;
}

void csv_line(const uint8_t* d, size_t n) {
  auto cells = data::parse_csv_line(bytes(d, n));
  (void)cells;
}

void csv_file(const uint8_t* d, size_t n) {
  auto t = data::read_csv(put("t.csv", bytes(d, n)), {"user_id", "item_id"}, {"click", "timestamp"}, true);
  (void)t;
}

void movielens(const uint8_t* d, size_t n) {
  auto p = parts(bytes(d, n), 3);
  std::filesystem::create_directories(scratch() + "/ml");
  put("ml/users.dat", p[0]);
  put("ml/movies.dat", p[1]);
  put("ml/ratings.dat", p[2]);
  auto t = data::read_movielens(scratch() + "/ml");
  (void)t;
}

// The three BX-*.csv files, split at NUL bytes.
void bookcrossing(const uint8_t* d, size_t n) {
  auto p = parts(bytes(d, n), 3);
  std::filesystem::create_directories(scratch() + "/bx");
  put("bx/BX-Users.csv", p[0]);
  put("bx/BX-Books.csv", p[1]);
  put("bx/BX-Book-Ratings.csv", p[2]);
  auto t = data::read_bookcrossing(scratch() + "/bx");
  (void)t;
}

// A 5-core review file and its meta file (JSON or Python-literal lines), split at a NUL byte.
void amazon(const uint8_t* d, size_t n) {
  auto p = parts(bytes(d, n), 2);
  std::filesystem::create_directories(scratch() + "/amz");
  put("amz/Toys_and_Games_5.json", p[0]);
  put("amz/meta_Toys_and_Games.json", p[1]);
  auto t = data::read_amazon(scratch() + "/amz/Toys_and_Games_5.json");
  (void)t;
}

// The schema reader: a TSV main file joined with a Latin-1 CSV and a JSON-lines side table.
void table(const uint8_t* d, size_t n) {
  auto p = parts(bytes(d, n), 3);
  std::filesystem::create_directories(scratch() + "/tbl");
  put("tbl/events.tsv", p[0]);
  put("tbl/users.csv", p[1]);
  put("tbl/items.jsonl", p[2]);
  const std::string dir = scratch() + "/tbl/";
  auto spec = data::DatasetSpec::from_yaml(
      core::parse_yaml("name: t\nformat: table\npath: " + dir + "events.tsv\n"
                       "joins: [{path: " + dir + "users.csv, key: user_id, read: {encoding: latin1}}, {path: " + dir +
                           "items.jsonl, key: item_id}]\n"
                           "fields: [{name: user_id}, {name: region}, {name: item_id}, {name: price, type: numeric, buckets: 3}]\n"
                           "label: {column: action, values: [click]}\nsplit: {kind: column, column: fold, train: [a], valid: [b], test: [c]}\n",
                       "fuzz.yaml"),
      "fuzz.yaml");
  auto t = data::read_table(spec);
  (void)t;
}

void goodreads(const uint8_t* d, size_t n) {
  auto p = parts(bytes(d, n), 6);
  std::filesystem::create_directories(scratch() + "/gr");
  put("gr/goodreads_interactions.csv", p[0]);
  put("gr/book_id_map.csv", p[1]);
  put("gr/goodreads_books.json", p[2]);
  put("gr/goodreads_book_authors.json", p[3]);
  put("gr/goodreads_book_works.json", p[4]);
  put("gr/goodreads_book_genres_initial.json", p[5]);
  auto t = data::read_goodreads(scratch() + "/gr", YAML::Node());
  (void)t;
}

void dataset_spec(const uint8_t* d, size_t n) {
  auto spec = data::DatasetSpec::from_yaml(core::parse_yaml(std::string(bytes(d, n)), "fuzz.yaml"), "fuzz.yaml");
  (void)spec;
}

// A config and overrides: first part the YAML, the others "key.path=value" lines.
void config(const uint8_t* d, size_t n) {
  auto p = parts(bytes(d, n), 2);
  YAML::Node root = core::parse_yaml(p[0], "fuzz.yaml");
  for (const auto& line : core::split(p[1], "\n")) core::apply_override(root, std::string(line));
  core::Params params(root, "config");
  for (const char* k : {"lr", "seed", "epochs", "device"}) {
    if (!params.has(k)) continue;
    try {
      params.get_number(k, 1.0, core::Params::Range::positive);
    } catch (const Error&) {
    }
    try {
      params.get_int(k, 1, 0, 1 << 20);
    } catch (const Error&) {
    }
  }
  (void)core::yaml_to_json_string(root);
}

void safetensors(const uint8_t* d, size_t n) {
  auto sd = plm::read_safetensors(put("w.safetensors", bytes(d, n)));
  for (auto& [name, t] : sd) (void)t.sum();
}

void hf_config(const uint8_t* d, size_t n) {
  auto c = plm::HfConfig::from_json(std::string(bytes(d, n)));
  c.validate("fuzz");
}

// Tokenizers trained once on a fixed corpus, then fed the input.
void tokenizers(const uint8_t* d, size_t n) {
  static auto trained = [] {
    plm::BpeTrainerOptions bo;
    bo.vocab_size = 400;
    plm::BpeTrainer bpe(bo);
    plm::WordPieceTrainerOptions wo;
    wo.vocab_size = 300;
    plm::WordPieceTrainer wp(wo);
    for (const char* t : {"User ID is 12. Gender is female. Title is L\xc3\xa9on (1994).",
                          "Film genre is Action, Sci-Fi. Age is 25-34.", "Misérables, Les (1995)"}) {
      bpe.add_text(t, 3);
      wp.add_text(t, 3);
    }
    return std::make_pair(std::shared_ptr<plm::Tokenizer>(bpe.train()), std::shared_ptr<plm::Tokenizer>(wp.train()));
  }();
  for (const auto& tok : {trained.first, trained.second}) {
    auto ids = tok->encode(bytes(d, n));
    (void)tok->decode(ids);
  }
}

void infer_request(const uint8_t* d, size_t n) {
  static const std::vector<data::FieldMeta> fields = {{"user_id", "User ID", {}}, {"item_id", "Item ID", {}}};
  serve::InferRequest r;
  try {
    r = serve::parse_infer_request(bytes(d, n), fields, 4096);
  } catch (const serve::RequestError&) {
    return;  // the server's clean refusal (a 4xx with a JSON error)
  }
  (void)serve::infer_response("m", r, std::vector<float>(static_cast<size_t>(r.rows), 0.5f));
}

// A sealed file (as the tool writes them) whose bytes are the input: the seal check.
void sealed_file(const uint8_t* d, size_t n) {
  const std::string p = put("f.json", bytes(d, n));
  put("f.json.sha256", bytes(d, n).substr(0, std::min<size_t>(n, 80)));
  core::verify_sealed(p, "fuzz");
}

}  // namespace

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {
      {"csv_line", csv_line},       {"csv_file", csv_file},     {"movielens", movielens},
      {"bookcrossing", bookcrossing}, {"amazon", amazon},      {"dataset_spec", dataset_spec}, {"config", config},       {"safetensors", safetensors},
      {"hf_config", hf_config},     {"tokenizers", tokenizers}, {"infer_request", infer_request},
      {"sealed_file", sealed_file}, {"table", table},         {"goodreads", goodreads},
  };
  return all;
}

std::string run_one(const Target& t, const uint8_t* data, size_t size) {
  try {
    t.run(data, size);
  } catch (const Error&) {
    // A clear refusal: what every bad input must get.
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace clickprompt::fuzz
