// BookCrossing (Ziegler et al., WWW 2005) from the dump's three files, with the
// rules of the ClickPrompt paper's preprocessing (the issue names them; the
// authors' script is not public): Location -> country, Age -> 11 buckets,
// books with a non-alphanumeric ISBN dropped, label = rating >= 5 on 0-10 (the
// spec's threshold), so the implicit 0 ratings are negatives.
#include <cctype>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"
#include "data/reader.h"

namespace clickprompt::data {

namespace {

const std::string kUnknown = "unknown";

bool is_delim_or_end(std::string_view text, size_t i) {
  return i >= text.size() || text[i] == ';' || text[i] == '\n' || text[i] == '\r';
}

// The dump's dialect: ';'-separated; a value in double quotes may hold ';', line
// breaks and `\"` (an escaped quote); a quote closes the value only before ';' or
// the line end (the dump has stray unescaped quotes inside values); bare values
// (NULL) run to the next ';'. CRLF or LF line ends.
void for_each_bx_record(const std::string& path,
                        const std::function<void(const std::vector<std::string_view>&, size_t)>& fn) {
  const std::string text = core::read_file(path);
  std::vector<std::string_view> fields;
  std::vector<std::string> unescaped;  // storage for values that held `\"`
  size_t i = 0, line = 1;
  while (i < text.size()) {
    fields.clear();
    unescaped.clear();
    unescaped.reserve(16);
    const size_t record_line = line;
    while (true) {
      if (i < text.size() && text[i] == '"') {
        const size_t start = ++i;
        bool escaped = false;
        while (true) {
          if (i >= text.size()) throw Error(path + ":" + std::to_string(record_line) + ": unterminated quoted value");
          if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '"') {
            escaped = true;
            i += 2;
          } else if (text[i] == '"' && is_delim_or_end(text, i + 1)) {
            break;
          } else {
            line += text[i] == '\n';
            ++i;
          }
        }
        std::string_view v(text.data() + start, i - start);
        if (escaped) {
          std::string s;
          for (size_t k = 0; k < v.size(); ++k) {
            if (v[k] == '\\' && k + 1 < v.size() && v[k + 1] == '"') ++k;
            s.push_back(v[k]);
          }
          unescaped.push_back(std::move(s));
          v = unescaped.back();
        }
        fields.push_back(v);
        ++i;  // the closing quote
      } else {
        const size_t start = i;
        while (!is_delim_or_end(text, i)) ++i;
        fields.emplace_back(text.data() + start, i - start);
      }
      if (i < text.size() && text[i] == ';') {
        ++i;
        continue;
      }
      break;  // line end or end of file
    }
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') {
      ++i;
      ++line;
    }
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    fn(fields, record_line);
  }
}

void check_header(const std::string& path, const std::vector<std::string_view>& f,
                  const std::vector<std::string_view>& want) {
  bool ok = f.size() >= want.size();
  for (size_t k = 0; ok && k < want.size(); ++k) ok = f[k] == want[k];
  if (!ok) {
    std::string w;
    for (auto s : want) w += (w.empty() ? "" : ";") + std::string(s);
    throw Error(path + ":1: not a BookCrossing file: expected the header " + w);
  }
}

// Cleaned spellings -> country. The left side is what remains after lower-casing
// and trimming punctuation; the list holds every variant with 3+ users in the
// full BX-Users.csv, plus the regions (US states, Canadian provinces, ...) that
// users wrote in the country's place.
const std::unordered_map<std::string, std::string>& country_aliases() {
  static const std::unordered_map<std::string, std::string> m = [] {
    std::unordered_map<std::string, std::string> a;
    auto add = [&](const std::string& country, std::initializer_list<const char*> names) {
      for (const char* n : names) a[n] = country;
    };
    add("usa", {"us", "u.s", "u.s.a", "united states", "united states of america", "america", "u.s. of a",
                "united stated", "united state", "the united states", "ee.uu", "good old usa", "usa now", "nyc",
                "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware",
                "florida", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky",
                "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota", "mississippi",
                "missouri", "montana", "nebraska", "nevada", "new hampshire", "new jersey", "new mexico",
                "new york", "north carolina", "north dakota", "ohio", "oklahoma", "oregon", "pennsylvania",
                "rhode island", "south carolina", "south dakota", "tennessee", "texas", "utah", "vermont",
                "virginia", "washington", "west virginia", "wisconsin", "wyoming", "dc", "district of columbia",
                "washington dc"});
    add("united kingdom", {"uk", "u.k", "great britain", "britain", "england", "scotland", "wales",
                           "northern ireland", "united kindgonm", "england uk", "london", "greater london"});
    add("canada", {"le canada", "ontario", "british columbia", "alberta", "quebec", "québec", "nova scotia",
                   "manitoba", "saskatchewan", "new brunswick", "newfoundland"});
    add("australia", {"new south wales", "queensland", "western australia", "south australia", "tasmania",
                      "australian capital territory", "nsw"});
    add("new zealand", {"nz"});
    add("spain", {"españa", "espana", "catalunya", "cataluña", "catalonia", "galicia", "pais vasco",
                  "euskal herria", "andalucia", "madrid", "barcelona", "catalunya spain"});
    add("germany", {"deutschland", "germay", "bavaria", "bayern", "deutsches reich"});
    add("italy", {"italia", "l`italia", "l'italia", "itlay", "lombardia", "sicilia", "toscana", "piemonte",
                  "veneto", "lazio", "emilia romagna"});
    add("france", {"la france", "ile de france"});
    add("netherlands", {"holland", "the netherlands", "nederland", "nederlands", "noord holland",
                        "noord-holland", "zuid holland", "noord brabant", "noord-brabant"});
    add("belgium", {"belgique", "la belgique", "belgie", "belgië"});
    add("switzerland", {"la suisse", "suisse", "schweiz", "svizzera"});
    add("austria", {"österreich", "oesterreich"});
    add("mexico", {"méxico"});
    add("brazil", {"brasil"});
    add("philippines", {"the philippines", "philippine", "phils", "phillipines"});
    add("china", {"p.r.china", "p.r. china", "prc", "people's republic of china", "cnina"});
    add("south korea", {"korea", "republic of korea"});
    add("russia", {"russian federation"});
    add("israel", {"isreal"});
    add("sri lanka", {"srilanka"});
    add("poland", {"polska"});
    add("turkey", {"turkei", "türkiye"});
    add("morocco", {"maroc"});
    add("algeria", {"algérie"});
    add("south africa", {"rsa"});
    add("united arab emirates", {"uae", "u.a.e"});
    add("serbia and montenegro", {"serbia & montenegro"});
    add("trinidad and tobago", {"trinidad & tobago"});
    for (const char* junk : {"n/a", "na", "none", "null", "unknown", "universe", "world", "space", "here and there",
                             "everywhere", "somewhere", "nowhere", "earth", "quit", "the", "-"})
      a[junk] = kUnknown;
    return a;
  }();
  return m;
}

}  // namespace

std::string bookcrossing_country(std::string_view location) {
  const size_t cut = location.rfind(", ");
  std::string_view c = cut == std::string_view::npos ? location : location.substr(cut + 2);
  const std::string_view trim_chars = " \t\r\n\"'.,;:!?*-_()[]";
  while (!c.empty() && trim_chars.find(c.front()) != std::string_view::npos) c.remove_prefix(1);
  while (!c.empty() && trim_chars.find(c.back()) != std::string_view::npos) c.remove_suffix(1);
  std::string s = core::collapse_spaces(core::to_lower(c));
  if (s == "usa") return s;
  auto it = country_aliases().find(s);
  if (it != country_aliases().end()) return it->second;
  int letters = 0;
  for (unsigned char ch : s) letters += std::isalpha(ch) || ch >= 0x80;
  // Junk: a single character, no letter at all, or digits (zip codes, years).
  if (s.size() < 2 || letters == 0 || s.find_first_of("0123456789") != std::string::npos) return kUnknown;
  return s;
}

std::string bookcrossing_age(std::string_view age) {
  long long a = 0;
  try {
    a = core::parse_int(core::trim(age), "Age");
  } catch (const Error&) {
    return kUnknown;  // NULL, empty or not a number
  }
  if (a < 5 || a > 100) return kUnknown;
  if (a < 18) return "under 18";
  if (a < 25) return "18-24";
  if (a >= 60) return "60+";
  const long long lo = a / 5 * 5;
  return std::to_string(lo) + "-" + std::to_string(lo + 4);
}

RawTable read_bookcrossing_users(const std::string& path) {
  RawTable t;
  t.source_files = {path};
  auto& user_id = t.strings["user_id"];
  auto& location = t.strings["location"];
  auto& age = t.strings["age"];
  std::unordered_map<std::string, size_t> seen;
  for_each_bx_record(path, [&](const std::vector<std::string_view>& f, size_t n) {
    if (n == 1) return check_header(path, f, {"User-ID", "Location", "Age"});
    if (f.size() != 3)
      throw Error(path + ":" + std::to_string(n) + ": expected 3 ';'-separated values, found " +
                  std::to_string(f.size()));
    std::string id(core::trim(f[0]));
    if (id.empty()) throw Error(path + ":" + std::to_string(n) + ": empty User-ID");
    if (!seen.emplace(id, n).second) throw Error(path + ":" + std::to_string(n) + ": duplicate User-ID " + id);
    user_id.push(id);
    location.push(bookcrossing_country(core::cp1252_to_utf8(f[1])));
    age.push(bookcrossing_age(f[2]));
    ++t.rows;
  });
  if (t.rows == 0) throw Error(path + ": no users");
  return t;
}

RawTable read_bookcrossing(const std::string& dir) {
  const std::string users_path = dir + "/BX-Users.csv", books_path = dir + "/BX-Books.csv",
                    ratings_path = dir + "/BX-Book-Ratings.csv";
  for (const auto& p : {users_path, books_path, ratings_path})
    if (!core::file_exists(p)) throw Error("BookCrossing file not found: " + p);

  // Users: one row each, joined to the ratings by id.
  RawTable users = read_bookcrossing_users(users_path);
  std::unordered_map<std::string, uint32_t> user_row;
  {
    const auto& ids = users.strings.at("user_id");
    for (size_t r = 0; r < users.rows; ++r) user_row.emplace(ids.value(r), static_cast<uint32_t>(r));
  }

  RawTable t;
  t.source_files = {users_path, books_path, ratings_path};
  // Books: dictionary codes of title, author, year, publisher per kept ISBN.
  auto& isbn_col = t.strings["isbn"];
  auto& title = t.strings["title"];
  auto& author = t.strings["author"];
  auto& year = t.strings["year"];
  auto& publisher = t.strings["publisher"];
  struct Book {
    uint32_t isbn, title, author, year, publisher;
  };
  std::unordered_map<std::string, Book> books;
  size_t n_books = 0, bad_isbn = 0, malformed = 0, duplicate = 0;
  size_t first_malformed = 0;
  auto clean = [](std::string_view raw) { return core::collapse_spaces(core::html_unescape(core::cp1252_to_utf8(raw))); };
  auto or_unknown = [](std::string v) {
    return v.empty() || core::to_lower(v) == "n/a" ? kUnknown : v;
  };
  for_each_bx_record(books_path, [&](const std::vector<std::string_view>& f, size_t n) {
    if (n == 1) return check_header(books_path, f, {"ISBN", "Book-Title", "Book-Author",
                                                             "Year-Of-Publication", "Publisher"});
    ++n_books;
    if (f.size() != 8) {  // a value with an unescaped ';"' inside: the columns shifted
      if (malformed++ == 0) first_malformed = n;
      return;
    }
    std::string_view isbn = core::trim(f[0]);
    bool alnum = !isbn.empty();
    for (unsigned char c : isbn) alnum = alnum && c < 0x80 && std::isalnum(c);
    if (!alnum) {
      ++bad_isbn;
      return;
    }
    std::string key(isbn);
    if (books.count(key)) {
      ++duplicate;
      return;
    }
    std::string y(core::trim(f[3]));
    Book b{isbn_col.intern(key), title.intern(or_unknown(clean(f[1]))), author.intern(or_unknown(clean(f[2]))),
           year.intern(y.size() == 4 ? y : kUnknown), publisher.intern(or_unknown(clean(f[4])))};
    books.emplace(std::move(key), b);
  });

  // Ratings: kept when the user and the book are known.
  auto& user_id = t.strings["user_id"];
  auto& location = t.strings["location"];
  auto& age = t.strings["age"];
  const auto& u_id = users.strings.at("user_id");
  const auto& u_loc = users.strings.at("location");
  const auto& u_age = users.strings.at("age");
  auto& rating = t.numbers["rating"];
  size_t n_ratings = 0, unknown_user = 0, unknown_book = 0;
  for_each_bx_record(ratings_path, [&](const std::vector<std::string_view>& f, size_t n) {
    if (n == 1) return check_header(ratings_path, f, {"User-ID", "ISBN", "Book-Rating"});
    if (f.size() != 3)
      throw Error(ratings_path + ":" + std::to_string(n) + ": expected 3 ';'-separated values, found " +
                  std::to_string(f.size()));
    ++n_ratings;
    long long r = 0;
    try {
      r = core::parse_int(core::trim(f[2]), "Book-Rating");
    } catch (const Error& e) {
      throw Error(ratings_path + ":" + std::to_string(n) + ": " + e.what());
    }
    if (r < 0 || r > 10) throw Error(ratings_path + ":" + std::to_string(n) + ": Book-Rating must be 0-10");
    auto u = user_row.find(std::string(core::trim(f[0])));
    if (u == user_row.end()) {
      ++unknown_user;
      return;
    }
    auto b = books.find(std::string(core::trim(f[1])));
    if (b == books.end()) {
      ++unknown_book;
      return;
    }
    const uint32_t ur = u->second;
    user_id.push(u_id.value(ur));
    location.push(u_loc.value(ur));
    age.push(u_age.value(ur));
    isbn_col.codes.push_back(b->second.isbn);
    title.codes.push_back(b->second.title);
    author.codes.push_back(b->second.author);
    year.codes.push_back(b->second.year);
    publisher.codes.push_back(b->second.publisher);
    rating.push_back(static_cast<double>(r));
  });
  t.rows = rating.size();
  if (t.rows == 0) throw Error(ratings_path + ": no rating has a known user and book");
  auto num = [](size_t v) { return std::to_string(v); };
  t.report = {
      "users: " + num(users.rows) + " read",
      "books: " + num(n_books) + " read, " + num(books.size()) + " kept; dropped " + num(bad_isbn) +
          " with an ISBN that is not ASCII letters and digits, " + num(malformed) + " malformed" +
          (malformed ? " (first at " + books_path + ":" + std::to_string(first_malformed) + ")" : "") + ", " +
          num(duplicate) + " duplicate ISBNs",
      "ratings: " + num(n_ratings) + " read, " + num(t.rows) + " kept; dropped " + num(unknown_user) +
          " with an unknown user, " + num(unknown_book) + " with an unknown or dropped book"};
  return t;
}

}  // namespace clickprompt::data
