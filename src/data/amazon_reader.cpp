// Amazon reviews (McAuley et al.) as in the ClickPrompt paper's Amazon-Toys: a
// 5-core review file joined with the category's meta file. Reads the 2018 release
// (`<Category>_5.json.gz` + `meta_<Category>.json.gz`, JSON lines, `category` a
// list) and the 2014 one (`reviews_<Category>_5.json.gz` + `meta_<Category>.json.gz`,
// Python-literal meta lines, `categories` a list of lists; the first is used).
// Rules (the issue's, from the authors' sibling projects): Category = "<main>, " +
// the first entry that is not the main category (else "<main>"); title and brand
// HTML-unescaped, typography to ASCII, spaces collapsed, cut to 150 characters at
// a word boundary; items whose title then holds non-ASCII characters, no letter or
// fewer than 3 characters are dropped; rows sorted by (time, user, item) and exact
// duplicates dropped. The label rule (rating > 3) is the spec's.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include <utf8proc.h>

#include "core/error.h"
#include "core/io.h"
#include "core/strings.h"
#include "data/pyliteral.h"
#include "data/reader.h"

namespace clickprompt::data {

namespace {

const std::string kUnknown = "unknown";

// Typographic code points -> ASCII ("" where the mark carries no text).
const char* ascii_for(uint32_t cp) {
  switch (cp) {
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032: case 0x00B4: return "'";
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x2033: case 0x00AB: case 0x00BB: return "\"";
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015: case 0x2212: return "-";
    case 0x2026: return "...";
    case 0x00A0: case 0x2002: case 0x2003: case 0x2009: case 0x200A: case 0x202F: case 0x3000: return " ";
    case 0x200B: case 0x200C: case 0x200D: case 0xFEFF: return "";
    case 0x00AE: case 0x2122: case 0x00A9: case 0x2120: return "";  // (R), TM, (C), SM marks
    case 0x00D7: return "x";
    case 0x2022: case 0x00B7: return "-";
    default: return nullptr;
  }
}

std::string ascii_typography(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    utf8proc_int32_t cp = 0;
    const auto got = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                      static_cast<utf8proc_ssize_t>(s.size() - i), &cp);
    const size_t n = got > 0 ? static_cast<size_t>(got) : 1;  // a bad byte is kept as it is
    const char* a = got > 0 && cp >= 0x80 ? ascii_for(static_cast<uint32_t>(cp)) : nullptr;
    if (a) out += a;
    else out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

// "Toys_and_Games" -> "Toys & Games".
std::string main_category(std::string stem) {
  for (size_t p; (p = stem.find("_and_")) != std::string::npos;) stem.replace(p, 5, " & ");
  std::replace(stem.begin(), stem.end(), '_', ' ');
  return stem;
}

std::string string_or_empty(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct Files {
  std::string reviews, meta, category;
};

// The meta file and main category from the review file's name.
Files locate(const std::string& reviews_path) {
  namespace fs = std::filesystem;
  if (!core::file_exists(reviews_path)) throw Error("Amazon review file not found: " + reviews_path);
  const fs::path p(reviews_path);
  std::string name = p.filename().string();
  for (const char* ext : {".gz", ".json"})
    if (core::ends_with(name, ext)) name.resize(name.size() - std::string_view(ext).size());
  if (core::starts_with(name, "reviews_")) name = name.substr(8);
  if (!core::ends_with(name, "_5") || name.size() <= 2)
    throw Error("Amazon: " + reviews_path + " is not named like a 5-core review file (<Category>_5.json.gz, "
                "or reviews_<Category>_5.json.gz for the 2014 release)");
  name.resize(name.size() - 2);
  Files f{reviews_path, "", main_category(name)};
  for (const char* ext : {".json.gz", ".json"}) {
    const std::string m = (p.parent_path() / ("meta_" + name + ext)).string();
    if (core::file_exists(m)) {
      f.meta = m;
      break;
    }
  }
  if (f.meta.empty())
    throw Error("Amazon: the meta file for " + reviews_path + " is missing: put meta_" + name +
                ".json.gz (the item titles, brands and categories) beside it");
  return f;
}

}  // namespace

std::string amazon_clean_text(std::string_view raw) {
  std::string s = core::collapse_spaces(ascii_typography(core::html_unescape(raw)));
  if (s.size() > 150) {
    size_t cut = s.rfind(' ', 150);
    s.resize(cut == std::string::npos || cut == 0 ? 150 : cut);
    // A hard cut must not split a UTF-8 sequence.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
  }
  return s;
}

std::string amazon_category(const std::vector<std::string>& entries, const std::string& main) {
  for (const auto& e : entries) {
    std::string c = core::collapse_spaces(core::html_unescape(e));
    if (!c.empty() && c != main) return main + ", " + c;
  }
  return main;
}

std::vector<std::string> amazon_files(const std::string& reviews_path) {
  const Files f = locate(reviews_path);
  return {f.reviews, f.meta};
}

RawTable read_amazon(const std::string& reviews_path) {
  const Files files = locate(reviews_path);

  // Reviews first: only the items they name are looked up in the (much larger) meta file.
  struct Review {
    uint32_t user, item;
    double rating, time;
  };
  StringColumn users, items;
  std::vector<Review> reviews;
  {
    core::LineReader in(files.reviews);
    std::string_view line;
    while (in.next(line)) {
      if (core::trim(line).empty()) continue;
      const std::string where = files.reviews + ":" + std::to_string(in.line_number());
      const nlohmann::json j = parse_json_or_python(line, where);
      auto num = [&](const char* key) {
        auto it = j.is_object() ? j.find(key) : j.end();
        if (it == j.end() || !it->is_number()) throw Error(where + ": review has no number '" + key + "'");
        return it->get<double>();
      };
      const std::string user = j.is_object() ? string_or_empty(j, "reviewerID") : "";
      const std::string item = j.is_object() ? string_or_empty(j, "asin") : "";
      if (user.empty() || item.empty()) throw Error(where + ": review has no 'reviewerID' or 'asin'");
      const double rating = num("overall"), time = num("unixReviewTime");
      if (!(rating >= 0 && rating <= 5)) throw Error(where + ": 'overall' must be 0-5, got " + core::format_number(rating));
      reviews.push_back({users.intern(user), items.intern(item), rating, time});
    }
  }
  if (reviews.empty()) throw Error(files.reviews + ": no reviews");

  // Meta: the title, brand and category of each reviewed item.
  struct Item {
    uint32_t category, title, brand;
  };
  RawTable t;
  t.source_files = {files.reviews, files.meta};
  auto& category = t.strings["category"];
  auto& title = t.strings["title"];
  auto& brand = t.strings["brand"];
  std::unordered_map<uint32_t, Item> kept;  // by item code
  std::unordered_set<uint32_t> seen;
  size_t meta_lines = 0, duplicate = 0, no_title = 0, non_ascii = 0, no_letter = 0, too_short = 0;
  {
    std::unordered_map<std::string, uint32_t> wanted;
    for (size_t k = 0; k < items.values.size(); ++k) wanted.emplace(items.values[k], static_cast<uint32_t>(k));
    core::LineReader in(files.meta);
    std::string_view line;
    while (in.next(line)) {
      if (core::trim(line).empty()) continue;
      ++meta_lines;
      const std::string where = files.meta + ":" + std::to_string(in.line_number());
      const nlohmann::json j = parse_json_or_python(line, where);
      if (!j.is_object()) throw Error(where + ": a meta line must be an object");
      auto w = wanted.find(string_or_empty(j, "asin"));
      if (w == wanted.end()) continue;
      if (!seen.insert(w->second).second) {
        ++duplicate;
        continue;
      }
      const std::string ttl = amazon_clean_text(string_or_empty(j, "title"));
      if (ttl.empty()) {
        ++no_title;
        continue;
      }
      if (std::any_of(ttl.begin(), ttl.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
        ++non_ascii;
        continue;
      }
      if (std::none_of(ttl.begin(), ttl.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); })) {
        ++no_letter;
        continue;
      }
      if (ttl.size() < 3) {
        ++too_short;
        continue;
      }
      std::vector<std::string> entries;
      auto collect = [&](const nlohmann::json& list) {
        if (!list.is_array()) return;
        for (const auto& e : list)
          if (e.is_string()) entries.push_back(e.get<std::string>());
      };
      if (auto c = j.find("category"); c != j.end()) collect(*c);                       // 2018
      else if (auto cs = j.find("categories"); cs != j.end() && cs->is_array() && !cs->empty())
        collect((*cs)[0]);                                                                 // 2014
      std::string b = amazon_clean_text(string_or_empty(j, "brand"));
      kept.emplace(w->second, Item{category.intern(amazon_category(entries, files.category)), title.intern(ttl),
                                   brand.intern(b.empty() ? kUnknown : b)});
    }
  }

  // Rows of kept items, in (time, user, item) order, exact duplicates dropped.
  std::vector<uint32_t> order;
  size_t no_meta = 0, dropped_item = 0;
  for (uint32_t r = 0; r < reviews.size(); ++r) {
    if (kept.count(reviews[r].item)) order.push_back(r);
    else if (seen.count(reviews[r].item)) ++dropped_item;
    else ++no_meta;
  }
  auto key = [&](uint32_t r) {
    const Review& v = reviews[r];
    return std::tie(v.time, users.values[v.user], items.values[v.item], v.rating);
  };
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
  const size_t before = order.size();
  order.erase(std::unique(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return key(a) == key(b); }),
              order.end());
  const size_t duplicates = before - order.size();
  if (order.empty()) throw Error(files.reviews + ": no review is of an item with a usable title in " + files.meta);

  auto& user_id = t.strings["user_id"];
  auto& item_id = t.strings["item_id"];
  auto& rating = t.numbers["rating"];
  auto& timestamp = t.numbers["timestamp"];
  for (uint32_t r : order) {
    const Review& v = reviews[r];
    const Item& it = kept.at(v.item);
    user_id.push(users.values[v.user]);
    item_id.push(items.values[v.item]);
    category.codes.push_back(it.category);
    title.codes.push_back(it.title);
    brand.codes.push_back(it.brand);
    rating.push_back(v.rating);
    timestamp.push_back(v.time);
  }
  t.rows = order.size();
  auto num = [](size_t v) { return std::to_string(v); };
  t.report = {
      "reviews: " + num(reviews.size()) + " read (" + num(users.values.size()) + " users, " +
          num(items.values.size()) + " items), " + num(t.rows) + " kept; dropped " + num(no_meta) +
          " of an item not in the meta file, " + num(dropped_item) + " of a dropped item, " + num(duplicates) +
          " exact duplicates",
      "items: " + num(meta_lines) + " meta lines read, " + num(seen.size()) + " reviewed items found, " +
          num(kept.size()) + " kept; dropped " + num(no_title) + " without a title, " + num(non_ascii) +
          " with a non-ASCII title, " + num(no_letter) + " whose title has no letter, " + num(too_short) +
          " with a title under 3 characters; " + num(duplicate) + " duplicate meta lines ignored",
      "category: '" + files.category + "' (from the file name)"};
  return t;
}

}  // namespace clickprompt::data
