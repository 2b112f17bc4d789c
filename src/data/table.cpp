#include "data/table.h"

namespace clickprompt::data {

uint32_t StringColumn::intern(const std::string& v) {
  auto it = index_.find(v);
  if (it != index_.end()) return it->second;
  uint32_t code = static_cast<uint32_t>(values.size());
  values.push_back(v);
  index_.emplace(v, code);
  return code;
}

std::vector<std::string> RawTable::column_names() const {
  std::vector<std::string> out;
  for (const auto& kv : strings) out.push_back(kv.first);
  for (const auto& kv : numbers) out.push_back(kv.first);
  return out;
}

}  // namespace clickprompt::data
