#include "data/synthetic.h"

#include <cstring>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/strings.h"
#include "core/io.h"

namespace clickprompt::data {

namespace {

// Pronounceable pseudo-words, distinct by construction: the index written in
// base 128, one consonant+vowel syllable per digit (at least two syllables);
// `salt` scrambles which syllables a range of indices gets.
std::string make_word(int index, int salt) {
  static const char* onset[] = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "sh"};
  static const char* vowel[] = {"a", "e", "i", "o", "u", "ai", "ou", "ee"};
  std::string w;
  int v = index;
  for (int s = 0; s < 2 || v > 0; ++s) {
    int d = (v % 128 + 37 * salt + 11 * s) % 128;
    w += onset[d % 16];
    w += vowel[d / 16];
    v /= 128;
  }
  return w;
}

// Zipf(s) sampler over [0, n) by inverse CDF on a precomputed table.
class Zipf {
 public:
  Zipf(int n, double s) : cdf_(n) {
    double acc = 0;
    for (int i = 0; i < n; ++i) cdf_[i] = (acc += 1.0 / std::pow(i + 1.0, s));
    for (auto& c : cdf_) c /= acc;
  }
  int operator()(std::mt19937_64& rng) const {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<int>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

}  // namespace

void write_synthetic(const SyntheticOptions& o, const std::string& csv_path) {
  auto positive = [](const char* name, double v) { core::check_positive("synthetic", name, v); };
  positive("--samples", static_cast<double>(o.samples));
  positive("--users", static_cast<double>(o.users));
  positive("--items", static_cast<double>(o.items));
  positive("--topics", static_cast<double>(o.topics));
  positive("brands", o.brands);
  positive("categories", o.categories);
  positive("words_per_topic", o.words_per_topic);
  positive("generic_words", o.generic_words);
  positive("--item-zipf", o.item_zipf);
  positive("user_zipf", o.user_zipf);
  if (!std::isfinite(o.topic_weight)) throw Error("synthetic: topic_weight must be finite");
  if (o.categories > o.topics) throw Error("synthetic: categories must be <= --topics");
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto uniform_int = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  auto bernoulli = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };

  static const char* kCategoryNames[] = {"electronics", "books", "fashion", "home", "sports", "toys", "beauty",
                                         "garden", "music", "food", "games", "auto"};
  static const char* kAges[] = {"under 18", "18-24", "25-34", "35-44", "45-54", "55+"};
  static const char* kRegions[] = {"north", "south", "east", "west", "center", "coast", "mountains", "islands"};
  const int n_ages = 6, n_regions = 8;

  // Words: each topic owns words_per_topic words; generic words carry no signal.
  std::vector<std::vector<std::string>> topic_words(o.topics);
  int word_index = 0;
  for (int t = 0; t < o.topics; ++t)
    for (int k = 0; k < o.words_per_topic; ++k) topic_words[t].push_back(make_word(word_index++, 1));
  std::vector<std::string> generic;
  for (int k = 0; k < o.generic_words; ++k) generic.push_back(make_word(word_index++, 1));

  // Brands belong to a topic and carry a small quality effect.
  std::vector<int> brand_topic(o.brands);
  std::vector<double> brand_effect(o.brands);
  std::vector<std::string> brand_name(o.brands);
  std::vector<std::vector<int>> brands_of_topic(o.topics);
  for (int b = 0; b < o.brands; ++b) {
    brand_topic[b] = b % o.topics;
    brand_effect[b] = 0.3 * normal(rng);
    brand_name[b] = make_word(b, 3) + " co";
    brands_of_topic[brand_topic[b]].push_back(b);
  }

  // Items: topic, quality (an ID-only effect), brand, category (coarse topic), title.
  struct Item {
    int topic, brand, category;
    double quality;
    std::string title;
  };
  std::vector<Item> items(o.items);
  const int topics_per_category = (o.topics + o.categories - 1) / o.categories;
  for (int i = 0; i < o.items; ++i) {
    Item& it = items[i];
    it.topic = uniform_int(o.topics);
    it.quality = 0.4 * normal(rng);
    it.brand = bernoulli(0.7) && !brands_of_topic[it.topic].empty()
                   ? brands_of_topic[it.topic][uniform_int(static_cast<int>(brands_of_topic[it.topic].size()))]
                   : uniform_int(o.brands);
    it.category = std::min(it.topic / topics_per_category, o.categories - 1);
    int n_words = 3 + uniform_int(3);
    for (int w = 0; w < n_words; ++w) {
      if (w) it.title += ' ';
      it.title += bernoulli(o.topic_word_prob) ? topic_words[it.topic][uniform_int(o.words_per_topic)]
                                               : generic[uniform_int(o.generic_words)];
    }
    it.title += " " + std::to_string(i);  // titles are unique, like item ids
  }
  // Shuffle popularity ranks so item id order says nothing.
  std::vector<int> rank_to_item(o.items);
  for (int i = 0; i < o.items; ++i) rank_to_item[i] = i;
  std::shuffle(rank_to_item.begin(), rank_to_item.end(), rng);

  // Users: age group and region shift the topic preferences a little.
  std::vector<std::vector<double>> age_pref(n_ages, std::vector<double>(o.topics));
  for (auto& v : age_pref)
    for (auto& x : v) x = 0.5 * normal(rng);
  struct User {
    int age, region;
    double bias;
    std::vector<double> pref;
  };
  std::vector<User> users(o.users);
  for (auto& u : users) {
    u.age = uniform_int(n_ages);
    u.region = uniform_int(n_regions);
    u.bias = 0.3 * normal(rng);
    u.pref.resize(o.topics);
    for (int t = 0; t < o.topics; ++t) u.pref[t] = age_pref[u.age][t] + normal(rng);
  }
  std::vector<int> user_rank(o.users);
  for (int i = 0; i < o.users; ++i) user_rank[i] = i;
  std::shuffle(user_rank.begin(), user_rank.end(), rng);

  Zipf item_pick(o.items, o.item_zipf), user_pick(o.users, o.user_zipf);
  core::atomic_write(csv_path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw WriteError("cannot write " + csv_path + ": " + std::strerror(errno));
    out << "user_id,age,region,item_id,title,category,brand,timestamp,click,prob\n";
    char prob_buf[32];
    for (int64_t s = 0; s < o.samples; ++s) {
      int u = user_rank[user_pick(rng)];
      int i = rank_to_item[item_pick(rng)];
      const User& us = users[u];
      const Item& it = items[i];
      double logit = -0.3 + us.bias + it.quality + brand_effect[it.brand] + o.topic_weight * 0.5 * us.pref[it.topic];
      double p = 1.0 / (1.0 + std::exp(-logit));
      int click = bernoulli(p) ? 1 : 0;
      std::snprintf(prob_buf, sizeof(prob_buf), "%.6f", p);
      out << "u" << u << ',' << kAges[us.age] << ',' << kRegions[us.region] << ",i" << i << ',' << it.title << ','
          << kCategoryNames[it.category % 12] << ',' << brand_name[it.brand] << ',' << s << ',' << click << ','
          << prob_buf << '\n';
    }
    out.flush();
    if (!out) throw WriteError("cannot write " + csv_path + ": " + std::strerror(errno));
  });
}

std::string synthetic_spec_yaml(const std::string& name, const std::string& csv_path) {
  return "# Written by `clickprompt data synth`: the synthetic CTR world (docs/synthetic.md).\n"
         "name: " + name + "\n"
         "format: csv\n"
         "path: " + csv_path + "\n"
         "fields:\n"
         "  - {name: user_id, display: User ID}\n"
         "  - {name: age, display: Age}\n"
         "  - {name: region, display: Region}\n"
         "  - {name: item_id, display: Item ID}\n"
         "  - {name: title, display: Title}\n"
         "  - {name: category, display: Category}\n"
         "  - {name: brand, display: Brand}\n"
         "label: {column: click}\n"
         "prob_column: prob\n"
         "user_field: user_id\n"
         "item_field: item_id\n"
         "split: {kind: random, ratios: [0.8, 0.1, 0.1], seed: 2024}\n";
}

}  // namespace clickprompt::data
