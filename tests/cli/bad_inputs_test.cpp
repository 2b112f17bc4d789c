// The bad-input table of docs/reliability.md, as tests: every case runs the
// CLI in a fresh folder and must end with the expected exit code and a message
// that names the problem: no signal, no hang, no temp file left behind, no raw
// library message. With CLICKPROMPT_RELIABILITY_OUT=FILE set, every case also
// appends its row (family, case, exit code, message) to FILE; bench/reliability.sh
// turns that into the table.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"
#include "data/synthetic.h"
#include "test_util.h"
#include "train/run.h"
#include "train/trainer.h"

namespace clickprompt {
namespace {

namespace fs = std::filesystem;
using test_util::TempDir;

struct Prep {
  enum Op { write, flip, truncate, remove, readonly, nan_weights, reseal } op;
  std::string path;  // relative to the case folder
  std::string arg;   // write: content; flip: byte offset ("" = middle); truncate: bytes to keep
};

struct Case {
  std::string name;
  std::string args;  // placeholders: {d} case folder, {spec} {csv} {cache} shared data, {run} {bundle} copies
  int code;
  std::string expect;  // a substring of the output
  std::vector<Prep> prep = {};
  std::string env = {};  // VAR=value prefix
};

// What a message must never show: the raw text of a library or a crash.
const char* kRawMarkers[] = {"json.exception", "yaml-cpp", "bad conversion", "operator[]", "terminate called",
                             "frame #", "Exception raised from", "what():", "Segmentation", "Aborted", "core dumped"};

class BadInputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new TempDir("cp-bad");
    const auto& w = *world_;
    data::SyntheticOptions so;
    so.samples = 3000;
    so.users = 60;
    so.items = 90;
    data::write_synthetic(so, w.file("synthetic.csv"));
    w.write("dataset.yaml", data::synthetic_spec_yaml("synthetic", w.file("synthetic.csv")));
    auto t = test_util::run_cli("train --data " + w.file("dataset.yaml") + " --model fm --no-progress --set train.epochs=1"
                                " --cache-dir " + w.file("cache") + " --out " + w.file("run"));
    ASSERT_EQ(t.code, 0) << t.output;
    auto e = test_util::run_cli("export --run " + w.file("run") + " --out " + w.file("bundle"));
    ASSERT_EQ(e.code, 0) << e.output;
    auto x = test_util::run_cli("data export --split test --data " + w.file("dataset.yaml") + " --cache-dir " +
                                w.file("cache") + " --out " + w.file("test.csv"));
    ASSERT_EQ(x.code, 0) << x.output;
  }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }

  static std::string train_cmd(const std::string& model = "fm", const std::string& out = "{d}/out") {
    return "train --data {spec} --model " + model + " --cache-dir {cache} --out " + out +
           " --no-progress --set train.epochs=1";
  }

  void run_cases(const std::string& family, const std::vector<Case>& cases) {
    for (const auto& c : cases) {
      SCOPED_TRACE(family + ": " + c.name);
      run_case(family, c);
    }
  }

  static TempDir* world_;

 private:
  static std::string subst(std::string s, const std::map<std::string, std::string>& vars) {
    for (const auto& [k, v] : vars) {
      size_t at;
      while ((at = s.find(k)) != std::string::npos) s.replace(at, k.size(), v);
    }
    return s;
  }

  void run_case(const std::string& family, const Case& c) {
    TempDir d("cp-case");
    const auto& w = *world_;
    std::map<std::string, std::string> vars{{"{d}", d.path()},
                                            {"{spec}", w.file("dataset.yaml")},
                                            {"{csv}", w.file("synthetic.csv")},
                                            {"{testcsv}", w.file("test.csv")},
                                            {"{run}", d.file("run")},
                                            {"{bundle}", d.file("bundle")},
                                            {"{cache}", d.file("cache")}};
    // Copies of the shared run, bundle and cache: a case may damage its own.
    fs::copy(w.file("run"), d.file("run"), fs::copy_options::recursive);
    fs::copy(w.file("bundle"), d.file("bundle"), fs::copy_options::recursive);
    fs::copy(w.file("cache"), d.file("cache"), fs::copy_options::recursive);
    for (const auto& p : c.prep) apply(p, d, vars);
    const std::string args = subst(c.args, vars);
    auto t0 = std::chrono::steady_clock::now();
    auto r = test_util::run_cli_in(subst(c.env, vars), args, 120);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_NE(r.code, 124) << "timed out (a hang): " << args;
    EXPECT_LT(r.code, 124) << "killed by a signal: " << r.output;
    EXPECT_EQ(r.code, c.code) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(subst(c.expect, vars)), std::string::npos) << "expected '" << c.expect << "' in:\n" << r.output;
    for (const char* m : kRawMarkers) EXPECT_EQ(r.output.find(m), std::string::npos) << "raw message: " << r.output;
    for (const auto& e : fs::recursive_directory_iterator(d.path()))
      EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << e.path();
    if (const char* out = std::getenv("CLICKPROMPT_RELIABILITY_OUT")) {
      std::string msg = r.output;
      // The message, not the log lines before it.
      auto at = msg.find("error: ");
      if (at != std::string::npos) msg = msg.substr(at);
      else if (c.code == kExitUsage && msg.find('\n') != std::string::npos) msg = msg.substr(0, msg.find('\n'));
      msg = msg.substr(0, msg.find('\n'));
      msg = subst(msg, {{d.path(), "D"}, {w.path(), "W"}});
      for (auto& ch : msg)
        if (ch == '|') ch = '/';
      std::ofstream(out, std::ios::app) << "| " << family << " | " << c.name << " | " << r.code << " | "
                                        << (msg.size() > 220 ? msg.substr(0, 220) + "..." : msg) << " | "
                                        << core::format_number(std::round(secs * 10) / 10) << " |\n";
    }
  }

  static void apply(const Prep& p, const TempDir& d, const std::map<std::string, std::string>& vars) {
    const std::string path = d.file(subst(p.path, vars));
    switch (p.op) {
      case Prep::write:
        fs::create_directories(fs::path(path).parent_path());
        std::ofstream(path, std::ios::binary) << subst(p.arg, vars);
        break;
      case Prep::flip: {
        std::string bytes = core::read_file(path);
        ASSERT_FALSE(bytes.empty()) << path;
        size_t at = p.arg.empty() ? bytes.size() / 2 : std::stoul(p.arg) % bytes.size();
        bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
        break;
      }
      case Prep::truncate:
        fs::resize_file(path, std::stoul(p.arg));
        break;
      case Prep::remove:
        fs::remove_all(path);
        break;
      case Prep::readonly:
        fs::create_directories(path);
        ::chmod(path.c_str(), 0555);
        break;
      case Prep::reseal:  // a file changed by hand and sealed again: the content checks must still hold
        core::write_sealed(path, core::read_file(path));
        break;
      case Prep::nan_weights: {
        // A run whose weights hold NaN, sealed as training writes it.
        auto run = train::load_run(path);
        {
          torch::NoGradGuard ng;
          for (auto& t : run.model->parameters()) t.fill_(std::numeric_limits<float>::quiet_NaN());
        }
        train::save_module(*run.model, path + "/best.ckpt");
        break;
      }
    }
  }

};
TempDir* BadInputs::world_ = nullptr;

const std::string kCsvHeader = "user_id,age,region,item_id,title,category,brand,timestamp,click,prob\n";
std::string csv_spec(const std::string& extra = "") {
  return "name: t\nformat: csv\npath: {d}/t.csv\nfields: [{name: user_id}, {name: item_id}]\nlabel: {column: click" +
         extra + "}\n";
}
std::string csv_rows(int n, const std::string& label = "") {
  std::string s = kCsvHeader;
  for (int i = 0; i < n; ++i)
    s += "u" + std::to_string(i % 7) + ",18-24,north,i" + std::to_string(i % 5) + ",t,books,b," + std::to_string(i) +
         "," + (label.empty() || i != n / 2 ? std::to_string(i % 2) : label) + ",0.5\n";
  return s;
}

TEST_F(BadInputs, CommandLine) {
  run_cases("command line", {
      {"unknown subcommand", "trian --out {d}/x", kExitUsage, "trian"},
      {"no subcommand", "", kExitUsage, "subcommand"},
      {"missing required --out", "train --data {spec} --model fm", kExitUsage, "--out is required"},
      {"unknown option", "train --data {spec} --model fm --out {d}/o --lr 0.1", kExitUsage, "--lr"},
      {"--threads not a number", "--threads abc models", kExitUsage, "--threads"},
      {"--threads negative", "--threads -3 info", kExitBadInput, "--threads must be >= 0"},
      {"--threads 100000", "--threads 100000 info", kExitResource, "over the limit"},
      {"global option after the subcommand works", "info --threads 1", kExitOk, "threads=1"},
      {"--seed -5", train_cmd() + " --seed -5", kExitUsage, "--seed"},
      {"--seed not a number", train_cmd() + " --seed x", kExitUsage, "--seed"},
      {"--mode unknown", train_cmd() + " --mode pa_mlm", kExitUsage, "--mode"},
      {"--pretrained with --mode ctr", train_cmd() + " --pretrained {run}", kExitBadInput, "--pretrained applies"},
      {"--device unknown", train_cmd() + " --device tpu", kExitBadInput, "tpu"},
      {"--split unknown", "evaluate --run {run} --split dev --cache-dir {cache}", kExitBadInput, "dev"},
      {"data text --rows -1", "data text --data {spec} --cache-dir {cache} --rows -1", kExitUsage, "--rows"},
      {"serve without --model", "serve", kExitUsage, "--model"},
  });
}

TEST_F(BadInputs, ConfigFiles) {
  run_cases("config", {
      {"config file missing", "train --config {d}/none.yaml --out {d}/o", kExitBadInput, "config file not found"},
      {"YAML syntax error", "train --config {d}/c.yaml --out {d}/o", kExitBadInput, "cannot parse YAML",
       {{Prep::write, "c.yaml", "train: {lr: [1, 2\n"}}},
      {"top level a scalar", "train --config {d}/c.yaml --out {d}/o", kExitBadInput, "a single value",
       {{Prep::write, "c.yaml", "hello\n"}}},
      {"top level a list", "train --config {d}/c.yaml --out {d}/o", kExitBadInput, "found a list",
       {{Prep::write, "c.yaml", "- a\n- b\n"}}},
      {"no dataset", "train --model fm --out {d}/o", kExitBadInput, "no dataset"},
      {"no model", "train --data {spec} --out {d}/o --cache-dir {cache}", kExitBadInput, "no model"},
      {"unknown model, with a suggestion", train_cmd("dcnv3"), kExitBadInput, "did you mean 'dcnv2'"},
      {"model name a list", "train --config {d}/c.yaml --data {spec} --out {d}/o --cache-dir {cache}", kExitBadInput,
       "must be a model name", {{Prep::write, "c.yaml", "model: {model: [fm, dnn]}\n"}}},
      {"model section a scalar", "train --config {d}/c.yaml --data {spec} --out {d}/o --cache-dir {cache}",
       kExitBadInput, "model", {{Prep::write, "c.yaml", "model: fm\n"}}},
      {"train section a scalar", "train --config {d}/c.yaml --data {spec} --model fm --out {d}/o --cache-dir {cache}",
       kExitBadInput, "config.train: expected a mapping", {{Prep::write, "c.yaml", "train: fast\n"}}},
      {"unknown top-level key", "train --config {d}/c.yaml --data {spec} --model fm --out {d}/o --cache-dir {cache}",
       kExitBadInput, "unknown key 'trian'", {{Prep::write, "c.yaml", "trian: {lr: 0.1}\n"}}},
      {"unknown model key, with a suggestion", train_cmd("dnn") + " --set model.embeding_dim=4", kExitBadInput,
       "did you mean 'embedding_dim'"},
      {"unknown train key", train_cmd() + " --set train.learning_rate=0.1", kExitBadInput, "unknown key 'learning_rate'"},
      {"--set without =", train_cmd() + " --set train.lr", kExitBadInput, "expected key.path=value"},
      {"--set into a value", train_cmd() + " --set model.model.x=1", kExitBadInput, "is a value, not a section"},
      {"--set bad YAML", train_cmd() + " --set train.lr=[1", kExitBadInput, "override"},
      {"seed a string", train_cmd() + " --set seed=abc", kExitBadInput, "seed"},
      {"seed negative in the config", train_cmd() + " --set seed=-5", kExitBadInput, "seed"},
      {"device a list", train_cmd() + " --set device=[cpu]", kExitBadInput, "device"},
      {"monitor unknown", train_cmd() + " --set train.monitor=loss", kExitBadInput, "monitor"},
      {"optimizer unknown", train_cmd() + " --set train.optimizer=sgd", kExitBadInput, "optimizer"},
      {"lr schedule unknown", train_cmd() + " --set train.lr_schedule=cosine_restarts", kExitBadInput, "cosine_restarts"},
      {"activation unknown", train_cmd("dnn") + " --set model.dnn_activation=swishy", kExitBadInput, "swishy"},
      {"hidden units not a list", train_cmd("dnn") + " --set model.dnn_hidden_units=64", kExitBadInput, "dnn_hidden_units"},
      {"hidden unit width 0", train_cmd("dnn") + " --set model.dnn_hidden_units=[64,0]", kExitBadInput, "positive width"},
      {"model config file missing", "train --data {spec} --model-config {d}/m.yaml --out {d}/o", kExitBadInput,
       "config file not found"},
      {"dataset file named by a config, relative to it",
       "train --config {d}/sub/c.yaml --model fm --out {d}/o --cache-dir {cache} --no-progress --set train.epochs=1",
       kExitOk, "test AUC",
       {{Prep::write, "sub/c.yaml", "dataset: spec.yaml\n"},
        {Prep::write, "sub/spec.yaml",
         "name: synthetic\nformat: csv\npath: ../t.csv\nfields: [{name: user_id}, {name: item_id}]\nlabel: {column: click}\n"},
        {Prep::write, "t.csv", csv_rows(60)}}},
  });
}

// Every numeric hyper-parameter with values it must refuse at parse time.
TEST_F(BadInputs, HyperParameters) {
  struct Key {
    std::string key, model;
    std::vector<std::string> bad;  // beyond the values every number refuses
    bool integer = false;
  };
  const std::vector<Key> keys = {
      {"train.lr", "fm", {"0", "-0.001"}},
      {"train.embedding_lr", "fm", {"0", "-1"}},
      {"train.weight_decay", "fm", {"-0.1"}},
      {"train.embedding_regularizer", "fm", {"-1"}},
      {"train.beta1", "fm", {"1", "-0.5"}},
      {"train.beta2", "fm", {"1.5"}},
      {"train.eps", "fm", {"0"}},
      {"train.plateau_factor", "fm", {"1", "-0.1"}},
      {"train.warmup_ratio", "fm", {"1.5", "-0.1"}},
      {"train.grad_clip_norm", "fm", {"-1"}},
      {"model.net_dropout", "dnn", {"1", "-0.1", "1.5"}},
      {"model.embedding_init_std", "fm", {}},
      {"train.batch_size", "fm", {"0", "-8", "100000000000"}, true},
      {"train.eval_batch_size", "fm", {"0", "100000000000"}, true},
      {"train.epochs", "fm", {"0", "-1", "1000000000"}, true},
      {"train.patience", "fm", {"0"}, true},
      {"train.warmup_steps", "fm", {"-1"}, true},
      {"train.epoch_rows", "fm", {"-5"}, true},
      {"model.embedding_dim", "fm", {"0", "-4"}, true},
  };
  std::vector<Case> cases;
  for (const auto& k : keys) {
    std::vector<std::string> values = {".nan", ".inf", "-.inf", "abc", "[1, 2]", "{a: 1}"};
    if (k.integer) values.push_back("2.5");
    values.insert(values.end(), k.bad.begin(), k.bad.end());
    const std::string leaf = k.key.substr(k.key.find('.') + 1);
    for (const auto& v : values)
      cases.push_back({k.key + "=" + v, train_cmd(k.model) + " --set '" + k.key + "=" + v + "'", kExitBadInput, leaf});
  }
  cases.push_back({"model.embedding_dim=100000000 (memory)", train_cmd() + " --set model.embedding_dim=100000000",
                   kExitResource, "over the limit"});
  cases.push_back({"dnn_hidden_units=[100000000]", train_cmd("dnn") + " --set 'model.dnn_hidden_units=[100000000]'",
                   kExitResource, "over the limit"});
  cases.push_back({"CLICKPROMPT_MAX_MEMORY_GB tiny", train_cmd(), kExitResource, "CLICKPROMPT_MAX_MEMORY_GB", {},
                   "CLICKPROMPT_MAX_MEMORY_GB=0.000001"});
  cases.push_back({"CLICKPROMPT_MAX_MEMORY_GB not a number", train_cmd(), kExitBadInput, "CLICKPROMPT_MAX_MEMORY_GB",
                   {}, "CLICKPROMPT_MAX_MEMORY_GB=lots"});
  run_cases("hyper-parameters", cases);
}

TEST_F(BadInputs, DatasetSpecs) {
  auto spec_case = [](const std::string& name, const std::string& yaml, const std::string& expect,
                      int code = kExitBadInput) {
    return Case{name, "data prepare --data {d}/s.yaml --cache-dir {d}/c", code, expect,
                {{Prep::write, "s.yaml", yaml}, {Prep::write, "t.csv", csv_rows(40)}}};
  };
  const std::string fields = "fields: [{name: user_id}, {name: item_id}]\n";
  const std::string base = "name: t\nformat: csv\npath: {d}/t.csv\n";
  run_cases("dataset spec", {
      spec_case("spec file empty", "", "required key 'name' is missing"),
      {"spec file missing", "data prepare --data {d}/none.yaml", kExitBadInput, "config file not found"},
      spec_case("name missing", "format: csv\npath: {d}/t.csv\n" + fields + "label: {column: click}\n", "'name' is missing"),
      spec_case("format unknown", "name: t\nformat: parquet\npath: {d}/t.csv\n" + fields + "label: {column: click}\n", "parquet"),
      spec_case("path missing", "name: t\nformat: csv\n" + fields + "label: {column: click}\n", "'path' is missing"),
      spec_case("data file missing", "name: t\nformat: csv\npath: {d}/none.csv\n" + fields + "label: {column: click}\n",
                "raw file not found"),
      spec_case("fields empty", base + "fields: []\nlabel: {column: click}\n", "non-empty list"),
      spec_case("fields a mapping", base + "fields: {user_id: 1}\nlabel: {column: click}\n", "non-empty list"),
      spec_case("field listed twice", base + "fields: [{name: user_id}, {name: user_id}]\nlabel: {column: click}\n",
                "listed twice"),
      spec_case("only text fields", base + "fields: [{name: user_id, type: text}]\nlabel: {column: click}\n",
                "the ID view needs at least one other field"),
      spec_case("separator on a categorical field", base + "fields: [{name: user_id, separator: \"|\"}]\nlabel: {column: click}\n",
                "are for type: multi"),
      spec_case("numeric field without buckets", base + "fields: [{name: user_id, type: numeric}]\nlabel: {column: click}\n",
                "either 'buckets'"),
      spec_case("min_count 0", base + "fields: [{name: user_id, min_count: 0}]\nlabel: {column: click}\n", "min_count"),
      spec_case("field not in the CSV", base + "fields: [{name: usr_id}]\nlabel: {column: click}\n", "usr_id"),
      spec_case("label missing", base + fields, "'column' is missing"),
      spec_case("label column not in the CSV", base + fields + "label: {column: clicked}\n", "clicked"),
      spec_case("label threshold nan", base + fields + "label: {column: click, threshold: .nan}\n", "not a finite"),
      spec_case("split kind unknown", base + fields + "label: {column: click}\nsplit: {kind: stratified}\n", "stratified"),
      spec_case("split ratios two", base + fields + "label: {column: click}\nsplit: {ratios: [0.5, 0.5]}\n", "three numbers"),
      spec_case("split ratios sum", base + fields + "label: {column: click}\nsplit: {ratios: [0.5, 0.5, 0.5]}\n", "sum to 1"),
      spec_case("split ratio negative", base + fields + "label: {column: click}\nsplit: {ratios: [1.2, -0.1, -0.1]}\n",
                "positive"),
      spec_case("user_field not a field", base + fields + "label: {column: click}\nuser_field: uid\n", "uid"),
      spec_case("unknown key", base + fields + "label: {column: click}\nlabels: 1\n", "unknown key 'labels'"),
  });
}

TEST_F(BadInputs, CsvRows) {
  auto csv_case = [](const std::string& name, const std::string& csv, const std::string& expect,
                     const std::string& spec_extra = "", int code = kExitBadInput) {
    return Case{name, "data prepare --data {d}/s.yaml --cache-dir {d}/c", code, expect,
                {{Prep::write, "s.yaml", csv_spec(spec_extra)}, {Prep::write, "t.csv", csv}}};
  };
  run_cases("CSV rows", {
      csv_case("empty file", "", "empty file"),
      csv_case("header only", kCsvHeader, "too few rows"),
      csv_case("short row", csv_rows(20) + "u1,18-24\n", "t.csv:22: expected 10 fields"),
      csv_case("long row", csv_rows(20) + "u1,18-24,north,i1,t,books,b,0,1,0.5,extra\n", "expected 10 fields"),
      csv_case("unterminated quote", csv_rows(20) + "\"u1,18-24,north,i1,t,books,b,0,1,0.5\n", "t.csv:22: unterminated quoted value"),
      csv_case("invalid UTF-8 value", csv_rows(20) + "u\xff\xfe,18-24,north,i1,t,books,b,0,1,0.5\n", "not valid UTF-8"),
      csv_case("invalid UTF-8 header", "user\xc3(_id,item_id,click\nu,i,1\n", "not valid UTF-8"),
      csv_case("overlong UTF-8", csv_rows(20) + "u\xc0\xaf,18-24,north,i1,t,books,b,0,1,0.5\n", "not valid UTF-8"),
      csv_case("label 2", csv_rows(40, "2"), "not 0 or 1 (first: data row 21"),
      csv_case("label -1", csv_rows(40, "-1"), "value -1"),
      csv_case("label nan", csv_rows(40, "nan"), "value nan"),
      csv_case("label inf with a threshold", csv_rows(40, "inf"), "not a finite number", ", threshold: 0.5"),
      csv_case("label text", csv_rows(40, "yes"), "expected a number, got 'yes'"),
      csv_case("label 2 with a threshold is binarized", csv_rows(40, "2"), "train", ", threshold: 0.5", kExitOk),
      csv_case("control: a valid CSV", csv_rows(40), "train", "", kExitOk),
      csv_case("label empty", csv_rows(20) + "u1,18-24,north,i1,t,books,b,0,,0.5\n", "expected a number, got ''"),
      csv_case("timestamp text", kCsvHeader + "u,a,n,i,t,c,b,yesterday,1,0.5\n", "time column 'timestamp'",
               "}\nsplit: {kind: time"),
      csv_case("quoted values are fine", csv_rows(40) + "\"u,1\",18-24,north,i1,\"t \"\"x\"\"\",books,b,0,1,0.5\n", "train", "",
               kExitOk),
      {"corrupt gzip", "data prepare --data {d}/s.yaml --cache-dir {d}/c", kExitBadInput, "gzip",
       {{Prep::write, "s.yaml", "name: t\nformat: csv\npath: {d}/t.csv.gz\nfields: [{name: user_id}]\nlabel: {column: click}\n"},
        {Prep::write, "t.csv.gz", "\x1f\x8b\x08\x00garbage-not-deflate"}}},
  });
}

TEST_F(BadInputs, MovieLensFiles) {
  std::string users, movies, ratings;
  for (int u = 1; u <= 6; ++u) users += std::to_string(u) + "::" + (u % 2 ? "F" : "M") + "::25::4::12345\n";
  for (int m = 1; m <= 5; ++m) movies += std::to_string(m) + "::Movie " + std::to_string(m) + " (1995)::Drama|Comedy\n";
  for (int i = 0; i < 40; ++i) ratings += std::to_string(1 + i % 6) + "::" + std::to_string(1 + i % 5) + "::" + std::to_string(1 + i % 5) + "\n";
  const std::string spec =
      "name: ml\nformat: movielens\npath: {d}/ml\nfields: [{name: user_id}, {name: movie_id}, {name: title}]\n"
      "label: {column: rating, threshold: 3}\n";
  auto ml = [&](const std::string& name, const std::string& u, const std::string& m, const std::string& r,
                const std::string& expect, int code = kExitBadInput, const std::string& cmd = "data prepare") {
    return Case{name, cmd + " --data {d}/s.yaml --cache-dir {d}/c", code, expect,
                {{Prep::write, "s.yaml", spec}, {Prep::write, "ml/users.dat", u}, {Prep::write, "ml/movies.dat", m},
                 {Prep::write, "ml/ratings.dat", r}}};
  };
  run_cases("MovieLens", {
      ml("control: a valid folder", users, movies, ratings, "train", kExitOk),
      {"ratings.dat missing", "data prepare --data {d}/s.yaml --cache-dir {d}/c", kExitBadInput, "ratings.dat",
       {{Prep::write, "s.yaml", spec}, {Prep::write, "ml/users.dat", users}, {Prep::write, "ml/movies.dat", movies}}},
      ml("users.dat: 4 fields", users + "7::F::25::4\n", movies, ratings, "users.dat:7: expected 5"),
      ml("users.dat: gender X", users + "7::X::25::4::1\n", movies, ratings, "Gender must be M or F"),
      ml("users.dat: age 30", users + "7::F::30::4::1\n", movies, ratings, "unknown Age code"),
      ml("users.dat: occupation 99", users + "7::F::25::99::1\n", movies, ratings, "Occupation must be 0-20"),
      ml("users.dat: UserID text", users + "x::F::25::4::1\n", movies, ratings, "UserID: expected an integer"),
      ml("users.dat: duplicate UserID", users + "1::F::25::4::1\n", movies, ratings, "duplicate UserID"),
      ml("users.dat: UserID 100000000 (no huge table)", users + "100000000::F::25::4::1\n", movies, ratings, "train",
         kExitOk),
      ml("users.dat: invalid UTF-8 zip", users + "7::F::25::4::1\xff\n", movies, ratings, "not valid UTF-8"),
      ml("movies.dat: duplicate MovieID", users, movies + "1::Again (1990)::Drama\n", ratings, "duplicate MovieID"),
      ml("movies.dat: 2 fields", users, movies + "9::Title\n", ratings, "movies.dat:6: expected 3"),
      ml("ratings.dat: unknown user", users, movies, ratings + "99::1::5\n", "UserID not in users.dat"),
      ml("ratings.dat: unknown movie", users, movies, ratings + "1::99::5\n", "MovieID not in movies.dat"),
      ml("ratings.dat: 3 and 4 fields mixed", users, movies, ratings + "1::1::5::978300760\n", "mix 3- and 4-field"),
      ml("ratings.dat: rating text", users, movies, ratings + "1::1::five\n", "Rating: expected an integer"),
      ml("ratings.dat: empty", users, movies, "", "no ratings"),
      ml("movies.dat in UTF-8 keeps its titles", users,
         "1::L\xc3\xa9on (1994)::Drama\n2::B::Comedy\n3::C::Drama\n4::D::Drama\n5::E::Drama\n", ratings,
         "is L\xc3\xa9on (1994)", kExitOk, "data text --rows 40"),
      ml("movies.dat in Latin-1 is converted", users,
         "1::L\xe9on (1994)::Drama\n2::B::Comedy\n3::C::Drama\n4::D::Drama\n5::E::Drama\n", ratings,
         "is L\xc3\xa9on (1994)", kExitOk, "data text --rows 40"),
  });
}

TEST_F(BadInputs, CorruptFiles) {
  const std::string eval = "evaluate --run {run} --cache-dir {cache}";
  const std::string prep = "data prepare --data {spec} --cache-dir {cache}";
  std::vector<Case> cases = {
      {"best.ckpt: a flipped byte (middle)", eval, kExitCorrupt, "best.ckpt is corrupt", {{Prep::flip, "run/best.ckpt"}}},
      {"best.ckpt: a flipped byte (first)", eval, kExitCorrupt, "best.ckpt is corrupt", {{Prep::flip, "run/best.ckpt", "0"}}},
      {"best.ckpt: a flipped byte (last)", eval, kExitCorrupt, "best.ckpt is corrupt",
       {{Prep::flip, "run/best.ckpt", "18446744073709551615"}}},
      {"best.ckpt: truncated", eval, kExitCorrupt, "best.ckpt is corrupt", {{Prep::truncate, "run/best.ckpt", "100"}}},
      {"best.ckpt: empty", eval, kExitCorrupt, "best.ckpt is corrupt", {{Prep::truncate, "run/best.ckpt", "0"}}},
      {"best.ckpt: seal missing", eval, kExitCorrupt, "no checksum file", {{Prep::remove, "run/best.ckpt.sha256"}}},
      {"best.ckpt: seal garbage", eval, kExitCorrupt, "no SHA-256 in it", {{Prep::write, "run/best.ckpt.sha256", "xyz\n"}}},
      {"best.ckpt: missing", eval, kExitBadInput, "best.ckpt is missing", {{Prep::remove, "run/best.ckpt"}}},
      {"last.ckpt: a flipped byte, --resume", "train --data {spec} --model fm --cache-dir {cache} --out {run} --resume "
       "--no-progress --set train.epochs=2", kExitCorrupt, "last.ckpt is corrupt", {{Prep::flip, "run/last.ckpt"}}},
      {"config.yaml: a flipped byte", eval, kExitCorrupt, "config.yaml is corrupt", {{Prep::flip, "run/config.yaml", "3"}}},
      {"encoder.json: a flipped byte", eval, kExitCorrupt, "encoder.json is corrupt", {{Prep::flip, "run/encoder.json"}}},
      {"result.json: a flipped byte, report", "report {run}", kExitCorrupt, "result.json is corrupt",
       {{Prep::flip, "run/result.json"}}},
      {"result.json: a string for a number (resealed), report", "report {run}", kExitOk, "| run | fm |",
       {{Prep::write, "run/result.json", "{\"model\": \"fm\", \"test_auc\": \"high\"}\n"},
        {Prep::reseal, "run/result.json"}}},
      {"data.bin: a flipped byte", prep, kExitCorrupt, "data.bin is corrupt", {}},
      {"data.bin: truncated", prep, kExitCorrupt, "data.bin is corrupt", {}},
      {"meta.json: a flipped byte", prep, kExitCorrupt, "meta.json is corrupt", {}},
      {"data.bin: seal missing", prep, kExitCorrupt, "no checksum file", {}},
      {"bundle weights: a flipped byte", "predict --bundle {bundle} --input {testcsv} --out {d}/p.csv", kExitCorrupt,
       "weights.safetensors", {{Prep::flip, "bundle/weights.safetensors"}}},
      {"bundle manifest: garbage", "predict --bundle {bundle} --input {testcsv} --out {d}/p.csv", kExitCorrupt,
       "manifest.json", {{Prep::write, "bundle/manifest.json", "{not json"}}},
      {"bundle: not a bundle", "predict --bundle {d} --input {testcsv} --out {d}/p.csv", kExitBadInput, "manifest.json"},
      {"NaN weights: evaluate stops", eval, kExitDiverged, "not finite", {{Prep::nan_weights, "run"}}},
      {"NaN weights: predict stops", "predict --run {run} --input {testcsv} --out {d}/p.csv", kExitDiverged,
       "not finite", {{Prep::nan_weights, "run"}}},
  };
  // The cache cases damage the case's copy of the one cache folder.
  for (auto& c : cases) {
    if (c.args != prep) continue;
    const std::string dir = "cache/" + fs::directory_iterator(world_->file("cache"))->path().filename().string();
    if (c.name.rfind("data.bin: a flipped", 0) == 0) c.prep = {{Prep::flip, dir + "/data.bin"}};
    if (c.name.rfind("data.bin: truncated", 0) == 0) c.prep = {{Prep::truncate, dir + "/data.bin", "64"}};
    if (c.name.rfind("meta.json", 0) == 0) c.prep = {{Prep::flip, dir + "/meta.json", "20"}};
    if (c.name.rfind("data.bin: seal", 0) == 0) c.prep = {{Prep::remove, dir + "/data.bin.sha256"}};
  }
  run_cases("corrupt files", cases);
}

TEST_F(BadInputs, CacheContents) {
  // A cache changed by hand and resealed: its contents are still range-checked.
  const std::string prep = "data text --rows 3 --data {spec} --cache-dir {cache}";
  const std::string dir = "cache/" + fs::directory_iterator(world_->file("cache"))->path().filename().string();
  // The header is 64 bytes; then train ids [rows, F] int32, then train codes [rows, F] int32.
  run_cases("cache contents", {
      {"an id out of range", prep, kExitCorrupt, "ids out of range",
       {{Prep::flip, dir + "/data.bin", "66"}, {Prep::reseal, dir + "/data.bin"}}},
      {"a value code out of range", "data export --split train --out {d}/x.csv --data {spec} --cache-dir {cache}",
       kExitCorrupt, "out of range", {{Prep::flip, dir + "/data.bin", "67266"}, {Prep::reseal, dir + "/data.bin"}}},
      {"meta.json not JSON (resealed)", prep, kExitCorrupt, "meta.json",
       {{Prep::write, dir + "/meta.json", "{\"key\": 1"}, {Prep::reseal, dir + "/meta.json"}}},
      {"meta.json: a string for a list (resealed)", prep, kExitCorrupt, "meta.json",
       {{Prep::write, dir + "/meta.json", "{\"key\": \"x\", \"split_used\": 1, \"fields\": \"no\"}"},
        {Prep::reseal, dir + "/meta.json"}}},
  });
}

TEST_F(BadInputs, LanguageModelCommands) {
  const std::string init = "init-plm --tokenizer {d}/tok --out {d}/plm";
  const std::string pre = "pretrain-plm --data {spec} --cache-dir {cache} --out {d}/p --no-progress --epochs 1";
  std::vector<Case> cases = {
      {"init-plm: tokenizer folder missing", init, kExitBadInput, "tok"},
      {"pretrain-plm: --heads 0", pre + " --heads 0", kExitBadInput, "--heads must be a positive number"},
      {"pretrain-plm: --heads 3 (not a divisor)", pre + " --heads 3", kExitBadInput, "divisible"},
      {"pretrain-plm: --hidden 0", pre + " --hidden 0", kExitBadInput, "--hidden"},
      {"pretrain-plm: --layers -1", pre + " --layers -1", kExitBadInput, "--layers"},
      {"pretrain-plm: --lr nan", pre + " --lr nan", kExitBadInput, "--lr"},
      {"pretrain-plm: --lr 0", pre + " --lr 0", kExitBadInput, "--lr"},
      {"pretrain-plm: --batch-size 0", pre + " --batch-size 0", kExitBadInput, "--batch-size"},
      {"pretrain-plm: --vocab-size 0", pre + " --vocab-size 0", kExitBadInput, "--vocab-size"},
      {"pretrain-plm: --tokenizer unknown", pre + " --tokenizer sentencepiece", kExitUsage, "--tokenizer"},
      {"pretrain-plm: --hidden 1000000 (memory)", pre + " --hidden 1000000 --heads 1", kExitResource, "over the limit"},
      {"train with-plm: no plm section", train_cmd() + " --mode with-plm", kExitBadInput, "plm"},
      {"train without-plm: no --pretrained", train_cmd() + " --mode without-plm", kExitBadInput, "--pretrained"},
      {"train without-plm: --pretrained not a PA-MLM folder", train_cmd() + " --mode without-plm --pretrained {d}",
       kExitBadInput, "not a PA-MLM folder"},
  };
  const std::string fixture = test_util::shared_dir() + "/fixtures/plm-vocab/roberta-base";
  if (fs::exists(fixture)) {
    const std::string tok = "init-plm --tokenizer " + fixture + " --out {d}/plm";
    cases.push_back({"init-plm: --heads 0", tok + " --heads 0", kExitBadInput, "num_attention_heads must be > 0"});
    cases.push_back({"init-plm: --heads 3", tok + " --heads 3", kExitBadInput, "not a multiple"});
    cases.push_back({"init-plm: --layers 0", tok + " --layers 0", kExitBadInput, "num_hidden_layers must be > 0"});
    cases.push_back({"init-plm: --positions 0", tok + " --positions 0", kExitBadInput, "max_position_embeddings"});
    cases.push_back({"init-plm: --hidden 1000000", tok + " --hidden 1000000 --heads 1", kExitResource, "over the limit"});
  }
  run_cases("language model", cases);
}

TEST_F(BadInputs, WriteFailures) {
  // RLIMIT_FSIZE stands in for a full disk (writes fail with EFBIG; SIGXFSZ ignored).
  const std::string full = "ulimit -f 64; trap '' XFSZ;";
  std::vector<Case> cases = {
      {"train: --out under a file", train_cmd("fm", "{d}/f/out"), kExitWrite, "Not a directory", {{Prep::write, "f", "x"}}},
      {"train: --out is a file", train_cmd("fm", "{d}/f"), kExitWrite, "f", {{Prep::write, "f", "x"}}},
      {"train: disk full while writing checkpoints", train_cmd("dnn") + " --set model.embedding_dim=64", kExitWrite,
       "File too large", {}, full},
      {"data prepare: disk full while writing the cache", "data prepare --data {spec} --cache-dir {d}/newcache",
       kExitWrite, "File too large", {}, "ulimit -f 8; trap '' XFSZ;"},
      {"data prepare: cache root under a file", "data prepare --data {spec} --cache-dir {d}/f/c", kExitWrite,
       "Not a directory", {{Prep::write, "f", "x"}}},
      {"data export: disk full", "data export --split train --data {spec} --cache-dir {cache} --out {d}/x.csv",
       kExitWrite, "File too large", {}, "ulimit -f 4; trap '' XFSZ;"},
      {"data export: under a file", "data export --split train --data {spec} --cache-dir {cache} --out {d}/f/x.csv",
       kExitWrite, "Not a directory", {{Prep::write, "f", "x"}}},
      {"predict: disk full", "predict --run {run} --input {testcsv} --out {d}/p.csv", kExitWrite, "File too large", {},
       "ulimit -f 4; trap '' XFSZ;"},
      {"export: disk full", "export --run {run} --out {d}/b", kExitWrite, "File too large", {}, "ulimit -f 1; trap '' XFSZ;"},
      {"data synth: disk full", "data synth --out {d}/s --samples 20000", kExitWrite, "File too large", {},
       "ulimit -f 16; trap '' XFSZ;"},
      {"data synth: under a file", "data synth --out {d}/f/s --samples 100", kExitWrite, "Not a directory",
       {{Prep::write, "f", "x"}}},
  };
  // Permissions do not bind root (CI may run as root).
  if (::geteuid() != 0) {
    cases.push_back({"train: --out in a read-only folder", train_cmd("fm", "{d}/ro/out"), kExitWrite, "Permission denied",
                     {{Prep::readonly, "ro"}}});
    cases.push_back({"export: read-only folder", "export --run {run} --out {d}/ro/b", kExitWrite, "Permission denied",
                     {{Prep::readonly, "ro"}}});
  }
  run_cases("write failures", cases);
}

TEST_F(BadInputs, RunFolders) {
  run_cases("run folders", {
      {"evaluate: not a run folder", "evaluate --run {d}/none", kExitBadInput, "not a finished run folder"},
      {"evaluate: a run folder without its checkpoint", "evaluate --run {run}", kExitBadInput, "best.ckpt is missing",
       {{Prep::remove, "run/best.ckpt"}}},
      {"a fresh run in a used folder removes the old run's files", train_cmd("fm", "{run}") + " --set train.lr=-1",
       kExitBadInput, "train.lr", {}},
      {"report: folders that are not runs are skipped", "report {run} {d}", kExitOk, "skipping"},
      {"report: no finished run", "report {d}", kExitBadInput, "none of the 1 folders"},
      {"--resume from another model's checkpoint", "train --data {spec} --model dnn --cache-dir {cache} --out {run} "
       "--resume --no-progress --set train.epochs=2", kExitCorrupt, "cannot resume"},
      {"stale temp files of a killed run are removed", train_cmd("fm", "{run}") + " --resume --set train.epochs=2",
       kExitOk, "removed 2 temp file",
       {{Prep::write, "run/best.ckpt.tmp.999999999", "partial"}, {Prep::write, "run/result.json.sha256.tmp.999999998", "x"}}},
  });
}

TEST_F(BadInputs, PredictAndServeInputs) {
  const std::string pred = "predict --run {run} --out {d}/p.csv --input {d}/in.csv";
  run_cases("predict and serve", {
      {"input missing", pred, kExitBadInput, "in.csv"},
      {"input without a field column", pred, kExitBadInput, "user_id", {{Prep::write, "in.csv", "item_id,x\ni1,1\n"}}},
      {"input with invalid UTF-8", pred, kExitBadInput, "in.csv:5: not valid UTF-8",
       {{Prep::write, "in.csv", csv_rows(3) + "u\xff\xfe,18-24,north,i1,t,books,b,0,1,0.5\n"}}},
      {"input short row", pred, kExitBadInput, "in.csv:3", {{Prep::write, "in.csv", csv_rows(1) + "u1\n"}}},
      {"JSON lines input not JSON", "predict --run {run} --out {d}/p.csv --input {d}/in.jsonl", kExitBadInput, "in.jsonl",
       {{Prep::write, "in.jsonl", "{\"user_id\": \"u1\"\n"}}},
      {"neither --run nor --bundle", "predict --input {testcsv} --out {d}/p.csv", kExitBadInput, "--run"},
      {"export into a non-empty folder that is not a bundle", "export --run {run} --out {d}/full", kExitBadInput,
       "not a bundle", {{Prep::write, "full/keep.txt", "mine"}}},
      {"serve: a bundle folder that is not one", "serve --model m={d} --port 0", kExitBadInput, "manifest.json"},
      {"serve: --model without a name", "serve --model {bundle} --port 0", kExitBadInput, "NAME=BUNDLE"},
      {"serve: port out of range", "serve --model m={bundle} --port 70000", kExitUsage, "--port"},
  });
}

TEST_F(BadInputs, SyntheticGenerator) {
  const std::string syn = "data synth --out {d}/s";
  run_cases("data synth", {
      {"--samples 0", syn + " --samples 0", kExitBadInput, "--samples"},
      {"--samples -5", syn + " --samples -5", kExitBadInput, "--samples"},
      {"--users 0", syn + " --users 0", kExitBadInput, "--users"},
      {"--items 0", syn + " --items 0", kExitBadInput, "--items"},
      {"--topics 0", syn + " --topics 0", kExitBadInput, "--topics"},
      {"--item-zipf nan", syn + " --item-zipf nan", kExitBadInput, "--item-zipf"},
      {"--item-zipf -1", syn + " --item-zipf -1", kExitBadInput, "--item-zipf"},
  });
}

}  // namespace
}  // namespace clickprompt
