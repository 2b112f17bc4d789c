// Amazon reader: the 2018 layout (JSON lines) and the 2014 one (gzip, Python-literal
// meta lines), every rule on fixtures the tests write, the Python-literal parser,
// and the review side on the real 2014 5-core file where shared/ has it.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/io.h"
#include "data/dataset.h"
#include "data/pyliteral.h"
#include "data/reader.h"
#include "test_util.h"

using namespace clickprompt;
using clickprompt::test_util::error_of;
using clickprompt::test_util::TempDir;

namespace {

std::string lines(const std::vector<std::string>& ls) {
  std::string s;
  for (const auto& l : ls) s += l + "\n";
  return s;
}

std::string review(const std::string& user, const std::string& item, double overall, long long time) {
  return "{\"reviewerID\": \"" + user + "\", \"asin\": \"" + item + "\", \"reviewerName\": \"x\", \"reviewText\": \"t\", "
         "\"overall\": " + std::to_string(overall) + ", \"unixReviewTime\": " + std::to_string(time) + "}";
}

// 8 reviews over items A-F; meta rules: B non-ASCII title, C no letter, D too short,
// E not in meta, A twice in meta, one exact duplicate review.
std::string reviews_2018() {
  return lines({review("u2", "A", 5, 300), review("u1", "A", 2, 300), review("u1", "B", 4, 100),
                review("u3", "C", 5, 100), review("u3", "D", 1, 200), review("u1", "E", 5, 50),
                review("u4", "F", 3, 10), review("u2", "A", 5, 300)});
}
std::string meta_2018() {
  return lines({R"({"asin": "A", "title": "LEGO &amp; Friends \u2013 \u201cHeartlake\u201d   Set\u2122", "brand": "LEGO", "category": ["Toys &amp; Games", "Building Toys", "Sets"]})",
                R"({"asin": "A", "title": "a duplicate line", "category": []})",
                R"({"asin": "B", "title": "Caf\u00e9 Kitchen", "brand": "Melissa", "category": ["Toys & Games"]})",
                R"({"asin": "C", "title": "12 - 34", "category": ["Toys & Games"]})",
                R"({"asin": "D", "title": "ab", "category": ["Toys & Games"]})",
                R"({"asin": "F", "title": "Puzzle", "category": ["Toys & Games"]})",
                R"({"asin": "Z", "title": "Never reviewed", "category": ["Toys & Games", "Unused"]})"});
}

std::string value(const data::RawTable& t, const std::string& col, size_t row) { return t.strings.at(col).value(row); }
std::string report_of(const data::RawTable& t) {
  std::string r;
  for (const auto& l : t.report) r += l + "\n";
  return r;
}

}  // namespace

TEST(Amazon, CleanTextAndCategoryRules) {
  EXPECT_EQ(data::amazon_clean_text("LEGO &amp; Friends \xe2\x80\x93 \xe2\x80\x9cHeartlake\xe2\x80\x9d  Set\xe2\x84\xa2 "),
            "LEGO & Friends - \"Heartlake\" Set");
  EXPECT_EQ(data::amazon_clean_text("Kid\xe2\x80\x99s\xc2\xa0Toy\xe2\x80\xa6"), "Kid's Toy...");
  EXPECT_EQ(data::amazon_clean_text("Tab\t\nand  spaces"), "Tab and spaces");
  std::string long_title;
  for (int i = 0; i < 40; ++i) long_title += "word" + std::to_string(i) + " ";
  const std::string cut = data::amazon_clean_text(long_title);
  EXPECT_LE(cut.size(), 150u);
  EXPECT_GT(cut.size(), 140u);
  EXPECT_EQ(cut.back() != ' ', true);
  EXPECT_EQ(long_title.compare(0, cut.size() + 1, cut + " "), 0);  // cut at a word boundary
  EXPECT_EQ(data::amazon_clean_text(std::string(200, 'x')).size(), 150u);  // no space: a hard cut
  EXPECT_EQ(data::amazon_category({"Toys & Games", "Puzzles", "Jigsaw"}, "Toys & Games"), "Toys & Games, Puzzles");
  EXPECT_EQ(data::amazon_category({"Toys &amp; Games", "Dolls"}, "Toys & Games"), "Toys & Games, Dolls");
  EXPECT_EQ(data::amazon_category({"Toys & Games"}, "Toys & Games"), "Toys & Games");
  EXPECT_EQ(data::amazon_category({}, "Toys & Games"), "Toys & Games");
}

TEST(Amazon, PythonLiteralLines) {
  auto j = data::parse_json_or_python(
      R"({'asin': '0000031852', 'title': 'Girls\' Tutu', "brand": "Kid's", 'price': 3.17, 'rank': -12,)"
      R"( 'salesRank': {'Toys & Games': 211836}, 'categories': [['Toys & Games', 'Dress Up'], ['Clothing']],)"
      R"( 'ok': True, 'no': False, 'none': None, 'pair': (1, 2.5e3,), 'u': u'caf\xe9', 'b': 'caf\xc3\xa9',)"
      R"( 'esc': 'a\nb\u2019c\\', 'latin': 'f\xfcr'})",
      "meta:1");
  EXPECT_EQ(j["asin"], "0000031852");
  EXPECT_EQ(j["title"], "Girls' Tutu");
  EXPECT_EQ(j["brand"], "Kid's");
  EXPECT_DOUBLE_EQ(j["price"].get<double>(), 3.17);
  EXPECT_EQ(j["rank"], -12);
  EXPECT_EQ(j["salesRank"]["Toys & Games"], 211836);
  EXPECT_EQ(j["categories"][0][1], "Dress Up");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["no"], false);
  EXPECT_TRUE(j["none"].is_null());
  EXPECT_EQ(j["pair"].size(), 2u);
  EXPECT_EQ(j["u"], "caf\xc3\xa9");    // u'' \xNN is a code point
  EXPECT_EQ(j["b"], "caf\xc3\xa9");    // '' \xNN are the UTF-8 bytes
  EXPECT_EQ(j["esc"], "a\nb\xe2\x80\x99" "c\\");
  EXPECT_EQ(j["latin"], "f\xc3\xbcr");  // not UTF-8: read as Latin-1
  EXPECT_EQ(data::parse_json_or_python(R"({"a": [1, true, null]})", "x")["a"][1], true);
  for (const char* bad : {"{'a': }", "{'a' 1}", "{'a': 1} tail", "'open", "[1, 2", "{'a': nope}", "{'a': '\\x4'}", ""})
    EXPECT_NE(error_of([&] { data::parse_json_or_python(bad, "meta:7"); }).find("meta:7: not JSON or a Python literal"),
              std::string::npos)
        << bad;
  const std::string deep = std::string(100, '(') + std::string(100, ')');  // tuples: not JSON
  EXPECT_NE(error_of([&] { data::parse_json_or_python(deep, "x"); }).find("nested deeper than 64"), std::string::npos);
}

TEST(Amazon, Reads2018LayoutWithEveryRule) {
  TempDir d("amz");
  d.write("Toys_and_Games_5.json", reviews_2018());
  d.write("meta_Toys_and_Games.json", meta_2018());
  auto t = data::read_amazon(d.file("Toys_and_Games_5.json"));
  // Kept: A x2 (one exact duplicate dropped) and F; B, C, D dropped by the title rules, E has no meta.
  ASSERT_EQ(t.rows, 3u) << report_of(t);
  // (time, user, item) order: F at 10, then A by u1 before A by u2 at 300.
  EXPECT_EQ(value(t, "item_id", 0), "F");
  EXPECT_EQ(value(t, "user_id", 1), "u1");
  EXPECT_EQ(value(t, "user_id", 2), "u2");
  EXPECT_EQ(t.numbers.at("timestamp")[1], 300);
  EXPECT_EQ(t.numbers.at("rating")[1], 2);
  EXPECT_EQ(value(t, "title", 1), "LEGO & Friends - \"Heartlake\" Set");  // the first meta line wins
  EXPECT_EQ(value(t, "category", 1), "Toys & Games, Building Toys");
  EXPECT_EQ(value(t, "brand", 1), "LEGO");
  EXPECT_EQ(value(t, "category", 0), "Toys & Games");
  EXPECT_EQ(value(t, "brand", 0), "unknown");
  const std::string r = report_of(t);
  EXPECT_NE(r.find("reviews: 8 read (4 users, 6 items), 3 kept; dropped 1 of an item not in the meta file, "
                   "3 of a dropped item, 1 exact duplicates"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("items: 7 meta lines read, 5 reviewed items found, 2 kept; dropped 0 without a title, 1 with a "
                   "non-ASCII title, 1 whose title has no letter, 1 with a title under 3 characters; 1 duplicate"),
            std::string::npos)
      << r;
}

TEST(Amazon, Reads2014LayoutGzipAndPythonMeta) {
  TempDir d("amz");
  test_util::write_gzip(d.file("reviews_Toys_and_Games_5.json.gz"),
           lines({review("u1", "B00001", 4, 1000), review("u2", "B00002", 3, 900)}));
  test_util::write_gzip(d.file("meta_Toys_and_Games.json.gz"),
           lines({"{'asin': 'B00001', 'title': \"Kid's Kitchen &amp; Caf\\xc3\\xa9\", 'price': 9.5, "
                  "'categories': [['Toys & Games', 'Pretend Play'], ['Home']], 'salesRank': {'Toys & Games': 5}}",
                  "{'asin': 'B00002', 'title': 'Slinky', 'brand': 'Poof', 'categories': [['Toys & Games']]}"}));
  auto t = data::read_amazon(d.file("reviews_Toys_and_Games_5.json.gz"));
  ASSERT_EQ(t.rows, 1u) << report_of(t);  // B00001's title holds an é: dropped
  EXPECT_EQ(value(t, "title", 0), "Slinky");
  EXPECT_EQ(value(t, "brand", 0), "Poof");
  EXPECT_EQ(value(t, "category", 0), "Toys & Games");
}

TEST(Amazon, PreparesThroughTheSpecInTimeOrder) {
  TempDir d("amz");
  std::vector<std::string> rs, ms;
  for (int i = 0; i < 40; ++i) {
    rs.push_back(review("u" + std::to_string(i % 7), "I" + std::to_string(i % 5), 1 + i % 5, 1000 - 10 * i));
  }
  for (int k = 0; k < 5; ++k)
    ms.push_back("{\"asin\": \"I" + std::to_string(k) + "\", \"title\": \"Toy number " + std::to_string(k) +
                 "\", \"category\": [\"Toys & Games\", \"Kind " + std::to_string(k % 2) + "\"]}");
  d.write("Toys_and_Games_5.json", lines(rs));
  d.write("meta_Toys_and_Games.json", lines(ms));
  auto spec = data::DatasetSpec::load(std::string(CP_SOURCE_DIR) + "/configs/datasets/amazon-toys.yaml");
  spec.path = d.file("Toys_and_Games_5.json");
  TempDir cache("amz-cache");
  auto ds = data::prepare_dataset(spec, {cache.path(), false});
  EXPECT_TRUE(data::prepare_dataset(spec, {cache.path(), false}).loaded_from_cache);
  // The cache key covers the meta file too: a changed title is a new cache.
  ms[0] = "{\"asin\": \"I0\", \"title\": \"Renamed toy\", \"category\": [\"Toys & Games\"]}";
  d.write("meta_Toys_and_Games.json", lines(ms));
  EXPECT_FALSE(data::prepare_dataset(spec, {cache.path(), false}).loaded_from_cache);
  EXPECT_EQ(ds.train.rows, 32);
  EXPECT_EQ(ds.valid.rows, 4);
  EXPECT_EQ(ds.test.rows, 4);
  float pos = 0;
  for (const auto* s : {&ds.train, &ds.valid, &ds.test}) pos += s->labels.sum().item<float>();
  EXPECT_EQ(pos, 16);  // ratings 4 and 5 (> 3): two in five
  EXPECT_EQ(ds.fields.size(), 5u);
  EXPECT_EQ(ds.fields[2].display, "Category");
  EXPECT_FALSE(ds.reader_report.empty());
}

TEST(Amazon, BadFilesNameTheFileAndLine) {
  TempDir d("amz");
  d.write("Toys_and_Games_5.json", reviews_2018());
  EXPECT_NE(error_of([&] { data::read_amazon(d.file("Toys_and_Games_5.json")); }).find("put meta_Toys_and_Games.json.gz"),
            std::string::npos);
  d.write("meta_Toys_and_Games.json", meta_2018());
  d.write("toys.json", reviews_2018());
  EXPECT_NE(error_of([&] { data::read_amazon(d.file("toys.json")); }).find("not named like a 5-core review file"),
            std::string::npos);
  d.write("Toys_and_Games_5.json", reviews_2018() + "{\"reviewerID\": \"u\", \"asin\n");
  EXPECT_NE(error_of([&] { data::read_amazon(d.file("Toys_and_Games_5.json")); }).find("Toys_and_Games_5.json:9: not JSON"),
            std::string::npos);
  d.write("Toys_and_Games_5.json", reviews_2018() + review("u9", "A", 7, 1) + "\n");
  EXPECT_NE(error_of([&] { data::read_amazon(d.file("Toys_and_Games_5.json")); }).find(":9: 'overall' must be 0-5"),
            std::string::npos);
  d.write("Toys_and_Games_5.json", lines({R"({"reviewerID": "u", "asin": "A", "overall": 5})"}));
  EXPECT_NE(error_of([&] { data::read_amazon(d.file("Toys_and_Games_5.json")); }).find(":1: review has no number 'unixReviewTime'"),
            std::string::npos);
  d.write("Toys_and_Games_5.json", lines({review("u", "Q", 5, 1)}));
  EXPECT_NE(error_of([&] { data::read_amazon(d.file("Toys_and_Games_5.json")); }).find("no review is of an item with a usable title"),
            std::string::npos);
  EXPECT_NE(error_of([&] { data::read_amazon(d.file("nothing_5.json")); }).find("Amazon review file not found"),
            std::string::npos);
}

// The review side of the real 2014 Musical Instruments 5-core file, joined with a
// meta file this test writes (shared/ has no meta file): every review is kept.
TEST(Amazon, RealReviewFile2014) {
  const std::string real = test_util::shared_dir() + "/data/amazon-2014/reviews_Musical_Instruments_5.json.gz";
  if (!std::filesystem::exists(real)) GTEST_SKIP() << "the 2014 Amazon review file not found at " << real;
  TempDir d("amz");
  const std::string link = d.file("reviews_Musical_Instruments_5.json.gz");
  std::filesystem::create_symlink(real, link);
  std::set<std::string> asins;
  core::for_each_line(real, [&](std::string_view line, size_t) {
    asins.insert(nlohmann::json::parse(line)["asin"].get<std::string>());
  });
  std::string meta;
  for (const auto& a : asins) meta += "{'asin': '" + a + "', 'title': 'Item " + a + "', 'categories': [['Musical Instruments', 'Amplifiers']]}\n";
  test_util::write_gzip(d.file("meta_Musical_Instruments.json.gz"), meta);
  auto t = data::read_amazon(link);
  EXPECT_EQ(t.rows, 10261u) << report_of(t);
  EXPECT_EQ(t.strings.at("user_id").values.size(), 1429u);
  EXPECT_EQ(t.strings.at("item_id").values.size(), 900u);
  EXPECT_EQ(value(t, "category", 0), "Musical Instruments, Amplifiers");
  size_t pos = 0;
  for (double r : t.numbers.at("rating")) pos += r > 3;
  EXPECT_EQ(pos, 9022u);
  const auto& ts = t.numbers.at("timestamp");
  EXPECT_TRUE(std::is_sorted(ts.begin(), ts.end()));
  std::cout << "reviews_Musical_Instruments_5: " << t.rows << " rows, positive rate " << double(pos) / double(t.rows)
            << "\n";
}
