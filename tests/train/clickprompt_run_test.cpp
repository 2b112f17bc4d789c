// ClickPrompt end to end on a small synthetic world: in-project PLM, PA-MLM,
// both fine-tuning modes, the without-PLM folder as a plain CTR run, text views,
// and the experiment grid with its report.
#include <gtest/gtest.h>
#include <httplib.h>

#include <ATen/CPUGeneratorImpl.h>

#include <nlohmann/json.hpp>
#include <filesystem>
#include <sstream>
#include <thread>

#include "core/checksum.h"
#include "core/error.h"
#include "core/io.h"
#include "core/params.h"
#include "ctr/registry.h"
#include "metrics/metrics.h"
#include "plm/checkpoint.h"
#include "data/synthetic.h"
#include "plm/mlm.h"
#include "plm/tokenizer/tokenizer.h"
#include "train/clickprompt_run.h"
#include "train/experiment.h"
#include "train/mlm_pretrain.h"
#include "train/run.h"
#include "bundle/text_views.h"
#include "serve/batch_scoring.h"
#include "serve/server.h"
#include "test_util.h"

using namespace clickprompt;
using clickprompt::test_util::TempDir;

namespace {
// One synthetic world + a tiny in-project PLM, made once for the suite.
struct World {
  TempDir dir;
  std::string spec, plm;
  World() {
    at::set_num_threads(2);
    spec = test_util::synthetic_spec(dir, "syn-cp", 6000, 150, 250);
    auto ds = data::prepare_dataset(data::DatasetSpec::load(spec), {dir.file("cache"), false});
    train::MlmPretrainOptions o;
    o.vocab_size = 500;
    o.hidden_size = 32;
    o.intermediate_size = 64;
    o.lr = 2e-3;
    o.loop.epochs = 2;
    o.loop.valid_rows = 300;
    o.loop.progress = false;
    plm = dir.file("plm");
    train::pretrain_mlm(ds, o, plm);
  }
  YAML::Node config(const std::string& extra = "") const {
    YAML::Node c = YAML::Load(
        "model: {model: dnn, embedding_dim: 8, dnn_hidden_units: [32]}\n"
        "clickprompt: {num_prompts: 2}\n"
        "pretrain: {epochs: 2, batch_size: 64, plm_lr: 0.0005, valid_rows: 300}\n"
        "train: {batch_size: 128, epochs: 2, patience: 1, plm_lr: 0.0001}\n"
        "seed: 3\n" + extra);
    c["dataset"] = core::load_yaml(spec);
    c["plm"] = plm;
    return c;
  }
  train::RunOptions opt(const std::string& out) const {
    train::RunOptions r;
    r.out_dir = dir.file(out);
    r.cache_root = dir.file("cache");
    r.progress = false;
    return r;
  }
};
World& world() {
  static World w;
  return w;
}
}  // namespace

TEST(TextViews, AssembledPiecesEqualTokenizingTheWholeTextAndMaskOnlyRealTokens) {
  auto& w = world();
  auto ds = data::prepare_dataset(data::DatasetSpec::load(w.spec), {w.dir.file("cache"), false});
  auto tok = plm::load_tokenizer(w.plm);
  train::TextViews tv(ds, tok);
  std::vector<int64_t> rows{0, 5, 17, 3};
  auto [ids, mask] = tv.batch(ds.test, rows.data(), 4);
  for (int i = 0; i < 4; ++i) {
    auto expect = tok->encode(ds.text_view(ds.test, rows[i]));
    int64_t len = mask[i].sum().item<int64_t>();
    ASSERT_EQ(len, static_cast<int64_t>(expect.size()));
    for (int64_t t = 0; t < len; ++t) EXPECT_EQ(ids[i][t].item<int64_t>(), expect[t]);
    for (int64_t t = len; t < ids.size(1); ++t) EXPECT_EQ(ids[i][t].item<int64_t>(), tok->pad_id());
    EXPECT_LE(len, tv.max_length());
  }
  // PA-MLM masking on text views: ~15% of the real, non-special tokens; never <s>, </s> or padding.
  std::vector<int64_t> all(ds.train.rows);
  for (int64_t i = 0; i < ds.train.rows; ++i) all[i] = i;
  auto [tids, tmask] = tv.batch(ds.train, all.data(), ds.train.rows);
  auto protect = plm::special_tokens_mask(tids, *tok, tmask);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  auto m = plm::mask_tokens(tids, protect, tok->mask_id(), tok->vocab_size(), gen);
  auto chosen = m.labels.ne(-100);
  EXPECT_EQ(chosen.logical_and(protect).sum().item<int64_t>(), 0);
  double frac = chosen.sum().item<double>() / protect.logical_not().sum().item<double>();
  EXPECT_NEAR(frac, 0.15, 0.01);
}

TEST(ClickPromptRun, PaMlmThenBothFineTuningModes) {
  auto& w = world();
  auto pre = train::run_pa_mlm(w.config(), w.opt("pamlm"));
  EXPECT_EQ(pre["mode"], "pa_mlm");
  // PA-MLM lowers the PLM's MLM loss: the prompts carry what the ID view knows about the text.
  EXPECT_LT(pre["valid_mlm_loss"].get<double>(), pre["initial_valid_mlm_loss"].get<double>() - 0.05) << pre.dump();
  EXPECT_LT(pre["valid_mlm_loss"].get<double>(), pre["unigram_baseline"].get<double>()) << pre.dump();
  EXPECT_TRUE(core::file_exists(w.dir.file("pamlm/clickprompt.safetensors")));

  auto opt = w.opt("with");
  opt.mode = "clickprompt_with_plm";
  auto with = train::run_finetune_plm(w.config(), opt, w.dir.file("pamlm"));
  EXPECT_EQ(with["mode"], "clickprompt_with_plm");
  EXPECT_GT(with["test_auc"].get<double>(), 0.52) << with.dump();
  EXPECT_TRUE(with.contains("long_tail"));
  EXPECT_NEAR(with["alpha"].get<double>(), 0.5, 1e-9);
  // Each branch scored alone on the test split; the trained CTR branch ranks.
  ASSERT_TRUE(with.contains("branch_test_auc")) << with.dump();
  EXPECT_GT(with["branch_test_auc"]["ctr"].get<double>(), 0.52) << with.dump();
  EXPECT_GT(with["branch_test_auc"]["plm"].get<double>(), 0.0);
  EXPECT_LT(with["branch_test_auc"]["plm"].get<double>(), 1.0);

  {
    // The with-PLM folder reloads as the whole model: evaluate reproduces its test metrics,
    // predict scores a CSV of the split the same way, inspect agrees with the run's branches.
    auto run = train::load_run(w.dir.file("with"));
    ASSERT_TRUE(run.clickprompt);
    auto ds = data::prepare_dataset(run.spec, {w.dir.file("cache"), false});
    auto ev = train::evaluate_run(run, ds, "test");
    EXPECT_NEAR(ev["auc"].get<double>(), with["test_auc"].get<double>(), 1e-6) << ev.dump();
    EXPECT_NEAR(ev["logloss"].get<double>(), with["test_logloss"].get<double>(), 1e-6) << ev.dump();

    data::export_csv(ds, "test", w.dir.file("test.csv"));
    bundle::Model model(train::bundle_contents(run, w.dir.file("with")), "cpu");
    serve::PredictOptions po;
    po.progress = false;
    ASSERT_EQ(serve::predict_file(model, w.dir.file("test.csv"), w.dir.file("scores.csv"), po).rows, ds.test.rows);
    std::vector<float> scores, labels;
    std::istringstream lines(core::read_file(w.dir.file("scores.csv")));
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "score,label");
    while (std::getline(lines, line)) {
      scores.push_back(std::stof(line.substr(0, line.find(','))));
      labels.push_back(std::stof(line.substr(line.find(',') + 1)));
    }
    EXPECT_NEAR(metrics::auc(scores, labels), with["test_auc"].get<double>(), 2e-4);

    // As a bundle it carries its PLM config and tokenizer, and the server scores a row as predict does,
    // building the text view from the raw values (an unseen value is tokenized on the fly).
    train::export_run(w.dir.file("with"), w.dir.file("bundle"));
    auto manifest = bundle::verify(w.dir.file("bundle"));
    EXPECT_EQ(manifest["kind"], "clickprompt_with_plm");
    EXPECT_TRUE(manifest["files"].contains("plm/config.json"));
    EXPECT_TRUE(manifest["files"].contains("plm/vocab.json"));
    auto served = bundle::load(w.dir.file("bundle"));
    serve::ServerOptions so;
    so.port = 0;
    serve::Server server(so);
    server.add_model("cp", served, 0);
    const int port = server.bind();
    std::thread thread([&] { server.serve(); });
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(60, 0);
    auto request = [&](int64_t r, const std::string& title) {
      nlohmann::json inputs = nlohmann::json::array();
      for (size_t f = 0; f < ds.fields.size(); ++f) {
        std::string v = ds.fields[f].name == "title" && !title.empty() ? title : ds.value(ds.test, r, static_cast<int>(f));
        inputs.push_back({{"name", ds.fields[f].name}, {"datatype", "BYTES"}, {"shape", {1}}, {"data", {v}}});
      }
      auto res = client.Post("/v2/models/cp/infer", nlohmann::json{{"inputs", inputs}}.dump(), "application/json");
      EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
      return res ? nlohmann::json::parse(res->body)["outputs"][0]["data"][0].get<double>() : -1.0;
    };
    for (int64_t r = 0; r < 8; ++r) EXPECT_NEAR(request(r, ""), scores[r], 1e-6) << r;
    const double unseen = request(0, "A Title Nobody Has Seen (2031)");
    EXPECT_GT(unseen, 0);
    EXPECT_LT(unseen, 1);
    server.stop();
    thread.join();

    auto in = train::inspect_run(run, ds, "test", 0, 200);
    EXPECT_NEAR(in["fused"]["auc"].get<double>(), with["test_auc"].get<double>(), 1e-6) << in.dump();
    EXPECT_NEAR(in["ctr_branch_auc"].get<double>(), with["branch_test_auc"]["ctr"].get<double>(), 1e-6);
    EXPECT_NEAR(in["plm_branch_auc"].get<double>(), with["branch_test_auc"]["plm"].get<double>(), 1e-6);
    // a = 0 is the PLM branch alone, 1 the CTR branch, 0.5 the run's own fusion.
    const auto& sweep = in["alpha_sweep"];
    ASSERT_EQ(sweep.size(), 11u);
    EXPECT_NEAR(sweep[0]["auc"].get<double>(), in["plm_branch_auc"].get<double>(), 1e-9);
    EXPECT_NEAR(sweep[5]["auc"].get<double>(), in["fused"]["auc"].get<double>(), 1e-4);
    EXPECT_NEAR(sweep[10]["auc"].get<double>(), in["ctr_branch_auc"].get<double>(), 1e-9);
    // Shuffled prompts change the PLM branch's scores (its logits depend on the prompts).
    EXPECT_NE(in["shuffled_prompts"]["plm_branch_auc"].get<double>(), in["plm_branch_auc"].get<double>());
    EXPECT_EQ(in["attention_rows"], 200);
    auto tiny = plm::load_pretrained(w.plm);
    ASSERT_EQ(in["layers"].size(), static_cast<size_t>(tiny->config().num_hidden_layers));
    for (const auto& l : in["layers"]) {
      EXPECT_GT(l["attention_on_prompts"].get<double>(), 0.0) << l.dump();
      EXPECT_LT(l["attention_on_prompts"].get<double>(), 1.0) << l.dump();
      for (const char* k : {"prompt_key_norm", "text_key_norm", "prompt_value_norm", "text_value_norm",
                            "prompt_output_norm", "text_output_norm"})
        EXPECT_GT(l[k].get<double>(), 0.0) << k;
    }
    // How the rows are batched changes nothing: padding is masked, the means are per row and
    // per real token, and the shuffled prompts come from the whole split, not the batch.
    std::filesystem::copy(w.dir.file("with"), w.dir.file("with-b7"), std::filesystem::copy_options::recursive);
    auto cfg = core::load_yaml(w.dir.file("with-b7/config.yaml"));
    cfg["train"]["eval_batch_size"] = 7;
    core::write_sealed(w.dir.file("with-b7/config.yaml"), YAML::Dump(cfg) + "\n");  // as train writes it
    auto in7 = train::inspect_run(train::load_run(w.dir.file("with-b7")), ds, "test", 0, 200);
    EXPECT_NEAR(in7["fused"]["auc"].get<double>(), in["fused"]["auc"].get<double>(), 1e-4);  // float noise of padding
    EXPECT_NEAR(in7["shuffled_prompts"]["plm_branch_auc"].get<double>(),
                in["shuffled_prompts"]["plm_branch_auc"].get<double>(), 1e-4);
    for (size_t l = 0; l < in["layers"].size(); ++l)
      for (const auto& [k, v] : in["layers"][l].items())
        EXPECT_NEAR(in7["layers"][l][k].get<double>(), v.get<double>(), 1e-4 * (1 + std::abs(v.get<double>())))
            << "layer " << l << " " << k;
    EXPECT_THROW(train::inspect_run(run, ds, "test", 0, 0), Error);
  }

  opt = w.opt("without");
  opt.mode = "clickprompt_without_plm";
  auto without = train::run_finetune_ctr(w.config(), opt, w.dir.file("pamlm"));
  EXPECT_GT(without["test_auc"].get<double>(), 0.52) << without.dump();
  // The folder is a plain CTR run: it reloads as the bare backbone and evaluates to the same AUC.
  auto run = train::load_run(w.dir.file("without"));
  auto ds = data::prepare_dataset(run.spec, {w.dir.file("cache"), false});
  auto ev = train::evaluate_run(run, ds, "test");
  EXPECT_NEAR(ev["auc"].get<double>(), without["test_auc"].get<double>(), 1e-6);
  auto renamed = ds;  // the ids are positional: a field of another name is refused
  renamed.fields[1].name += "_x";
  EXPECT_NE(test_util::error_of([&] { train::evaluate_run(run, renamed, "test"); }).find("differ from the run's"),
            std::string::npos);
  auto fresh = [&] {
    torch::manual_seed(3);
    YAML::Node n = w.config()["model"];
    return ctr::create_model("dnn", ds.feature_info(), core::Params(n, "model"));
  };
  EXPECT_EQ(run.model->parameters().size(), fresh()->parameters().size());
  EXPECT_FALSE(run.clickprompt);
  EXPECT_NE(test_util::error_of([&] { train::inspect_run(run, ds, "test", 0, 10); }).find("with the PLM"),
            std::string::npos);

  // PA-MLM trained the CTR model through the prompts: its embeddings left their initialisation.
  auto sd = plm::read_safetensors(w.dir.file("pamlm/clickprompt.safetensors"));
  auto init = fresh();
  int compared = 0;
  for (const auto& p : init->named_parameters())
    if (p.key().find("embedding") != std::string::npos) {
      ASSERT_TRUE(sd.count("ctr." + p.key())) << p.key();
      EXPECT_GT((sd.at("ctr." + p.key()) - p.value()).abs().max().item<double>(), 1e-4) << p.key();
      ++compared;
    }
  EXPECT_GT(compared, 0);

  // A PA-MLM folder with other prompts is refused by name.
  auto bad = w.config("");
  bad["clickprompt"]["num_prompts"] = 4;
  EXPECT_NE(test_util::error_of([&] { train::run_finetune_plm(bad, w.opt("bad"), w.dir.file("pamlm")); })
                .find("shape"),
            std::string::npos);
  EXPECT_NE(test_util::error_of([&] { train::run_finetune_ctr(w.config(), w.opt("bad2"), w.dir.file("nowhere")); })
                .find("PA-MLM"),
            std::string::npos);
}

TEST(Experiment, GridRunsResumesAndWritesTheReport) {
  auto& w = world();
  YAML::Node c = YAML::Load(
      "name: tiny\n"
      "seeds: [1, 2]\n"
      "backbones: [dnn]\n"
      "models: {dnn: {embedding_dim: 8, dnn_hidden_units: [32]}}\n"
      "clickprompt: {num_prompts: 2}\n"
      "pretrain: {epochs: 1, batch_size: 64, plm_lr: 0.0005, valid_rows: 200}\n"
      "train: {batch_size: 256, epochs: 1, patience: 1}\n"
      "variants: [backbone, with_plm, without_plm, no_both]\n");
  c["dataset"] = w.spec;
  c["plms"].push_back(YAML::Load("{name: small}"));
  c["plms"][0]["path"] = w.plm;
  train::ExperimentOptions o;
  o.out_dir = w.dir.file("exp");
  o.cache_root = w.dir.file("cache");
  o.progress = false;
  EXPECT_EQ(train::run_experiment(c, o), 2 * (1 + 1 + 2 + 1));  // per seed: backbone, PA-MLM, 2 fine-tunings, no_both
  EXPECT_EQ(train::run_experiment(c, o), 0);                    // resumable: nothing left
  for (const char* f : {"results.csv", "table2.md", "table3.csv", "table5.md", "table6.md", "report.md",
                        "auc_by_variant.png", "auc_by_item_frequency.png"})
    EXPECT_TRUE(core::file_exists(o.out_dir + "/report/" + f)) << f;
  auto t2 = core::read_file(o.out_dir + "/report/table2.md");
  EXPECT_NE(t2.find("ClickPrompt w/ PLM"), std::string::npos) << t2;
  EXPECT_NE(t2.find("±"), std::string::npos) << t2;
  EXPECT_NE(t2.find("Bayes-optimal"), std::string::npos) << t2;
  auto csv = core::read_file(o.out_dir + "/report/results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 4) << csv;
  c["variants"].push_back("with_plmm");
  EXPECT_NE(test_util::error_of([&] { train::run_experiment(c, o); }).find("with_plm"), std::string::npos);
}

// The paper's RoBERTa-base recipe as shipped (configs/experiments/clickprompt_roberta_base.yaml),
// run on a few hundred rows with the tiny random-weight RoBERTa of the fixtures
// (RoBERTa-base's 50,265-token vocabulary): only epochs, seeds, device, data and
// the PLM path are overridden.
TEST(Experiment, RobertaBaseRecipeSmokeTest) {
  const std::string tiny = test_util::shared_dir() + "/fixtures/plm/roberta_tiny";
  const std::string vocab = test_util::shared_dir() + "/fixtures/plm-vocab/roberta-base";
  if (!core::file_exists(tiny + "/model.safetensors") || !core::file_exists(vocab + "/vocab.json"))
    GTEST_SKIP() << "fixtures not found under " << test_util::shared_dir() << "/fixtures";
  TempDir d;
  core::make_dirs(d.file("plm"));
  for (const char* f : {"config.json", "model.safetensors"})
    d.write(std::string("plm/") + f, core::read_file(tiny + "/" + f));
  for (const char* f : {"vocab.json", "merges.txt"}) d.write(std::string("plm/") + f, core::read_file(vocab + "/" + f));
  const std::string spec = test_util::synthetic_spec(d, "syn-rb", 600, 40, 60);

  YAML::Node c = core::load_yaml(std::string(CP_SOURCE_DIR) + "/configs/experiments/clickprompt_roberta_base.yaml");
  c["device"] = "cpu";
  c["model_configs"] = std::string(CP_SOURCE_DIR) + "/configs/models";
  c["seeds"] = YAML::Load("[1]");
  c["dataset"] = spec;
  c["plms"][0]["path"] = d.file("plm");
  c["pretrain"]["epochs"] = 1;
  c["train"]["epochs"] = 1;
  c["train_plm"]["epochs"] = 1;
  train::ExperimentOptions o;
  o.out_dir = d.file("exp");
  o.cache_root = d.file("cache");
  o.progress = false;
  // backbone, PA-MLM, with_plm, without_plm, no_pamlm, no_prompt, no_both
  EXPECT_EQ(train::run_experiment(c, o), 7);
  auto csv = core::read_file(o.out_dir + "/report/results.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 6) << csv;
  auto pre = nlohmann::json::parse(
      core::read_file(o.out_dir + "/runs/roberta-base/dcnv2/s1/pamlm-layerwise/result.json"));
  EXPECT_EQ(pre["config"]["clickprompt"]["num_prompts"], 5);
  EXPECT_DOUBLE_EQ(pre["config"]["pretrain"]["plm_lr"].get<double>(), 5e-5);
}
