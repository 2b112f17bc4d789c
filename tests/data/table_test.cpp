// The schema reader (format: table): a user's own data set described by a YAML
// file alone (categorical, numeric, multi-valued and text-only fields), with
// every reading rule exercised, and that data set training every CTR model and
// ClickPrompt, reloading and serving as a bundle.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/io.h"
#include "bundle/bundle.h"
#include "ctr/registry.h"
#include "metrics/metrics.h"
#include "data/dataset.h"
#include "data/reader.h"
#include "data/synthetic.h"
#include "train/clickprompt_run.h"
#include "train/mlm_pretrain.h"
#include "train/run.h"
#include "test_util.h"

using namespace clickprompt;
using clickprompt::test_util::error_of;
using clickprompt::test_util::TempDir;
using clickprompt::test_util::write_gzip;

namespace {

// The synthetic world (docs/synthetic.md) recast as a shop's log: a gzip TSV of
// events (user, item, action, day, fold), a Latin-1 users CSV, an items JSONL
// with a price. Clicks and buys are the positives; one user has no record.
struct Shop {
  TempDir dir;
  int64_t rows = 0, positives = 0;
  Shop(int64_t samples = 6000) {
    data::SyntheticOptions so;
    so.samples = samples;
    so.users = 150;
    so.items = 250;
    data::write_synthetic(so, dir.file("syn.csv"));
    auto t = data::read_csv(dir.file("syn.csv"), {"user_id", "age", "region", "item_id", "title", "category", "brand"}, {"click"});
    rows = static_cast<int64_t>(t.rows);
    const auto& click = t.numbers.at("click");
    std::string events = "user_id\titem_id\taction\tday\tfold\n";
    std::map<std::string, std::string> users, items;
    for (size_t r = 0; r < t.rows; ++r) {
      const std::string& u = t.strings.at("user_id").value(r);
      const std::string& i = t.strings.at("item_id").value(r);
      const char* action = click[r] == 1 ? (r % 3 == 0 ? "buy" : "click") : "view";
      positives += click[r] == 1;
      events += u + "\t" + i + "\t" + action + "\t" + std::to_string(r) + "\t" + "abcdefghij"[r % 10] + "\n";
      // Latin-1 bytes: "Zürich-<region>".
      users[u] = u + ",\"Z\xFCrich-" + t.strings.at("region").value(r) + "\"," + t.strings.at("age").value(r) + "\r\n";
      nlohmann::json item = {{"item_id", i},
                             {"title", t.strings.at("title").value(r)},
                             {"tags", {t.strings.at("category").value(r), t.strings.at("brand").value(r)}},
                             {"price", 1.5 * static_cast<double>(std::hash<std::string>{}(i) % 40)}};
      items[i] = item.dump() + "\n";
    }
    write_gzip(dir.file("events.tsv.gz"), events);
    std::string u = "user_id,region,age\r\n";
    bool skipped = false;
    for (const auto& [id, line] : users) {
      if (!skipped) {  // the first user has no record: its rows get empty values
        skipped = true;
        missing_user = id;
        continue;
      }
      u += line;
    }
    dir.write("users.csv", u);
    std::string it;
    for (const auto& [id, line] : items) it += line;
    dir.write("items.jsonl", it);
  }
  std::string missing_user;
  std::string spec(const std::string& split = "split: {kind: random, seed: 7}\n", const std::string& extra = "") const {
    return "name: shop\n"
           "format: table\n"
           "path: " + dir.file("events.tsv.gz") + "\n"
           "joins:\n"
           "  - {path: " + dir.file("users.csv") + ", key: user_id, read: {encoding: latin1}}\n"
           "  - {path: " + dir.file("items.jsonl") + ", key: item_id}\n"
           "fields:\n"
           "  - {name: user_id, display: User ID}\n"
           "  - {name: region, display: Region}\n"
           "  - {name: age, display: Age}\n"
           "  - {name: item_id, display: Item ID}\n"
           "  - {name: title, display: Title, type: text}\n"
           "  - {name: tags, display: Tags, type: multi, separator: \", \"}\n"
           "  - {name: price, display: Price, type: numeric, buckets: 4}\n"
           "  - {name: day, display: Day, type: numeric, edges: [1000, 3000]}\n"
           "label: {column: action, values: [click, buy]}\n"
           "user_field: user_id\n"
           "item_field: item_id\n" +
           split + extra;
  }
  std::string write_spec(const std::string& text) const {
    dir.write("shop.yaml", text);
    return dir.file("shop.yaml");
  }
};

}  // namespace

TEST(TableSchema, ReadsJoinsEncodingsLabelSetNumericBucketsAndSplitColumn) {
  Shop shop;
  auto spec = data::DatasetSpec::load(shop.write_spec(
      shop.spec("split: {kind: column, column: fold, train: [a, b, c, d, e, f, g, h], valid: [i], test: [j]}\n")));
  auto t = data::read_table(spec);
  ASSERT_EQ(static_cast<int64_t>(t.rows), shop.rows);
  // Label = action in {click, buy}.
  const auto& y = t.numbers.at("action");
  EXPECT_EQ(std::count(y.begin(), y.end(), 1.0), shop.positives);
  // Latin-1 decoded; the user without a record has empty joined values; JSON lists joined by ", ".
  bool saw_missing = false;
  for (size_t r = 0; r < t.rows; ++r) {
    const std::string& region = t.strings.at("region").value(r);
    if (t.strings.at("user_id").value(r) == shop.missing_user) {
      EXPECT_EQ(region, "");
      saw_missing = true;
    } else {
      ASSERT_EQ(region.rfind("Z\xC3\xBCrich-", 0), 0u) << region;
    }
    ASSERT_NE(t.strings.at("tags").value(r).find(", "), std::string::npos);
  }
  EXPECT_TRUE(saw_missing);
  ASSERT_EQ(t.report.size(), 3u);
  EXPECT_NE(t.report[1].find("without a match (empty values)"), std::string::npos) << t.report[1];
  EXPECT_NE(t.report[2].find(" 0 without a match"), std::string::npos) << t.report[2];

  TempDir cache;
  auto ds = data::prepare_dataset(spec, {cache.path(), false});
  // The split column: folds a-h train, i valid, j test, in file order.
  EXPECT_EQ(ds.train.rows + ds.valid.rows + ds.test.rows, shop.rows);
  EXPECT_EQ(ds.valid.rows, shop.rows / 10);
  EXPECT_EQ(ds.split_used, "column fold");
  const int price = spec.field_index("price"), day = spec.field_index("day");
  // Quantile buckets of the training prices: 4 buckets (+ OOV), each holding about a quarter.
  ASSERT_TRUE(ds.encoder.edges[price].has_value());
  EXPECT_EQ(ds.encoder.field_size(price), 5);
  std::vector<int64_t> per_bucket(5, 0);
  auto ids = ds.train.ids;
  for (int64_t r = 0; r < ds.train.rows; ++r) {
    const int64_t local = ids[r][ds.encoder.slot_offset(price)].item<int32_t>() - ds.encoder.offsets[price];
    ASSERT_TRUE(local >= 0 && local < 5) << local;
    ++per_bucket[local];
  }
  EXPECT_EQ(per_bucket[0], 0);
  for (int b = 1; b <= 4; ++b) EXPECT_NEAR(static_cast<double>(per_bucket[b]) / ds.train.rows, 0.25, 0.08) << b;
  // Fixed edges: day 0..999 -> bucket 1, 1000..2999 -> 2, 3000.. -> 3; the text view keeps the raw number.
  EXPECT_EQ(ds.encoder.vocab[day], (std::vector<std::string>{"< 1000", "[1000, 3000)", ">= 3000"}));
  EXPECT_EQ(ds.encoder.encode(day, "999") - ds.encoder.offsets[day], 1);
  EXPECT_EQ(ds.encoder.encode(day, "1000") - ds.encoder.offsets[day], 2);
  EXPECT_EQ(ds.encoder.encode(day, "4500.5") - ds.encoder.offsets[day], 3);
  EXPECT_EQ(ds.encoder.encode(day, "n/a") - ds.encoder.offsets[day], 0);
  EXPECT_NE(ds.text_view(ds.train, 0).find("Day is 0."), std::string::npos) << ds.text_view(ds.train, 0);

  // The multi-valued tags (a JSON list: category, brand): two slots of single values, the raw list in the text view.
  const int tags = spec.field_index("tags");
  EXPECT_EQ(ds.encoder.width[tags], 2);
  // Title is text-only: in the text view, no slot in the ID view (7 ID fields, 8 slots).
  EXPECT_EQ(ds.encoder.width[spec.field_index("title")], 0);
  EXPECT_EQ(ds.feature_info().num_fields, 7);
  EXPECT_EQ(ds.encoder.num_slots(), 8);
  EXPECT_EQ(ds.train.ids.size(1), 8);
  EXPECT_NE(ds.text_view(ds.train, 0).find("Title is " + ds.value(ds.train, 0, spec.field_index("title")) + "."), std::string::npos);
  const std::string raw = ds.value(ds.train, 0, tags);
  const std::string first = raw.substr(0, raw.find(", ")), second = raw.substr(raw.find(", ") + 2);
  EXPECT_NE(std::find(ds.encoder.vocab[tags].begin(), ds.encoder.vocab[tags].end(), first), ds.encoder.vocab[tags].end());
  int32_t slots[2];
  ds.encoder.encode_into(tags, raw, slots);
  EXPECT_EQ(slots[0], ds.train.ids[0][ds.encoder.slot_offset(tags)].item<int32_t>());
  EXPECT_EQ(slots[1], ds.train.ids[0][ds.encoder.slot_offset(tags) + 1].item<int32_t>());
  EXPECT_EQ(ds.encoder.vocab[tags][slots[1] - ds.encoder.offsets[tags] - 1], second);
  ds.encoder.encode_into(tags, first + ", never seen, x, y", slots);  // unknown values: OOV; past the width: dropped
  EXPECT_EQ(slots[1], ds.encoder.oov_id(tags));
  EXPECT_NE(ds.text_view(ds.train, 0).find("Tags is " + raw + "."), std::string::npos);

  // The cache reloads the buckets and slots; encoder.json's form round-trips them.
  auto again = data::prepare_dataset(spec, {cache.path(), false});
  ASSERT_TRUE(again.loaded_from_cache);
  EXPECT_EQ(*again.encoder.edges[price], *ds.encoder.edges[price]);
  EXPECT_TRUE(torch::equal(again.train.ids, ds.train.ids));
  std::vector<data::FieldMeta> fields;
  data::Encoder enc;
  data::read_encoder_json(data::encoder_json(ds.fields, ds.encoder), fields, enc);
  EXPECT_EQ(enc.encode(day, "1000"), ds.encoder.encode(day, "1000"));
  EXPECT_EQ(enc.width, ds.encoder.width);
  EXPECT_EQ(enc.num_slots(), 8);
  EXPECT_FALSE(enc.edges[spec.field_index("title")].has_value());
}

TEST(TableSchema, DropUnmatchedTimeSplitQuotedLineBreaksAndHeaderlessFiles) {
  TempDir d;
  // No header (columns named), ';' separated, a quoted value with a line break, a time column.
  d.write("log.txt", "u1;i1;1;30\nu2;i2;0;10\nu1;\"i\n3\";1;20\nu3;i1;0;40\nu2;i1;1;50\nu9;i2;1;60\nu3;i2;0;70\nu1;i2;1;80\n"
                     "u2;i1;0;90\nu3;i1;1;100\n");
  d.write("users.tsv", "uid\tgroup\nu1\tA\nu2\tB\nu3\tA\n");
  d.write("s.yaml",
          "name: log\nformat: table\npath: log.txt\n"
          "read: {delimiter: ';', columns: [user, item, clicked, ts]}\n"
          "joins: [{path: users.tsv, key: user, table_key: uid, drop_unmatched: true}]\n"
          "fields: [{name: user}, {name: item}, {name: group}]\n"
          "label: {column: clicked}\n"
          "split: {kind: time, column: ts, ratios: [0.6, 0.2, 0.2]}\n");
  auto spec = data::DatasetSpec::load(d.file("s.yaml"));
  auto t = data::read_table(spec);
  ASSERT_EQ(t.rows, 9u);  // u9 has no user record: dropped
  EXPECT_EQ(t.strings.at("item").value(2), "i\n3");
  EXPECT_EQ(t.strings.at("group").value(0), "A");
  EXPECT_NE(t.report[1].find("1 without a match dropped"), std::string::npos) << t.report[1];
  TempDir cache;
  auto ds = data::prepare_dataset(spec, {cache.path(), false});
  EXPECT_EQ(ds.split_used, "time");
  // Time order: the first training row is ts 10 (u2, i2), the test rows the latest.
  EXPECT_EQ(ds.value(ds.train, 0, 0), "u2");
  EXPECT_EQ(ds.value(ds.test, ds.test.rows - 1, 0), "u3");
}

TEST(TableSchema, MistakesNameTheKeyAndTheFile) {
  Shop shop(600);
  auto load_error = [&](const std::string& text) {
    return error_of([&] { data::read_table(data::DatasetSpec::load(shop.write_spec(text))); });
  };
  EXPECT_NE(load_error(shop.spec("split: {kind: random}\n", "colour: red\n")).find("colour"), std::string::npos);
  std::string e = load_error(shop.spec("split: {kind: random, ratios: sometimes}\n"));
  EXPECT_NE(e.find("shop.yaml"), std::string::npos) << e;
  EXPECT_NE(e.find("ratios"), std::string::npos) << e;
  e = load_error(shop.spec("split: {kind: column, column: fold, train: [a], valid: [b], test: [c]}\n"));
  EXPECT_NE(e.find("holds 'd', which is in none of"), std::string::npos) << e;
  EXPECT_NE(e.find("events.tsv.gz:5"), std::string::npos) << e;  // header + rows a, b, c, then d
  std::string spec = shop.spec();
  spec.replace(spec.find("{name: title,"), 13, "{name: titel,");
  e = load_error(spec);
  EXPECT_NE(e.find("column 'titel' is in none of"), std::string::npos) << e;
  EXPECT_NE(e.find("title"), std::string::npos) << e;  // the nearest column
  spec = shop.spec();
  spec.replace(spec.find("type: numeric, buckets: 4"), 25, "type: numeric");
  EXPECT_NE(load_error(spec).find("either 'buckets'"), std::string::npos);
  spec = shop.spec();
  spec.replace(spec.find("values: [click, buy]"), 20, "values: [click], threshold: 1");
  EXPECT_NE(load_error(spec).find("not both"), std::string::npos);
  spec = shop.spec();
  spec.replace(spec.find("encoding: latin1"), 16, "encoding: ebcdic");
  e = load_error(spec);
  EXPECT_NE(e.find("joins[0].read.encoding"), std::string::npos) << e;
  // Without the Latin-1 setting the users file is not UTF-8: file and line named.
  spec = shop.spec();
  spec.replace(spec.find(", read: {encoding: latin1}"), 26, "");
  e = load_error(spec);
  EXPECT_NE(e.find("users.csv:2: not valid UTF-8"), std::string::npos) << e;
  // A key twice in a side table.
  std::string items = core::read_file(shop.dir.file("items.jsonl"));
  const std::string first_id = nlohmann::json::parse(items.substr(0, items.find('\n')))["item_id"];
  shop.dir.write("items.jsonl", items + "{\"item_id\": \"" + first_id + "\"}\n");
  e = load_error(shop.spec());
  EXPECT_NE(e.find("appears twice"), std::string::npos) << e;
}

// A user's data set from the schema file alone trains every CTR model and ClickPrompt.
TEST(TableSchema, TrainsEveryCtrModelAndClickPrompt) {
  at::set_num_threads(2);
  Shop shop(20000);
  const std::string spec_path = shop.write_spec(shop.spec());
  auto ds = data::prepare_dataset(data::DatasetSpec::load(spec_path), {shop.dir.file("cache"), false});
  auto config = [&](const std::string& model) {
    YAML::Node c = YAML::Load("model: {model: " + model +
                              ", embedding_dim: 8}\n"
                              "train: {batch_size: 128, epochs: 2, lr: 0.003}\nseed: 5\n");
    c["dataset"] = core::load_yaml(spec_path);
    return c;
  };
  train::RunOptions ro;
  ro.cache_root = shop.dir.file("cache");
  ro.progress = false;
  for (const auto& model : ctr::model_names()) {
    ro.out_dir = shop.dir.file("run-" + model);
    auto r = train::run_ctr(config(model), ro);
    // Chance is 0.5; with 2,000 test rows the AUC's standard error is about 0.013.
    EXPECT_GT(r["test_auc"].get<double>(), 0.58) << model;
  }
  {  // The run reloads from its folder (the spec as used parses again) and evaluates to the same AUC.
    auto run = train::load_run(shop.dir.file("run-dnn"));
    auto rds = data::prepare_dataset(run.spec, {shop.dir.file("cache"), false});
    const double auc = train::read_result(shop.dir.file("run-dnn"))["test_auc"].get<double>();
    EXPECT_NEAR(train::evaluate_run(run, rds, "test")["auc"].get<double>(), auc, 1e-6);
    // As a bundle it encodes raw values (numbers bucketed, multi-valued tags split) as training did.
    train::export_run(shop.dir.file("run-dnn"), shop.dir.file("bundle"));
    auto model = bundle::load(shop.dir.file("bundle"));
    std::vector<std::vector<std::string>> columns(rds.fields.size());
    for (int64_t r = 0; r < rds.test.rows; ++r)
      for (size_t f = 0; f < rds.fields.size(); ++f) columns[f].push_back(rds.value(rds.test, r, static_cast<int>(f)));
    auto scores = model->score(columns);
    std::vector<float> labels(rds.test.labels.data_ptr<float>(), rds.test.labels.data_ptr<float>() + rds.test.rows);
    EXPECT_NEAR(metrics::auc(scores, labels), auc, 2e-4);
  }

  train::MlmPretrainOptions o;
  o.vocab_size = 400;
  o.hidden_size = 32;
  o.intermediate_size = 64;
  o.lr = 2e-3;
  o.loop.epochs = 1;
  o.loop.valid_rows = 300;
  o.loop.progress = false;
  train::pretrain_mlm(ds, o, shop.dir.file("plm"));
  YAML::Node c = YAML::Load(
      "model: {model: dnn, embedding_dim: 8, dnn_hidden_units: [32]}\nclickprompt: {num_prompts: 2}\n"
      "pretrain: {epochs: 1, batch_size: 64, plm_lr: 0.0005, valid_rows: 300}\n"
      "train: {batch_size: 128, epochs: 2, patience: 1, plm_lr: 0.0001}\nseed: 3\n");
  c["dataset"] = core::load_yaml(spec_path);
  c["plm"] = shop.dir.file("plm");
  ro.out_dir = shop.dir.file("pamlm");
  train::run_pa_mlm(c, ro);
  ro.out_dir = shop.dir.file("cp-with");
  ro.mode = "clickprompt_with_plm";
  auto with = train::run_finetune_plm(c, ro, shop.dir.file("pamlm"));
  EXPECT_GT(with["test_auc"].get<double>(), 0.58);
  ro.out_dir = shop.dir.file("cp-without");
  ro.mode = "clickprompt_without_plm";
  auto without = train::run_finetune_ctr(c, ro, shop.dir.file("pamlm"));
  EXPECT_GT(without["test_auc"].get<double>(), 0.58);
}
