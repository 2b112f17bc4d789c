// GoodReads: every reader rule on raw-format fixtures the test writes (both
// interaction layouts, gzip metadata, the genre and row filters, the errors),
// and the real head of goodreads_interactions.csv in shared/ where present.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <set>
#include <filesystem>

#include "core/error.h"
#include "core/io.h"
#include "data/dataset.h"
#include "data/reader.h"
#include "test_util.h"

using namespace clickprompt;
using clickprompt::test_util::error_of;
using clickprompt::test_util::TempDir;
using clickprompt::test_util::write_gzip;

namespace {

std::string book(const std::string& id, const std::string& title, const std::string& authors, const std::string& work,
                 const std::string& extra = "") {
  return "{\"book_id\": \"" + id + "\", \"title\": \"" + title + "\", \"authors\": " + authors +
         ", \"average_rating\": \"4.10\", \"text_reviews_count\": \"12\", \"num_pages\": \"320\", \"is_ebook\": \"false\", "
         "\"format\": \"Paperback\", \"publisher\": \"\", \"publication_year\": \"2001\", \"work_id\": \"" + work + "\"" + extra + "}\n";
}

// Four books (one without genres, one without metadata in the interactions),
// two authors, two works; interactions in the CSV layout with the id map.
void write_fixture(const TempDir& d) {
  write_gzip(d.file("goodreads_books.json.gz"),
             book("100", "The  First Book", "[{\"author_id\": \"7\", \"role\": \"\"}, {\"author_id\": \"8\", \"role\": \"Illustrator\"}]", "900") +
                 book("200", "Second", "[{\"author_id\": \"8\", \"role\": \"\"}]", "901") +
                 book("300", "Third", "[]", "999") + "\n" + book("400", "Poems", "[{\"author_id\": \"7\", \"role\": \"\"}]", "900"));
  d.write("goodreads_book_authors.json",
          "{\"author_id\": \"7\", \"name\": \"Ann Author\", \"average_rating\": \"4\"}\n{\"author_id\": \"8\", \"name\": \"Bob Drawer\"}\n");
  write_gzip(d.file("goodreads_book_works.json.gz"),
             "{\"work_id\": \"900\", \"media_type\": \"book\"}\n{\"work_id\": \"901\", \"media_type\": \"\"}\n");
  write_gzip(d.file("goodreads_book_genres_initial.json.gz"),
             "{\"book_id\": \"100\", \"genres\": {\"fiction\": 20, \"history, historical fiction, biography\": 3, \"fantasy, paranormal\": 20}}\n"
             "{\"book_id\": \"200\", \"genres\": {}}\n"
             "{\"book_id\": \"400\", \"genres\": {\"poetry\": 5}}\n");
  d.write("book_id_map.csv", "book_id_csv,book_id\n0,100\n1,200\n2,300\n3,400\n4,555\n");
  // user 0 rates books 0-3; rating 0 rows are unrated; csv book 4 (555) has no metadata.
  d.write("goodreads_interactions.csv",
          "user_id,book_id,is_read,rating,is_reviewed\n0,0,1,5,0\n0,1,1,0,0\n0,2,1,3,1\n0,3,1,4,0\n1,0,1,2,0\n1,4,1,5,0\n2,3,0,0,0\n2,0,1,4,1\n");
}

std::string value(const data::RawTable& t, const std::string& col, size_t row) { return t.strings.at(col).value(row); }

}  // namespace

TEST(GoodReads, GenresOrderedByVotesThenName) {
  EXPECT_EQ(data::goodreads_genres(nlohmann::json::parse("{\"b\": 2, \"a\": 2, \"c\": 9}")), "c; a; b");
  EXPECT_EQ(data::goodreads_genres(nlohmann::json::object()), "unknown");
}

TEST(GoodReads, EveryRuleOnTheRawFormats) {
  TempDir d;
  write_fixture(d);
  auto t = data::read_goodreads(d.path(), YAML::Node());
  // 8 interactions: 2 unrated dropped, 1 of a book without metadata dropped.
  ASSERT_EQ(t.rows, 5u);
  ASSERT_EQ(t.report.size(), 2u);
  EXPECT_EQ(t.report[0], "books: 4 records, 4 kept");
  EXPECT_EQ(t.report[1], "interactions: 8 read, 2 unrated (rating 0) dropped, 1 of a book without metadata dropped, 5 kept");
  EXPECT_EQ(t.numbers.at("rating"), (std::vector<double>{5, 3, 4, 2, 4}));
  // Row 0: user 0, book 100 (csv id 0 mapped), its metadata joined.
  EXPECT_EQ(value(t, "user_id", 0), "0");
  EXPECT_EQ(value(t, "book_id", 0), "100");
  EXPECT_EQ(value(t, "title", 0), "The First Book");  // spaces collapsed
  EXPECT_EQ(value(t, "genres", 0), "fantasy, paranormal; fiction; history, historical fiction, biography");
  EXPECT_EQ(value(t, "author_id", 0), "7");  // the first listed author
  EXPECT_EQ(value(t, "author_name", 0), "Ann Author");
  EXPECT_EQ(value(t, "media_type", 0), "book");
  EXPECT_EQ(value(t, "publisher", 0), "unknown");  // "" -> unknown
  EXPECT_EQ(value(t, "average_rating", 0), "4.10");  // numeric fields stay raw text
  EXPECT_EQ(value(t, "publication_year", 0), "2001");
  // Book 300: no authors, no genres record, a work without a record.
  EXPECT_EQ(value(t, "book_id", 1), "300");
  EXPECT_EQ(value(t, "author_id", 1), "unknown");
  EXPECT_EQ(value(t, "author_name", 1), "unknown");
  EXPECT_EQ(value(t, "genres", 1), "unknown");
  EXPECT_EQ(value(t, "media_type", 1), "unknown");
  EXPECT_EQ(value(t, "media_type", 3), "book");  // book 100 again, by user 1
  EXPECT_EQ(value(t, "genres", 2), "poetry");

  // The filters: genre keeps books voted into it; max_rows stops early.
  auto poetry = data::read_goodreads(d.path(), YAML::Load("{genre: poetry}"));
  ASSERT_EQ(poetry.rows, 1u);
  EXPECT_EQ(value(poetry, "title", 0), "Poems");
  EXPECT_NE(poetry.report[0].find("genre 'poetry': 1 books voted into it, 3 book records outside it"), std::string::npos)
      << poetry.report[0];
  auto first2 = data::read_goodreads(d.path(), YAML::Load("{max_rows: 2}"));
  EXPECT_EQ(first2.rows, 2u);
  EXPECT_NE(first2.report[1].find("(max_rows reached)"), std::string::npos);
  EXPECT_NE(error_of([&] { data::read_goodreads(d.path(), YAML::Load("{genres: poetry}")); }).find("genres"), std::string::npos);

  // The dedup JSON layout (original ids, no map) gives the same rows.
  TempDir j;
  write_fixture(j);
  std::filesystem::remove(j.file("goodreads_interactions.csv"));
  std::string dedup;
  const std::vector<std::pair<std::string, std::string>> rows{{"0", "100"}, {"0", "200"}, {"0", "300"}, {"0", "400"},
                                                              {"1", "100"}, {"1", "555"}, {"2", "400"}, {"2", "100"}};
  const int ratings[] = {5, 0, 3, 4, 2, 5, 0, 4};
  for (size_t i = 0; i < rows.size(); ++i)
    dedup += "{\"user_id\": \"" + rows[i].first + "\", \"book_id\": \"" + rows[i].second + "\", \"review_id\": \"r\", \"is_read\": true, \"rating\": " +
             std::to_string(ratings[i]) + ", \"date_added\": \"Thu Aug 17 15:15:28 -0700 2017\"}\n";
  write_gzip(j.file("goodreads_interactions_dedup.json.gz"), dedup);
  auto tj = data::read_goodreads(j.path(), YAML::Node());
  ASSERT_EQ(tj.rows, t.rows);
  for (size_t r = 0; r < t.rows; ++r)
    for (const auto& c : {"user_id", "book_id", "title", "genres", "author_name"}) EXPECT_EQ(value(tj, c, r), value(t, c, r)) << c;
  EXPECT_EQ(tj.report[1], t.report[1]);
}

// The interactions of `users` users over the fixture's five csv book ids, ratings cycling 0-5.
std::string interactions(int64_t rows, int users) {
  std::string s = "user_id,book_id,is_read,rating,is_reviewed\n";
  for (int64_t r = 0; r < rows; ++r)
    s += std::to_string(r * 7 % users) + "," + std::to_string(r % 5) + ",1," + std::to_string(r * 13 % 6) + ",0\n";
  return s;
}

// prepare_dataset streams GoodReads into the cache: the splits hold exactly the
// reader's rows (as a multiset of values and labels), each id is the encoder's
// id of its value, and the ratios hold within sampling error.
TEST(GoodReads, StreamedPrepareHoldsTheReadersRows) {
  TempDir d, cache;
  write_fixture(d);
  d.write("goodreads_interactions.csv", interactions(3000, 40));
  auto t = data::read_goodreads(d.path(), YAML::Node());
  auto spec = data::DatasetSpec::load(std::string(CP_SOURCE_DIR) + "/configs/datasets/goodreads.yaml");
  spec.path = d.path();
  auto ds = data::prepare_dataset(spec, {cache.path(), false});
  EXPECT_EQ(ds.fields.size(), 15u);
  EXPECT_NE(ds.split_used.find("hash"), std::string::npos) << ds.split_used;
  const int64_t n = ds.train.rows + ds.valid.rows + ds.test.rows;
  ASSERT_EQ(n, static_cast<int64_t>(t.rows));
  EXPECT_NEAR(static_cast<double>(ds.train.rows) / n, 0.8, 0.03);
  EXPECT_NEAR(static_cast<double>(ds.valid.rows) / n, 0.1, 0.03);
  std::multiset<std::string> expect, got;
  const auto& rating = t.numbers.at("rating");
  for (size_t r = 0; r < t.rows; ++r)
    expect.insert(value(t, "user_id", r) + "|" + value(t, "book_id", r) + "|" + value(t, "genres", r) + "|" +
                  std::to_string(rating[r] > 3));
  for (const auto* s : {&ds.train, &ds.valid, &ds.test}) {
    auto ids = s->ids.accessor<int32_t, 2>();
    auto labels = s->labels.accessor<float, 1>();
    for (int64_t r = 0; r < s->rows; ++r) {
      got.insert(ds.value(*s, r, 0) + "|" + ds.value(*s, r, 1) + "|" + ds.value(*s, r, 3) + "|" + std::to_string(labels[r] == 1));
      for (int f = 0; f < 15; ++f) {
        int32_t want[8];
        ds.encoder.encode_into(f, ds.value(*s, r, f), want);
        for (int k = 0; k < ds.encoder.width[f]; ++k) ASSERT_EQ(ids[r][ds.encoder.slot_offset(f) + k], want[k]) << f;
      }
    }
  }
  EXPECT_EQ(got, expect);
  EXPECT_TRUE(ds.encoder.edges[spec.field_index("num_pages")].has_value());
  // Genres: book 100 has three, so three slots of single genres.
  const int genres = spec.field_index("genres");
  EXPECT_EQ(ds.encoder.width[genres], 3);
  EXPECT_EQ(ds.train.ids.size(1), 17);
  EXPECT_EQ(ds.encoder.vocab[genres].size(), 5u);  // fiction, fantasy..., history..., poetry, unknown
  // The text view lists a multi-valued field's values joined by ", ".
  bool saw = false;
  for (int64_t r = 0; r < ds.train.rows && !saw; ++r)
    if (ds.value(ds.train, r, 1) == "100") {
      saw = true;
      EXPECT_NE(ds.text_view(ds.train, r).find("Book genres is fantasy, paranormal, fiction, history, historical fiction, biography."),
                std::string::npos)
          << ds.text_view(ds.train, r);
    }
  EXPECT_TRUE(saw);
  EXPECT_EQ(ds.reader_report, t.report);
  // Reloaded from the cache: the same splits; no spill files left behind.
  auto again = data::prepare_dataset(spec, {cache.path(), false});
  EXPECT_TRUE(again.loaded_from_cache);
  EXPECT_TRUE(torch::equal(again.train.ids, ds.train.ids));
  for (const auto& e : std::filesystem::recursive_directory_iterator(cache.path()))
    EXPECT_EQ(e.path().filename().string().find("spill"), std::string::npos) << e.path();
  // A time split cannot stream.
  spec.split.kind = "time";
  EXPECT_NE(error_of([&] { data::prepare_dataset(spec, {cache.path(), true}); }).find("split.kind must be random"),
            std::string::npos);
}

// Memory is bounded by the vocabularies, not by the rows. The process's peak RSS
// also counts the pages of the cache it memory-maps back after writing (file
// pages the kernel can drop), so for 3 M rows the growth over 3,000 rows must stay
// below data.bin's size + 60 MB; holding the rows would cost about 190 bytes each
// on top (15 codes and a rating per row, then 8 bytes per field and row of split
// tensors: ~380 MB for the 2 M rows kept), and no file pages.
TEST(GoodReads, StreamedPrepareMemoryDoesNotGrowWithRows) {
  auto peak_mb = [](int64_t rows, double* bin_mb) {
    TempDir d;
    write_fixture(d);
    d.write("goodreads_interactions.csv", interactions(rows, 500));
    std::string spec = core::read_file(std::string(CP_SOURCE_DIR) + "/configs/datasets/goodreads.yaml");
    spec.replace(spec.find("path: ../shared/data/goodreads"), 30, "path: " + d.path());
    d.write("s.yaml", spec);
    auto r = test_util::run_cli_in("", "data prepare --data " + d.file("s.yaml") + " --cache-dir " + d.file("cache"), 300);
    EXPECT_EQ(r.code, 0) << r.output;
    for (const auto& e : std::filesystem::recursive_directory_iterator(d.file("cache")))
      if (e.path().filename() == "data.bin") *bin_mb = static_cast<double>(std::filesystem::file_size(e.path())) / (1 << 20);
    const auto at = r.output.find("peak memory ");
    return at == std::string::npos ? -1.0 : std::stod(r.output.substr(at + 12));
  };
  double small_bin = 0, bin = 0;
  const double small = peak_mb(3000, &small_bin), large = peak_mb(3000000, &bin);
  ASSERT_GT(small, 0);
  ASSERT_GT(bin, 200);  // 2 M rows kept (a sixth unrated, a fifth of an unknown book)
  std::cout << "peak memory: 3,000 rows " << small << " MB; 3,000,000 rows " << large << " MB; data.bin " << bin << " MB\n";
  EXPECT_LT(large - small, bin + 60) << "3,000 rows: " << small << " MB; 3,000,000 rows: " << large << " MB; data.bin " << bin << " MB";
}

TEST(GoodReads, BadInputsNameFileAndLine) {
  TempDir d;
  write_fixture(d);
  d.write("goodreads_interactions.csv", "user_id,book_id,is_read,rating,is_reviewed\n0,0,1,5,0\n0,1,1,7,0\n");
  EXPECT_NE(error_of([&] { data::read_goodreads(d.path(), YAML::Node()); }).find("goodreads_interactions.csv:3: rating 7"),
            std::string::npos);
  d.write("goodreads_interactions.csv", "user_id,book_id,is_read,rating,is_reviewed\n0,9,1,5,0\n");
  EXPECT_NE(error_of([&] { data::read_goodreads(d.path(), YAML::Node()); }).find(":2: book_id 9 is not in book_id_map.csv"),
            std::string::npos);
  std::filesystem::remove(d.file("goodreads_book_authors.json"));
  EXPECT_NE(error_of([&] { data::read_goodreads(d.path(), YAML::Node()); }).find("goodreads_book_authors.json.gz (or .json) not found"),
            std::string::npos);
  write_fixture(d);
  write_gzip(d.file("goodreads_book_works.json.gz"), "{\"work_id\": \"900\"}\n[1, 2]\n");
  EXPECT_NE(error_of([&] { data::read_goodreads(d.path(), YAML::Node()); }).find("goodreads_book_works.json.gz:2: not a JSON object"),
            std::string::npos);
}

// The real head of the interactions file: every row read, the unrated ones
// dropped, the rest kept (the test writes a metadata record per book id).
TEST(GoodReads, RealInteractionsHead) {
  const std::string head = test_util::shared_dir() + "/data/goodreads/goodreads_interactions_head200k.csv";
  if (!core::file_exists(head)) GTEST_SKIP() << "shared data absent: " << head;
  TempDir d;
  std::filesystem::create_symlink(head, d.file("goodreads_interactions.csv"));
  auto raw = data::read_csv(head, {"user_id", "book_id"}, {"rating"});
  ASSERT_EQ(raw.rows, 200000u);
  const auto& r = raw.numbers.at("rating");
  const auto unrated = std::count(r.begin(), r.end(), 0.0);
  std::string map = "book_id_csv,book_id\n", books;
  for (const auto& id : raw.strings.at("book_id").values) {
    map += id + "," + id + "\n";
    books += book(id, "Book " + id, "[]", "w");
  }
  d.write("book_id_map.csv", map);
  d.write("goodreads_books.json", books);
  d.write("goodreads_book_authors.json", "");
  d.write("goodreads_book_works.json", "");
  d.write("goodreads_book_genres_initial.json", "");
  auto t = data::read_goodreads(d.path(), YAML::Node());
  EXPECT_EQ(static_cast<int64_t>(t.rows), 200000 - unrated);
  EXPECT_GT(unrated, 0);
  EXPECT_EQ(t.report[1], "interactions: 200000 read, " + std::to_string(unrated) + " unrated (rating 0) dropped, 0 of a book "
                         "without metadata dropped, " + std::to_string(200000 - unrated) + " kept");
  // The file's own counts (awk over the CSV): 102,963 unrated; the rated rows span 437 users and 52,187 books.
  EXPECT_EQ(unrated, 102963);
  EXPECT_EQ(t.strings.at("user_id").values.size(), 437u);
  EXPECT_EQ(t.strings.at("book_id").values.size(), 52187u);
}
