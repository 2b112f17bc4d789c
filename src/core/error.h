#pragma once
// Errors a user can act on. Every failure that comes from input (files, rows,
// configs, names) is an Error whose message says where and what was expected.
#include <stdexcept>
#include <string>

namespace clickprompt {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace clickprompt
