#include "data/table.h"

namespace clickprompt::data {

uint32_t StringColumn::intern(std::string_view v) {
  // Debian's Abseil has its own string_view type (built for C++14).
  auto it = index_.find(absl::string_view(v.data(), v.size()));
  if (it != index_.end()) return it->second;
  uint32_t code = static_cast<uint32_t>(values.size());
  values.emplace_back(v);
  index_.emplace(values.back(), code);
  return code;
}

std::vector<std::string> RawTable::column_names() const {
  std::vector<std::string> out;
  for (const auto& kv : strings) out.push_back(kv.first);
  for (const auto& kv : numbers) out.push_back(kv.first);
  return out;
}

}  // namespace clickprompt::data
