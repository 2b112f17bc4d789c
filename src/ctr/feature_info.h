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
};

}  // namespace clickprompt::ctr
