#pragma once
// A small, fully known CTR world (docs/synthetic.md): users with topic
// preferences, items with Zipf popularity whose titles are drawn from latent
// topics, clicks ~ Bernoulli(sigmoid(true logit)). The title words reveal an
// item's topic even for items seen a handful of times, which an ID model cannot
// learn but a language model reading the text can.
#include <cstdint>
#include <string>

namespace clickprompt::data {

struct SyntheticOptions {
  int64_t samples = 200000;
  int users = 2000;
  int items = 4000;
  int topics = 16;
  int categories = 4;         // coarse: each category groups topics/categories topics
  int brands = 64;
  int words_per_topic = 24;
  int generic_words = 200;
  double item_zipf = 1.1;     // item popularity exponent (long tail)
  double user_zipf = 0.6;     // user activity exponent
  double topic_weight = 2.0;  // scale of the user x topic affinity in the logit
  double topic_word_prob = 0.8;
  uint64_t seed = 42;
};

// Writes a CSV with columns user_id, age, region, item_id, title, category,
// brand, timestamp, click, prob (the true click probability).
void write_synthetic(const SyntheticOptions& opt, const std::string& csv_path);
// The dataset spec (YAML text) for such a CSV.
std::string synthetic_spec_yaml(const std::string& name, const std::string& csv_path);

}  // namespace clickprompt::data
