// BookCrossing reader: every rule on fixtures in the dump's raw format (quoted,
// ';'-separated, CRLF, cp1252, `\"`, NULL ages, a Location with a line break),
// and the user side on the real BX-Users.csv where shared/ has it.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "data/dataset.h"
#include "data/reader.h"
#include "test_util.h"

using namespace clickprompt;
using clickprompt::test_util::error_of;
using clickprompt::test_util::TempDir;

namespace {

std::string crlf(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\r\n";
  return s;
}

// 5 users, 5 books (one with a bad ISBN, one malformed line), 9 ratings.
void write_tiny_bx(const TempDir& d) {
  d.write("BX-Users.csv", crlf({"\"User-ID\";\"Location\";\"Age\"", "\"1\";\"nyc, new york, usa\";NULL",
                                "\"2\";\"stockton, california, usa\";\"18\"",
                                "\"3\";\"m\xfcnchen, bayern, deutschland\";\"27\"",
                                // a Location with a line break and an escaped quote
                                "\"4\";\"porto\r\n, \\\"n/a\\\", portugal\";\"101\"", "\"5\";\"berlin, n/a,\";\"64\""}));
  d.write("BX-Books.csv",
          crlf({"\"ISBN\";\"Book-Title\";\"Book-Author\";\"Year-Of-Publication\";\"Publisher\";\"Image-URL-S\";"
                "\"Image-URL-M\";\"Image-URL-L\"",
                "\"0195153448\";\"Classical Mythology\";\"Mark P. O. Morford\";\"2002\";\"Oxford University Press\";"
                "\"s\";\"m\";\"l\"",
                "\"000000000X\";\"Peterman Rides Again: The Real \\\"J. Peterman\\\" &amp; the Catalog\";\"n/a\";\"0\";"
                "\"Wiley\";\"s\";\"m\";\"l\"",
                "\"0-1234\";\"Bad ISBN\";\"Somebody\";\"1999\";\"Pub\";\"s\";\"m\";\"l\"",
                // the dump's malformed kind: an unescaped '";' shifts the columns
                "\"0789466953\";\"DK Readers (Level 4)\\\";\"James Buckley\";\"2000\";\"DK\";\"s\";\"m\";\"l\"",
                "\"0440234743\";\"The Testament \x96 Caf\xe9\";\"John Grisham\";\"1999\";\"N/A\";\"s\";\"m\";\"l\""}));
  d.write("BX-Book-Ratings.csv",
          crlf({"\"User-ID\";\"ISBN\";\"Book-Rating\"", "\"1\";\"0195153448\";\"0\"", "\"2\";\"0195153448\";\"5\"",
                "\"3\";\"000000000X\";\"4\"", "\"4\";\"0440234743\";\"10\"", "\"5\";\"0440234743\";\"7\"",
                "\"6\";\"0195153448\";\"9\"",   // unknown user
                "\"1\";\"0-1234\";\"8\"",        // dropped book
                "\"2\";\"0789466953\";\"8\"",    // malformed book
                "\"3\";\"0440234743\";\"0\""}));
}

std::string value(const data::RawTable& t, const std::string& col, size_t row) { return t.strings.at(col).value(row); }

}  // namespace

TEST(BookCrossing, CountryRules) {
  EXPECT_EQ(data::bookcrossing_country("nyc, new york, usa"), "usa");
  EXPECT_EQ(data::bookcrossing_country("farnborough, hants, united kingdom"), "united kingdom");
  EXPECT_EQ(data::bookcrossing_country("london, england"), "united kingdom");
  EXPECT_EQ(data::bookcrossing_country("seattle, washington, united states of america"), "usa");
  EXPECT_EQ(data::bookcrossing_country("san diego, california, "), "unknown");  // nothing after the last ", "
  EXPECT_EQ(data::bookcrossing_country("san diego, california,"), "usa");      // a state, a stray comma
  EXPECT_EQ(data::bookcrossing_country("houston, texas"), "usa");              // a state in the country's place
  EXPECT_EQ(data::bookcrossing_country("madrid, madrid, spain\""), "spain");   // stray punctuation
  EXPECT_EQ(data::bookcrossing_country("barcelona, barcelona, españa"), "spain");
  EXPECT_EQ(data::bookcrossing_country("rome, lazio, l`italia"), "italy");
  EXPECT_EQ(data::bookcrossing_country("lisbon, \"n/a\","), "unknown");
  EXPECT_EQ(data::bookcrossing_country("berlin, n/a, germany"), "germany");
  EXPECT_EQ(data::bookcrossing_country("x, y, c"), "unknown");       // one character
  EXPECT_EQ(data::bookcrossing_country("x, y, 19104"), "unknown");   // a zip code
  EXPECT_EQ(data::bookcrossing_country("x, y, -------"), "unknown");
  EXPECT_EQ(data::bookcrossing_country("somewhere, universe"), "unknown");
  EXPECT_EQ(data::bookcrossing_country("toronto, ontario, CANADA"), "canada");
  EXPECT_EQ(data::bookcrossing_country("wellington, new  zealand"), "new zealand");  // spaces collapsed
}

TEST(BookCrossing, AgeBuckets) {
  EXPECT_EQ(data::bookcrossing_age("NULL"), "unknown");
  EXPECT_EQ(data::bookcrossing_age(""), "unknown");
  EXPECT_EQ(data::bookcrossing_age("4"), "unknown");
  EXPECT_EQ(data::bookcrossing_age("101"), "unknown");
  EXPECT_EQ(data::bookcrossing_age("5"), "under 18");
  EXPECT_EQ(data::bookcrossing_age("17"), "under 18");
  EXPECT_EQ(data::bookcrossing_age("18"), "18-24");
  EXPECT_EQ(data::bookcrossing_age("24"), "18-24");
  EXPECT_EQ(data::bookcrossing_age("25"), "25-29");
  EXPECT_EQ(data::bookcrossing_age("44"), "40-44");
  EXPECT_EQ(data::bookcrossing_age("59"), "55-59");
  EXPECT_EQ(data::bookcrossing_age("60"), "60+");
  EXPECT_EQ(data::bookcrossing_age("100"), "60+");
  std::set<std::string> all;
  for (int a = 0; a <= 120; ++a) all.insert(data::bookcrossing_age(std::to_string(a)));
  EXPECT_EQ(all.size(), 11u);
}

TEST(BookCrossing, ReadsTheRawFormatWithEveryRule) {
  TempDir d("bx");
  write_tiny_bx(d);
  auto users = data::read_bookcrossing_users(d.file("BX-Users.csv"));
  ASSERT_EQ(users.rows, 5u);  // the line break inside a quoted Location is not a record end
  EXPECT_EQ(value(users, "location", 0), "usa");
  EXPECT_EQ(value(users, "age", 0), "unknown");  // NULL
  EXPECT_EQ(value(users, "location", 2), "germany");  // cp1252 "München" decoded, deutschland -> germany
  EXPECT_EQ(value(users, "location", 3), "portugal");
  EXPECT_EQ(value(users, "age", 3), "unknown");  // 101
  EXPECT_EQ(value(users, "location", 4), "unknown");
  EXPECT_EQ(value(users, "age", 4), "60+");

  auto t = data::read_bookcrossing(d.path());
  // Kept: ratings 1-5 and the last (user 3, a known book); dropped: unknown user, bad ISBN, malformed book.
  ASSERT_EQ(t.rows, 6u);
  const auto& rating = t.numbers.at("rating");
  EXPECT_EQ(rating[0], 0);  // implicit ratings are rows (negatives under the spec's threshold)
  EXPECT_EQ(rating[3], 10);
  EXPECT_EQ(value(t, "title", 2), "Peterman Rides Again: The Real \"J. Peterman\" & the Catalog");
  EXPECT_EQ(value(t, "author", 2), "unknown");  // n/a
  EXPECT_EQ(value(t, "year", 2), "unknown");    // "0" is not 4 characters
  EXPECT_EQ(value(t, "year", 0), "2002");
  EXPECT_EQ(value(t, "title", 3), "The Testament \xe2\x80\x93 Caf\xc3\xa9");  // cp1252 en dash and é
  EXPECT_EQ(value(t, "publisher", 3), "unknown");                           // N/A
  EXPECT_EQ(value(t, "location", 3), "portugal");
  EXPECT_EQ(value(t, "age", 1), "18-24");
  EXPECT_EQ(value(t, "isbn", 5), "0440234743");
  std::string report;
  for (const auto& l : t.report) report += l + "\n";
  EXPECT_NE(report.find("books: 5 read, 3 kept; dropped 1 with an ISBN that is not ASCII letters and digits, 1 malformed"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("ratings: 9 read, 6 kept; dropped 1 with an unknown user, 2 with an unknown or dropped book"),
            std::string::npos)
      << report;
}

TEST(BookCrossing, PreparesThroughTheSpecWithTheLabelRule) {
  TempDir d("bx");
  write_tiny_bx(d);
  auto spec = data::DatasetSpec::load(std::string(CP_SOURCE_DIR) + "/configs/datasets/bookcrossing.yaml");
  spec.path = d.path();
  spec.split.ratios = {0.34, 0.33, 0.33};
  auto ds = data::prepare_dataset(spec, {"", false});
  EXPECT_EQ(ds.train.rows + ds.valid.rows + ds.test.rows, 6);
  float pos = 0;
  for (const auto* s : {&ds.train, &ds.valid, &ds.test}) pos += s->labels.sum().item<float>();
  EXPECT_EQ(pos, 3);  // ratings 5, 10 and 7 are >= 5; 0, 4 and 0 are not
  EXPECT_EQ(ds.fields[4].display, "Book title");
  EXPECT_FALSE(ds.reader_report.empty());
}

TEST(BookCrossing, MalformedFilesNameTheFileAndLine) {
  TempDir d("bx");
  write_tiny_bx(d);
  d.write("BX-Book-Ratings.csv", crlf({"\"User-ID\";\"ISBN\";\"Book-Rating\"", "\"1\";\"0195153448\";\"11\""}));
  EXPECT_NE(error_of([&] { data::read_bookcrossing(d.path()); }).find("BX-Book-Ratings.csv:2: Book-Rating must be 0-10"),
            std::string::npos);
  d.write("BX-Users.csv", crlf({"\"User-ID\";\"Location\";\"Age\"", "\"1\";\"open quote;NULL"}));
  EXPECT_NE(error_of([&] { data::read_bookcrossing(d.path()); }).find("BX-Users.csv:2: unterminated quoted value"),
            std::string::npos);
  d.write("BX-Users.csv", crlf({"\"UserID\";\"Where\";\"Age\""}));
  EXPECT_NE(error_of([&] { data::read_bookcrossing(d.path()); }).find("not a BookCrossing file"), std::string::npos);
  std::filesystem::remove(d.file("BX-Books.csv"));
  EXPECT_NE(error_of([&] { data::read_bookcrossing(d.path()); }).find("BookCrossing file not found"), std::string::npos);
}

TEST(BookCrossing, RealUsersFile) {
  const std::string path = test_util::shared_dir() + "/data/bookcrossing/BX-Users.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "BX-Users.csv not found at " << path;
  auto users = data::read_bookcrossing_users(path);
  EXPECT_EQ(users.rows, 278858u);  // the authors' User ID vocabulary
  EXPECT_EQ(users.strings.at("user_id").values.size(), 278858u);
  EXPECT_EQ(users.strings.at("age").values.size(), 11u);  // the authors' Age vocabulary
  const auto& loc = users.strings.at("location");
  std::vector<size_t> count(loc.values.size());
  for (auto c : loc.codes) ++count[c];
  size_t usa = 0, unknown = 0;
  for (size_t k = 0; k < loc.values.size(); ++k) {
    if (loc.values[k] == "usa") usa = count[k];
    if (loc.values[k] == "unknown") unknown = count[k];
  }
  EXPECT_GT(usa, 139711u);  // the literal "usa" plus the aliases and states
  EXPECT_LT(unknown, 10000u);
  // The authors report 922 countries over the users that rated; our alias table merges
  // more spellings, so all users give fewer (812 measured, docs/datasets.md).
  EXPECT_GT(loc.values.size(), 700u);
  EXPECT_LT(loc.values.size(), 1000u);
  std::cout << "BX-Users.csv: " << users.rows << " users, " << loc.values.size() << " locations (usa " << usa
            << ", unknown " << unknown << ")\n";
}
