#pragma once
// What a CTR model needs to know about its input: F fields whose ids are
// global (per-field offsets already added) into one table of `vocab_size` rows.
#include <cstdint>
#include <string>
#include <vector>

namespace clickprompt::ctr {

struct FeatureInfo {
  int num_fields = 0;
  int64_t vocab_size = 0;
  std::vector<int64_t> field_offsets;  // first global id of each field
  std::vector<int64_t> field_sizes;    // ids per field, OOV included
  std::vector<std::string> field_names;
  // Slots per field (empty or all 1: one id per field). A multi-valued field's
  // ids fill `width` consecutive slots; FeatureEmbedding and LinearTerm pool them.
  std::vector<int64_t> field_widths;
  int64_t num_slots() const {
    int64_t n = 0;
    for (auto w : field_widths) n += w;
    return field_widths.empty() ? num_fields : n;
  }
  bool has_multi() const { return num_slots() != num_fields; }
};

}  // namespace clickprompt::ctr
