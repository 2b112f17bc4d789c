#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"
#include "data/reader.h"

namespace clickprompt::data {

namespace {

const char* kAges[][2] = {{"1", "under 18"}, {"18", "18-24"}, {"25", "25-34"}, {"35", "35-44"},
                          {"45", "45-49"},    {"50", "50-55"}, {"56", "56+"}};
const char* kJobs[] = {"other",
                       "academic/educator",
                       "artist",
                       "clerical/admin",
                       "college/grad student",
                       "customer service",
                       "doctor/health care",
                       "executive/managerial",
                       "farmer",
                       "homemaker",
                       "K-12 student",
                       "lawyer",
                       "programmer",
                       "retired",
                       "sales/marketing",
                       "scientist",
                       "self-employed",
                       "technician/engineer",
                       "tradesman/craftsman",
                       "unemployed",
                       "writer"};

[[noreturn]] void bad_row(const std::string& file, size_t line_no, std::string_view line, const std::string& why) {
  std::string shown(line.substr(0, 200));
  throw Error(file + ":" + std::to_string(line_no) + ": " + why + ": '" + shown + "'");
}

std::vector<std::string_view> fields_of(const std::string& file, size_t line_no, std::string_view line,
                                        size_t min_n, size_t max_n) {
  auto parts = core::split(line, "::");
  if (parts.size() < min_n || parts.size() > max_n)
    bad_row(file, line_no, line,
            "expected " + std::to_string(min_n) + (min_n == max_n ? "" : "-" + std::to_string(max_n)) +
                " '::'-separated fields, found " + std::to_string(parts.size()));
  return parts;
}

long long int_at(const std::string& file, size_t line_no, std::string_view line, std::string_view v,
                 const char* what) {
  try {
    return core::parse_int(v, what);
  } catch (const Error& e) {
    bad_row(file, line_no, line, e.what());
  }
}

struct UserRow {
  uint32_t id, gender, age, job, zip;
  bool present = false;
};
struct MovieRow {
  uint32_t id, title, genre, genres;
  bool present = false;
};

}  // namespace

RawTable read_movielens(const std::string& dir) {
  const std::string users_path = dir + "/users.dat", movies_path = dir + "/movies.dat",
                    ratings_path = dir + "/ratings.dat";
  for (const auto& p : {users_path, movies_path, ratings_path})
    if (!core::file_exists(p)) throw Error("MovieLens file not found: " + p);

  RawTable t;
  t.source_files = {users_path, movies_path, ratings_path};
  auto& user_id = t.strings["user_id"];
  auto& gender = t.strings["gender"];
  auto& age = t.strings["age"];
  auto& job = t.strings["occupation"];
  auto& zip = t.strings["zipcode"];
  auto& movie_id = t.strings["movie_id"];
  auto& title = t.strings["title"];
  auto& genre = t.strings["genre"];
  auto& genres = t.strings["genres"];

  // Keyed by id: a sparse or huge id costs one entry, not a table up to it.
  std::unordered_map<long long, UserRow> users;
  core::for_each_line(users_path, [&](std::string_view line, size_t n) {
    if (line.empty()) return;
    if (!core::valid_utf8(line)) bad_row(users_path, n, line, "not valid UTF-8");
    auto f = fields_of(users_path, n, line, 5, 5);
    long long uid = int_at(users_path, n, line, f[0], "UserID");
    if (uid < 0) bad_row(users_path, n, line, "UserID must be >= 0");
    UserRow& u = users[uid];
    if (u.present) bad_row(users_path, n, line, "duplicate UserID");
    u.present = true;
    u.id = user_id.intern(std::string(f[0]));
    if (f[1] != "M" && f[1] != "F") bad_row(users_path, n, line, "Gender must be M or F");
    u.gender = gender.intern(f[1] == "M" ? "male" : "female");
    const char* age_name = nullptr;
    for (auto& a : kAges)
      if (f[2] == a[0]) age_name = a[1];
    if (!age_name) bad_row(users_path, n, line, "unknown Age code (expected 1, 18, 25, 35, 45, 50 or 56)");
    u.age = age.intern(age_name);
    long long occ = int_at(users_path, n, line, f[3], "Occupation");
    if (occ < 0 || occ > 20) bad_row(users_path, n, line, "Occupation must be 0-20");
    u.job = job.intern(kJobs[occ]);
    u.zip = zip.intern(std::string(core::trim(f[4])));
  });

  std::unordered_map<long long, MovieRow> movies;
  // ML-1M's movies.dat is Latin-1; a re-encoded UTF-8 copy is read as UTF-8.
  const bool titles_utf8 = core::valid_utf8(core::read_file(movies_path));
  core::for_each_line(movies_path, [&](std::string_view line, size_t n) {
    if (line.empty()) return;
    auto f = fields_of(movies_path, n, line, 3, 3);
    long long mid = int_at(movies_path, n, line, f[0], "MovieID");
    if (mid < 0) bad_row(movies_path, n, line, "MovieID must be >= 0");
    MovieRow& m = movies[mid];
    if (m.present) bad_row(movies_path, n, line, "duplicate MovieID");
    m.present = true;
    m.id = movie_id.intern(std::string(f[0]));
    m.title = title.intern(titles_utf8 ? std::string(f[1]) : core::latin1_to_utf8(f[1]));
    const std::string genre_text = titles_utf8 ? std::string(f[2]) : core::latin1_to_utf8(f[2]);
    auto gs = core::split(genre_text, "|");
    m.genre = genre.intern(std::string(gs[0]));
    std::string all;
    for (size_t i = 0; i < gs.size(); ++i) all += (i ? ", " : "") + std::string(gs[i]);
    m.genres = genres.intern(all);
  });

  auto& rating = t.numbers["rating"];
  std::vector<double> timestamps;
  int n_fields = 0;
  const size_t kStringCols = 9;
  for (auto* c : {&user_id, &gender, &age, &job, &zip, &movie_id, &title, &genre, &genres}) c->codes.reserve(1 << 20);
  (void)kStringCols;
  core::for_each_line(ratings_path, [&](std::string_view line, size_t n) {
    if (line.empty()) return;
    auto f = fields_of(ratings_path, n, line, 3, 4);
    if (n_fields == 0) n_fields = static_cast<int>(f.size());
    if (static_cast<int>(f.size()) != n_fields)
      bad_row(ratings_path, n, line, "rows mix 3- and 4-field forms (expected " + std::to_string(n_fields) + ")");
    long long uid = int_at(ratings_path, n, line, f[0], "UserID");
    long long mid = int_at(ratings_path, n, line, f[1], "MovieID");
    auto ui = users.find(uid);
    if (ui == users.end()) bad_row(ratings_path, n, line, "UserID not in users.dat");
    auto mi = movies.find(mid);
    if (mi == movies.end()) bad_row(ratings_path, n, line, "MovieID not in movies.dat");
    const UserRow& u = ui->second;
    const MovieRow& m = mi->second;
    user_id.codes.push_back(u.id);
    gender.codes.push_back(u.gender);
    age.codes.push_back(u.age);
    job.codes.push_back(u.job);
    zip.codes.push_back(u.zip);
    movie_id.codes.push_back(m.id);
    title.codes.push_back(m.title);
    genre.codes.push_back(m.genre);
    genres.codes.push_back(m.genres);
    rating.push_back(static_cast<double>(int_at(ratings_path, n, line, f[2], "Rating")));
    if (n_fields == 4) timestamps.push_back(static_cast<double>(int_at(ratings_path, n, line, f[3], "Timestamp")));
  });
  t.rows = rating.size();
  if (t.rows == 0) throw Error(ratings_path + ": no ratings");
  if (n_fields == 4) t.numbers["timestamp"] = std::move(timestamps);
  return t;
}

}  // namespace clickprompt::data
