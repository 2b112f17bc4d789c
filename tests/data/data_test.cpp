#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "data/dataset.h"
#include "data/reader.h"
#include "data/synthetic.h"
#include "test_util.h"

using namespace clickprompt;
using clickprompt::test_util::error_of;
using clickprompt::test_util::TempDir;

namespace {

// A tiny MovieLens folder: 3 users, 3 movies, ratings with or without timestamps.
void write_tiny_movielens(const TempDir& d, bool timestamps) {
  d.write("users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::12::55117\n");
  d.write("movies.dat", "1::Toy Story (1995)::Animation|Children's|Comedy\n2::L\xe9on (1994)::Crime|Drama\n"
                        "3::Heat (1995)::Action|Crime|Thriller\n");
  std::string r;
  int ts = 1000;
  for (int u = 1; u <= 3; ++u)
    for (int m = 1; m <= 3; ++m)
      for (int k = 0; k < 3; ++k) {
        r += std::to_string(u) + "::" + std::to_string(m) + "::" + std::to_string(1 + (u + m + k) % 5);
        if (timestamps) r += "::" + std::to_string(ts--);
        r += "\n";
      }
  d.write("ratings.dat", r);
}

data::DatasetSpec tiny_spec(const std::string& dir, const std::string& split_kind = "random") {
  auto y = YAML::Load(R"(
name: tiny
format: movielens
path: X
fields:
  - {name: user_id, display: User ID}
  - {name: gender, display: Gender}
  - {name: age, display: Age}
  - {name: occupation, display: Job}
  - {name: zipcode, display: Zipcode}
  - {name: movie_id, display: Movie ID}
  - {name: title, display: Title}
  - {name: genre, display: Film genre}
label: {column: rating, threshold: 3}
split: {kind: random, ratios: [0.6, 0.2, 0.2], seed: 7}
)");
  y["path"] = dir;
  y["split"]["kind"] = split_kind;
  return data::DatasetSpec::from_yaml(y, "tiny");
}

}  // namespace

TEST(MovieLensReader, ReadsBothRatingFormsWithReadableValues) {
  for (bool ts : {false, true}) {
    TempDir d;
    write_tiny_movielens(d, ts);
    auto t = data::read_movielens(d.path());
    EXPECT_EQ(t.rows, 27u);
    EXPECT_EQ(t.numbers.count("timestamp"), ts ? 1u : 0u);
    const auto& title = t.strings.at("title");
    EXPECT_NE(std::find(title.values.begin(), title.values.end(), "L\xc3\xa9on (1994)"), title.values.end());
    const auto& g = t.strings.at("gender");
    EXPECT_EQ(g.values[g.codes[0]], "female");
    const auto& age = t.strings.at("age");
    EXPECT_EQ(age.values[age.codes[0]], "under 18");
    const auto& job = t.strings.at("occupation");
    EXPECT_EQ(job.values[job.codes[0]], "K-12 student");
    const auto& genre = t.strings.at("genre");
    EXPECT_EQ(genre.values[genre.codes[0]], "Animation");  // first listed genre
  }
}

TEST(MovieLensReader, MalformedRowsNameFileLineAndRow) {
  TempDir d;
  write_tiny_movielens(d, false);
  d.write("ratings.dat", "1::1::5\n1::2\n");
  auto m = error_of([&] { data::read_movielens(d.path()); });
  EXPECT_NE(m.find("ratings.dat:2"), std::string::npos) << m;
  EXPECT_NE(m.find("'1::2'"), std::string::npos) << m;
  d.write("ratings.dat", "1::1::5\n1::9::4\n");
  m = error_of([&] { data::read_movielens(d.path()); });
  EXPECT_NE(m.find("MovieID not in movies.dat"), std::string::npos) << m;
  d.write("ratings.dat", "1::1::five\n");
  m = error_of([&] { data::read_movielens(d.path()); });
  EXPECT_NE(m.find("ratings.dat:1"), std::string::npos) << m;
  EXPECT_NE(error_of([&] { data::read_movielens(d.file("nope")); }).find("not found"), std::string::npos);
}

TEST(Csv, QuotingRoundTrip) {
  auto f = data::parse_csv_line("a,\"b,c\",\"say \"\"hi\"\"\",");
  ASSERT_EQ(f.size(), 4u);
  EXPECT_EQ(f[1], "b,c");
  EXPECT_EQ(f[2], "say \"hi\"");
  EXPECT_EQ(f[3], "");
  EXPECT_EQ(data::csv_escape("b,c"), "\"b,c\"");
  EXPECT_EQ(data::parse_csv_line(data::csv_escape("x \"y\", z"))[0], "x \"y\", z");
  EXPECT_THROW(data::parse_csv_line("\"open"), Error);
}

TEST(Split, RandomIsSeededDisjointAndSized) {
  data::SplitSpec s;
  auto a = data::make_split(s, 1000, nullptr);
  auto b = data::make_split(s, 1000, nullptr);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.train.size(), 800u);
  EXPECT_EQ(a.valid.size(), 100u);
  EXPECT_EQ(a.test.size(), 100u);
  std::set<int64_t> all(a.train.begin(), a.train.end());
  all.insert(a.valid.begin(), a.valid.end());
  all.insert(a.test.begin(), a.test.end());
  EXPECT_EQ(all.size(), 1000u);
  s.seed = 8;
  EXPECT_NE(data::make_split(s, 1000, nullptr).train, a.train);
}

TEST(Split, TimeOrderedAndFallback) {
  data::SplitSpec s;
  s.kind = "time";
  std::vector<double> ts;
  for (int i = 0; i < 10; ++i) ts.push_back(100 - i);  // newest first
  auto t = data::make_split(s, 10, &ts);
  EXPECT_EQ(t.kind_used, "time");
  EXPECT_EQ(t.test, (std::vector<int64_t>{0}));  // the latest row is tested
  EXPECT_EQ(t.train.front(), 9);
  auto f = data::make_split(s, 10, nullptr);
  EXPECT_NE(f.kind_used.find("no timestamps"), std::string::npos);
}

TEST(Dataset, EncoderTextViewAndCache) {
  TempDir d, cache;
  write_tiny_movielens(d, true);
  auto spec = tiny_spec(d.path(), "time");
  auto ds = data::prepare_dataset(spec, {cache.path(), false});
  EXPECT_FALSE(ds.loaded_from_cache);
  EXPECT_EQ(ds.split_used, "time");
  EXPECT_EQ(ds.train.rows + ds.valid.rows + ds.test.rows, 27);
  // Offsets are cumulative field sizes; every id lies inside its field.
  const int F = 8;
  for (int f = 0; f < F; ++f) {
    auto col = ds.train.ids.select(1, f);
    EXPECT_GE(col.min().item<int>(), ds.encoder.offsets[f]);
    EXPECT_LT(col.max().item<int>(), ds.encoder.offsets[f] + ds.encoder.field_size(f));
  }
  // Text view of a row, exactly as the modality transformation writes it.
  std::string text = ds.text_view(ds.train, 0);
  EXPECT_EQ(text.rfind("User ID is ", 0), 0u) << text;
  EXPECT_NE(text.find(". Gender is "), std::string::npos);
  EXPECT_NE(text.find(". Film genre is "), std::string::npos);
  EXPECT_EQ(text.back(), '.');

  auto again = data::prepare_dataset(spec, {cache.path(), false});
  EXPECT_TRUE(again.loaded_from_cache);
  EXPECT_TRUE(torch::equal(again.train.ids, ds.train.ids));
  EXPECT_TRUE(torch::equal(again.test.labels, ds.test.labels));
  EXPECT_EQ(again.text_view(again.test, 1), ds.text_view(ds.test, 1));

  // A corrupt cache is one clear error.
  {
    std::string bin = again.cache_dir + "/data.bin";
    std::string bytes = core::read_file(bin);
    core::atomic_write_string(bin, bytes.substr(0, bytes.size() - 5));
  }
  auto m = error_of([&] { data::prepare_dataset(spec, {cache.path(), false}); });
  EXPECT_NE(m.find("data.bin is corrupt"), std::string::npos) << m;
  EXPECT_NE(m.find("--rebuild-cache"), std::string::npos) << m;
  EXPECT_TRUE(data::prepare_dataset(spec, {cache.path(), true}).train.rows > 0);  // --rebuild-cache mends it
}

TEST(Dataset, MinCountSendsRareValuesToOov) {
  TempDir d, cache;
  write_tiny_movielens(d, false);
  auto y = tiny_spec(d.path()).yaml;
  y["min_count"] = 100;  // nothing is that frequent in 27 rows
  auto ds = data::prepare_dataset(data::DatasetSpec::from_yaml(y, "t"), {"", false});
  for (int f = 0; f < 8; ++f) EXPECT_EQ(ds.encoder.field_size(f), 1);
  EXPECT_EQ(ds.train.ids.select(1, 3).max().item<int>(), ds.encoder.oov_id(3));
  EXPECT_EQ(ds.encoder.encode(0, "never seen"), ds.encoder.oov_id(0));
}

TEST(Dataset, ExportWritesRawValuesAndLabels) {
  TempDir d, out;
  write_tiny_movielens(d, false);
  auto ds = data::prepare_dataset(tiny_spec(d.path()), {"", false});
  data::export_csv(ds, "test", out.file("test.csv"));
  auto t = data::read_csv(out.file("test.csv"), {"user_id", "title"}, {"label"});
  ASSERT_EQ(static_cast<int64_t>(t.rows), ds.test.rows);
  EXPECT_EQ(t.strings.at("title").values[t.strings.at("title").codes[0]], ds.value(ds.test, 0, 6));
  EXPECT_FLOAT_EQ(static_cast<float>(t.numbers.at("label")[0]), ds.test.labels[0].item<float>());
}

TEST(DatasetSpec, BadConfigsAreClearErrors) {
  auto y = tiny_spec("/x").yaml;
  y["fields"][0]["sorce"] = "user_id";
  EXPECT_NE(error_of([&] { data::DatasetSpec::from_yaml(y, "spec"); }).find("did you mean 'source'"), std::string::npos);
  auto z = tiny_spec("/x").yaml;
  z["fields"][1]["source"] = "gendr";
  TempDir d;
  write_tiny_movielens(d, false);
  z["path"] = d.path();
  auto m = error_of([&] { data::prepare_dataset(data::DatasetSpec::from_yaml(z, "spec"), {"", false}); });
  EXPECT_NE(m.find("did you mean 'gender'"), std::string::npos) << m;
  auto w = tiny_spec("/x").yaml;
  w["split"]["kind"] = "tim";
  EXPECT_NE(error_of([&] { data::DatasetSpec::from_yaml(w, "spec"); }).find("did you mean 'time'"), std::string::npos);
}

TEST(Synthetic, DeterministicWithLongTailAndTrueProbabilities) {
  TempDir d;
  data::SyntheticOptions o;
  o.samples = 20000;
  o.users = 300;
  o.items = 600;
  data::write_synthetic(o, d.file("a.csv"));
  data::write_synthetic(o, d.file("b.csv"));
  EXPECT_EQ(core::read_file(d.file("a.csv")), core::read_file(d.file("b.csv")));
  d.write("spec.yaml", data::synthetic_spec_yaml("syn", d.file("a.csv")));
  auto ds = data::prepare_dataset(data::DatasetSpec::load(d.file("spec.yaml")), {"", false});
  ASSERT_TRUE(ds.test.prob.defined());
  double rate = ds.train.labels.mean().item<double>();
  EXPECT_GT(rate, 0.2);
  EXPECT_LT(rate, 0.8);
  // Calibration: mean true probability ~ click rate.
  EXPECT_NEAR(ds.train.prob.mean().item<double>(), rate, 0.02);
  // Long tail: the top 10% of items take far more than 10% of impressions.
  auto counts = torch::bincount(ds.train.ids.select(1, 3).to(torch::kInt64)).to(torch::kFloat64);
  auto sorted = std::get<0>(counts.sort(0, true));
  int64_t top = std::max<int64_t>(1, sorted.size(0) / 10);
  EXPECT_GT(sorted.slice(0, 0, top).sum().item<double>() / sorted.sum().item<double>(), 0.4);
  // Titles of one item share topic words with other items (text generalizes across items).
  EXPECT_EQ(ds.fields[4].display, "Title");
}

TEST(MovieLens1M, PrepareAndReloadFast) {
  if (!clickprompt::test_util::have_ml1m()) GTEST_SKIP() << "MovieLens-1M not found at " << clickprompt::test_util::ml1m_dir();
  TempDir cache;
  auto spec = data::DatasetSpec::load(std::string(CP_SOURCE_DIR) + "/configs/datasets/ml-1m.yaml");
  spec.path = clickprompt::test_util::ml1m_dir();
  auto ds = data::prepare_dataset(spec, {cache.path(), false});
  EXPECT_EQ(ds.train.rows + ds.valid.rows + ds.test.rows, 1000209);
  EXPECT_EQ(ds.train.rows, 800167);
  EXPECT_LT(ds.seconds, 5.0) << "prepare from raw";
  double rate = ds.train.labels.mean().item<double>();
  EXPECT_NEAR(rate, 0.575, 0.01);  // share of ratings 4 and 5
  EXPECT_EQ(ds.fields[1].display, "Gender");
  auto again = data::prepare_dataset(spec, {cache.path(), false});
  EXPECT_TRUE(again.loaded_from_cache);
  EXPECT_LT(again.seconds, 0.5) << "reload from cache";
  EXPECT_TRUE(torch::equal(again.valid.ids, ds.valid.ids));
  // Time split asked for on a file without timestamps: falls back, says so.
  auto t = spec;
  t.split.kind = "time";
  t.yaml["split"]["kind"] = "time";
  auto ts = data::prepare_dataset(t, {"", false});
  EXPECT_NE(ts.split_used.find("no timestamps"), std::string::npos);
  std::string text = ds.text_view(ds.train, 0);
  EXPECT_NE(text.find("Gender is "), std::string::npos);
  EXPECT_TRUE(text.find("Gender is male.") != std::string::npos || text.find("Gender is female.") != std::string::npos) << text;
}
